"""Frame streams for the core benchmarks, and the pipeline that applies them without sockets.

Two sources of frames, both in voki-sim's exact wire shapes (V2 JSON arrays):

- :func:`record` captures a real stream from a voki-sim subprocess (every department's
  ``queue:`` and ``presence:`` topic, the synthetic scenario at a fixed rate). The core speed
  comparison replays that recording, byte for byte, in Python and in node.
- :func:`synthetic_frames` generates an endless stream with unique call ids and fresh
  ``phx_ref``\\ s (customers join, then leave or are assigned; agents change status with the
  ``phx_ref_prev`` join+leave diff Phoenix sends), with a queue that stays bounded. A replayed
  recording would repeat ids, which hides leaks; the memory benchmark needs fresh ones.

:class:`Pipeline` is the feed's receive path without I/O: ``phoenix.core.Client.on_text`` (decode,
join_ref filter, channel dispatch), ``PresenceTracker.handle`` and the ``DepartmentBook``
reducers, fed with a caller-supplied clock. It mirrors ``LiveFeed._on_message`` so that its
cost is the feed's cost minus the socket.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from websockets.asyncio.client import connect

from voki_tui.live import wire
from voki_tui.live.book import DepartmentBook
from voki_tui.live.state import Department
from voki_tui.phoenix import core
from voki_tui.phoenix.presence import PresenceTracker
from voki_tui.sim.testing import SimProcess

TENANT, PASSWORD, EMAIL = "demo", "voki-demo-pass", "manager@demo.test"
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@dataclass
class Recording:
    """Per-topic ``presence_state`` payloads (taken at join) and the broadcast frames after."""

    topics: list[str]
    presence_states: dict[str, Any]
    frames: list[str] = field(default_factory=list)

    def dump(self) -> str:
        return json.dumps(
            {"topics": self.topics, "presence_states": self.presence_states, "frames": self.frames}
        )


def login(base: str, email: str = EMAIL) -> str:
    response = httpx.post(
        f"{base}/api/auth/login",
        json={"email": email, "password": PASSWORD, "tenant": TENANT},
        timeout=10,
    )
    response.raise_for_status()
    body = response.json()
    return str(body.get("data", body)["access_token"])


def department_ids(sim: SimProcess) -> list[str]:
    return sim.department_ids()


async def _record(sim: SimProcess, frames: int, rate: float) -> Recording:
    token = login(sim.url)
    topics = [f"{kind}:{d}" for d in department_ids(sim) for kind in ("queue", "presence")]
    recording = Recording(topics, {})
    url = f"{sim.ws_url}?token={token}&vsn=2.0.0"
    async with connect(url, max_size=None, ping_interval=None) as ws:
        for n, topic in enumerate(topics, 1):
            await ws.send(json.dumps([str(n), str(n), topic, "phx_join", {}]))
        states_owed = sum(t.startswith("presence:") for t in topics)
        while len(recording.presence_states) < states_owed:
            frame = json.loads(await asyncio.wait_for(ws.recv(), 30))
            if frame[3] == "presence_state":
                recording.presence_states[frame[2]] = frame[4]
        sim.control("POST", f"rate?events_per_second={rate}")
        sim.control("POST", "resume")
        while len(recording.frames) < frames:
            text = await asyncio.wait_for(ws.recv(), 30)
            assert isinstance(text, str)
            if json.loads(text)[0] is None:  # broadcasts only: replies are per-connection
                recording.frames.append(text)
        sim.control("POST", "pause")
    return recording


def record(frames: int = 20_000, rate: float = 2000.0, departments: int = 4) -> Recording:
    """``frames`` broadcast frames from a fresh voki-sim subprocess (scenario paused until then)."""
    with SimProcess(departments=departments, paused=True) as sim:
        return asyncio.run(_record(sim, frames, rate))


# ---------------------------------------------------------------------------- the pipeline


class Pipeline:
    """The feed's receive path for some departments, no sockets; ``feed(text, now)`` per frame."""

    def __init__(self, department_ids: list[str], *, reducers: bool = True) -> None:
        self.client = core.Client()
        self.reducers = reducers
        self.books = {d: DepartmentBook(Department(id=d, name=f"Dept {d}")) for d in department_ids}
        self.trackers = {d: PresenceTracker() for d in department_ids}
        self.messages = 0
        self.invalid = 0
        for d in department_ids:
            self.client.join(f"queue:{d}")
            self.client.join(f"presence:{d}")
        self.client.connect()
        self.client.on_open(0.0)
        for output in self.client.drain():
            if isinstance(output, core.SendText):
                join_ref, ref, topic, event, _ = json.loads(output.text)
                if event == "phx_join":
                    reply = [join_ref, ref, topic, "phx_reply", {"status": "ok", "response": {}}]
                    self.client.on_text(0.0, json.dumps(reply))
        self._dispatch(T0)

    def presence_state(self, topic: str, payload: Mapping[str, Any], now: datetime) -> None:
        """Deliver ``presence_state`` as the server does right after the join (own join_ref)."""
        frame = [self.client.join_ref(topic), None, topic, "presence_state", payload]
        self.feed(json.dumps(frame), now)

    def feed(self, text: str, now: datetime) -> None:
        self.client.on_text(0.0, text)
        self._dispatch(now)

    def _dispatch(self, now: datetime) -> None:
        for output in self.client.drain():
            if isinstance(output, core.ChannelJoined) and output.topic.startswith("presence:"):
                self.trackers[output.topic.partition(":")[2]].joined(output.join_ref)
            elif isinstance(output, core.Message):
                self.messages += 1
                self._message(output, now)

    def _message(self, message: core.Message, now: datetime) -> None:
        kind, _, ident = message.topic.partition(":")
        if kind == "presence":
            change = self.trackers[ident].handle(message.event, message.payload, message.join_ref)
            if change is None or not self.reducers:
                return
            book = self.books[ident]
            if change.from_state:
                book.set_presence(change.state)
            else:
                keys = {k for k, _, _ in change.joins} | {k for k, _, _ in change.leaves}
                book.update_presence(change.state, keys)
            return
        if not self.reducers:
            return
        parser = wire.QUEUE_PARSERS.get(message.event)
        if parser is None:
            return
        book = self.books[ident]
        try:
            event = parser(message.payload, ident, now)
        except wire.InvalidPayload:
            self.invalid += 1
            return
        book.apply(event, now)


