"""Supabase ``realtime`` (2.x) applying a recorded voki-sim stream; run with a venv that has it.

Usage: ``/path/to/venv/bin/python benchmarks/realtime_replay.py RECORDING.json REPEAT``; prints
one JSON line. It does what ``AsyncRealtimeClient._listen`` + ``AsyncRealtimeChannel
._handle_message`` do per frame, minus the socket and the log calls: validate the frame with
``ServerMessageAdapter.validate_json`` (pydantic) and hand presence events to the topic's
``AsyncRealtimePresence``. realtime speaks only V1 (``{"topic", "event", "payload", "ref"}``
objects), so the V2 arrays are re-encoded as V1 before the clock starts. Its message union knows
Supabase's events only: ``customer_joined`` and friends fail validation and are dropped
(``rejected`` counts them), so only the presence part does the same work as the other clients.
This file imports nothing from voki_tui: it runs in another interpreter.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from pydantic import ValidationError
from realtime._async.presence import AsyncRealtimePresence  # type: ignore[import-not-found]
from realtime.message import (  # type: ignore[import-not-found]
    PresenceDiffMessage,
    PresenceStateMessage,
    ServerMessageAdapter,
)


def v1(frame: list[Any]) -> str:
    _join_ref, ref, topic, event, payload = frame
    return json.dumps({"topic": topic, "event": event, "payload": payload, "ref": ref})


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as handle:
        recording = json.load(handle)
    repeat = int(sys.argv[2])
    presences = {t: AsyncRealtimePresence() for t in recording["topics"] if t.startswith("pres")}
    for topic, state in recording["presence_states"].items():
        presences[topic]._on_state_event(state)
    frames = [v1(json.loads(text)) for text in recording["frames"]]
    rejected = 0
    started = time.perf_counter()
    for _ in range(repeat):
        for text in frames:
            try:
                message = ServerMessageAdapter.validate_json(text)
            except ValidationError:
                rejected += 1
                continue
            if isinstance(message, PresenceDiffMessage):
                presences[message.topic]._on_diff_event(message.payload)
            elif isinstance(message, PresenceStateMessage):
                presences[message.topic]._on_state_event(message.payload)
    seconds = time.perf_counter() - started
    total = len(frames) * repeat
    print(
        json.dumps(
            {
                "frames": total,
                "seconds": seconds,
                "frames_per_s": total / seconds,
                "rejected": rejected,
                "presence_keys": sum(len(p.state) for p in presences.values()),
            }
        )
    )


if __name__ == "__main__":
    main()
