"""Frames per second through voki-tui's sans-I/O core, phoenix.js, and Supabase's ``realtime``.

All three apply the same recorded voki-sim stream (:func:`benchmarks.stream.record`), with no
socket in the timed part:

- ``core_frames_per_s``: ``phoenix.core.Client.on_text`` (decode, join_ref filter, dispatch) +
  ``PresenceTracker`` + the feed's reducers (payload parsing, ``DepartmentBook``): everything the
  feed does with a frame.
- ``core_protocol_frames_per_s``: the same without the reducers: decode, dispatch and presence
  sync, which is the work phoenix.js does.
- ``phoenix_js_frames_per_s``: phoenix.js 1.8 in node, ``Socket.onConnMessage`` -> decode ->
  ``Channel.trigger`` -> ``Presence.syncDiff`` for presence, a no-op callback for queue events
  (see ``phoenix_js.mjs``).
- ``..._stdlib_json``: the same two with ``frames.fast_loads`` set to the stdlib fallback (what
  an install without orjson runs): the before/after of orjson, from the same run.
- ``core_protocol_vs_phoenix_js``: ``core_protocol_frames_per_s`` / ``phoenix_js_frames_per_s``
  (target: >= 1.0, the same work counted on both sides).
- ``--profile``: cProfile of the protocol path, the top functions by own time, printed.
- ``realtime_frames_per_s``: Supabase ``realtime`` (the most downloaded Python Phoenix client),
  if a separate venv with it is given (``--realtime-python``; it pins ``websockets<16``, so it
  cannot live in ours). It speaks only V1, so it gets the same frames re-encoded as V1 objects;
  its pydantic message union knows no custom events, so queue events fail validation (it logs
  and drops them) and only presence does the same work. See ``realtime_replay.py``.
"""

from __future__ import annotations

import contextlib
import cProfile
import io
import json
import pstats
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks import stream
from voki_tui.phoenix import frames as codec

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "tests" / "node" / "node_modules"


@contextlib.contextmanager
def stdlib_json() -> Iterator[None]:
    """The core's hot-path parser set to the stdlib fallback for the duration."""
    fast = codec.fast_loads
    codec.fast_loads = codec._scan_whole
    try:
        yield
    finally:
        codec.fast_loads = fast


def profile(recording: stream.Recording, repeat: int, top: int = 15) -> str:
    """The protocol path under cProfile: the ``top`` functions by their own time."""
    profiler = cProfile.Profile()
    profiler.enable()
    stream.replay(recording, reducers=False, repeat=repeat)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


def python_rate(recording: stream.Recording, *, reducers: bool, repeat: int) -> float:
    best = 0.0
    for _ in range(3):  # best of three: the machine is shared
        frames, seconds = stream.replay(recording, reducers=reducers, repeat=repeat)
        best = max(best, frames / seconds)
    return best


def node_rate(recording_path: Path, repeat: int) -> dict[str, Any] | None:
    node = shutil.which("node")
    if node is None or not (NODE_MODULES / "phoenix").exists():
        return None
    best: dict[str, Any] | None = None
    for _ in range(3):
        out = subprocess.run(
            [
                node,
                str(ROOT / "benchmarks" / "phoenix_js.mjs"),
                str(NODE_MODULES),
                str(recording_path),
                str(repeat),
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=300,
        )
        result: dict[str, Any] = json.loads(out.stdout)
        result["frames_per_s"] = result["frames"] / result["seconds"]
        if best is None or result["frames_per_s"] > best["frames_per_s"]:
            best = result
    return best


def realtime_rate(python: str, recording_path: Path, repeat: int) -> dict[str, Any] | None:
    script = ROOT / "benchmarks" / "realtime_replay.py"
    try:
        out = subprocess.run(
            [python, str(script), str(recording_path), str(repeat)],
            capture_output=True,
            text=True,
            check=True,
            timeout=600,
        )
    except (OSError, subprocess.CalledProcessError) as exc:
        return {"error": str(exc)}
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def python_presence_keys(recording: stream.Recording) -> int:
    ids = sorted({t.partition(":")[2] for t in recording.topics})
    pipeline = stream.Pipeline(ids, reducers=False)
    for topic, payload in recording.presence_states.items():
        pipeline.presence_state(topic, payload, stream.T0)
    for text in recording.frames:
        pipeline.feed(text, stream.T0)
    return sum(len(t.state) for t in pipeline.trackers.values())


def run(
    *, frames: int = 20_000, repeat: int = 5, realtime_python: str | None = None
) -> dict[str, Any]:
    recording = stream.record(frames)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "recording.json"
        path.write_text(recording.dump(), encoding="utf-8")
        js = node_rate(path, repeat)
        rt = realtime_rate(realtime_python, path, repeat) if realtime_python else None
    kinds: dict[str, int] = {}
    for text in recording.frames:
        event = json.loads(text)[3]
        kinds[event] = kinds.get(event, 0) + 1
    protocol = python_rate(recording, reducers=False, repeat=repeat)
    with stdlib_json():
        protocol_stdlib = python_rate(recording, reducers=False, repeat=repeat)
        full_stdlib = python_rate(recording, reducers=True, repeat=repeat)
    result: dict[str, Any] = {
        "recorded_frames": len(recording.frames),
        "recorded_kinds": kinds,
        "core_frames_per_s": round(python_rate(recording, reducers=True, repeat=repeat)),
        "core_frames_per_s_stdlib_json": round(full_stdlib),
        "core_protocol_frames_per_s": round(protocol),
        "core_protocol_frames_per_s_stdlib_json": round(protocol_stdlib),
        "phoenix_js_frames_per_s": round(js["frames_per_s"]) if js else None,
        "core_protocol_vs_phoenix_js": round(protocol / js["frames_per_s"], 2) if js else None,
        "core_protocol_vs_phoenix_js_stdlib_json": (
            round(protocol_stdlib / js["frames_per_s"], 2) if js else None
        ),
        "fast_json": "orjson" if codec.orjson is not None else "stdlib",
        "presence_keys_python": python_presence_keys(recording),
        "presence_keys_phoenix_js": js["presence_keys"] if js else None,
    }
    if rt is not None:
        result["realtime_frames_per_s"] = (
            round(rt["frames_per_s"]) if "frames_per_s" in rt else None
        )
        result["realtime_detail"] = rt
    return result


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--realtime-python", help="python of a venv with `realtime` installed")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the core")
    args = parser.parse_args()
    if args.profile:
        recording = stream.record(args.frames)
        print(profile(recording, args.repeat))
        with stdlib_json():
            print(profile(recording, args.repeat))
    print(
        json.dumps(
            run(frames=args.frames, repeat=args.repeat, realtime_python=args.realtime_python),
            indent=2,
        )
    )