def replay(recording: Recording, *, reducers: bool = True, repeat: int = 1) -> tuple[int, float]:
    """Apply the recording ``repeat`` times; returns (frames, seconds of the timed part)."""
    import time

    ids = sorted({t.partition(":")[2] for t in recording.topics})
    pipeline = Pipeline(ids, reducers=reducers)
    for topic, payload in recording.presence_states.items():
        pipeline.presence_state(topic, payload, T0)
    clock = [T0 + timedelta(milliseconds=i) for i in range(len(recording.frames))]
    started = time.perf_counter()
    for _ in range(repeat):
        for text, now in zip(recording.frames, clock, strict=True):
            pipeline.feed(text, now)
    elapsed = time.perf_counter() - started
    return len(recording.frames) * repeat, elapsed


# ---------------------------------------------------------------------------- synthetic stream


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class _Agent:
    key: str
    name: str
    status: str = "available"
    ref: str = ""


def synthetic_frames(
    departments: int = 4, agents_per_department: int = 10, seed: int = 7, step_s: float = 0.01
) -> Iterator[tuple[str, datetime]]:
    """An endless stream of ``(frame text, now)``: queue events and presence diffs, fresh ids.

    The clock advances ``step_s`` per frame (accelerated: 1,000,000 frames cover 2.8 hours at
    the default, past the one-hour metrics window, so every prune path runs).
    """
    rng = random.Random(seed)
    refs = itertools.count(1)
    calls = itertools.count(1)
    waiting: dict[int, list[str]] = {d: [] for d in range(1, departments + 1)}
    staff = {
        d: [_Agent(str(d * 1000 + i), f"Agent {d}-{i}") for i in range(agents_per_department)]
        for d in waiting
    }
    for n in itertools.count():
        now = T0 + timedelta(seconds=n * step_s)
        dept = rng.randint(1, departments)
        queue = waiting[dept]
        if rng.random() < 0.3:
            agent = rng.choice(staff[dept])
            old = {"metas": [_meta(agent, now)]} if agent.ref else None
            agent.status = rng.choice(("available", "away", "in_call", "break"))
            prev, agent.ref = agent.ref, f"ref{next(refs):012d}"
            joins = {agent.key: {"metas": [{**_meta(agent, now), "phx_ref_prev": prev}]}}
            leaves = {agent.key: old} if old else {}
            frame: list[Any] = [
                None,
                None,
                f"presence:{dept}",
                "presence_diff",
                {"joins": joins, "leaves": leaves},
            ]
        elif len(queue) < 3 or (len(queue) < 12 and rng.random() < 0.5):
            call_id = f"call-{next(calls)}"
            queue.append(call_id)
            payload = {
                "call_id": call_id,
                "department_id": dept,
                "customer_name": f"Customer {call_id}",
                "customer_email": f"{call_id}@example.test",
                "customer_phone": "+55 11 5555-0100",
                "reason": "billing",
                "position": len(queue),
                "queued_at": _iso(now),
                "estimated_wait_time": 60 * len(queue),
            }
            frame = [None, None, f"queue:{dept}", "customer_joined", payload]
        elif rng.random() < 0.5:
            call_id = queue.pop(0)
            payload = {"call_id": call_id, "department_id": dept, "reason": "abandoned"}
            frame = [None, None, f"queue:{dept}", "customer_left", payload]
        else:
            call_id = queue.pop(0)
            agent = rng.choice(staff[dept])
            payload = {
                "call_id": call_id,
                "department_id": dept,
                "user_id": int(agent.key),
                "user_name": agent.name,
                "assigned_at": _iso(now),
            }
            frame = [None, None, f"queue:{dept}", "call_assigned", payload]
        yield json.dumps(frame), now


def _meta(agent: _Agent, now: datetime) -> dict[str, Any]:
    return {
        "name": agent.name,
        "role": "attendant",
        "status": agent.status,
        "since": _iso(now),
        "call_id": None,
        "phx_ref": agent.ref,
    }
