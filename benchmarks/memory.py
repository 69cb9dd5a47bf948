"""Resident memory growth over a million events through the feed's receive path, clock accelerated.

A fresh interpreter (so nothing else is resident) runs :class:`benchmarks.stream.Pipeline`
(phoenix core decode + dispatch, ``PresenceTracker``, ``DepartmentBook`` reducers) over
:func:`benchmarks.stream.synthetic_frames`: unique call ids and fresh ``phx_ref``\\ s, the clock
advancing 10 ms per frame so a million frames span 2.8 hours and the one-hour metrics window
and the finished-call memory both reach their steady size. It also takes a ``view(now)`` of
every department every 1,000 frames, as the feed's publisher does. ``rss_growth_mb`` = VmRSS
after N events minus VmRSS after a 10,000-event warm-up (``gc.collect()`` before each reading).
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from typing import Any

from benchmarks import stream
from benchmarks.pty_meter import rss_mb

DEPARTMENTS = 4
WARMUP = 10_000


def _measure(events: int) -> dict[str, Any]:
    import os
    import time

    ids = [str(d) for d in range(1, DEPARTMENTS + 1)]
    pipeline = stream.Pipeline(ids)
    for d in ids:
        pipeline.presence_state(f"presence:{d}", {}, stream.T0)
    frames = stream.synthetic_frames(DEPARTMENTS)
    pid = os.getpid()
    readings: list[tuple[int, float]] = []
    started = time.perf_counter()
    for n, (text, now) in enumerate(frames, 1):
        pipeline.feed(text, now)
        if n % 1000 == 0:
            for book in pipeline.books.values():
                book.view(now)
        if n in (WARMUP, events // 2, events) or n % 100_000 == 0:
            gc.collect()
            readings.append((n, rss_mb(pid)))
        if n == events:
            break
    seconds = time.perf_counter() - started
    base = next(mb for n, mb in readings if n == WARMUP)
    return {
        "events": events,
        "rss_after_warmup_mb": round(base, 2),
        "rss_after_mb": round(readings[-1][1], 2),
        "rss_growth_mb": round(readings[-1][1] - base, 2),
        "rss_growth_mb_per_million": round((readings[-1][1] - base) * 1e6 / (events - WARMUP), 2),
        # after the window and the finished-call memory are full: the leak indicator
        "rss_growth_mb_second_half": round(readings[-1][1] - _at(readings, events // 2), 2),
        "readings": readings,
        "waiting_at_end": sum(len(b.queue) for b in pipeline.books.values()),
        "finished_remembered": sum(b.queue.finished_count() for b in pipeline.books.values()),
        "events_per_s": round(events / seconds),
        "invalid_payloads": pipeline.invalid,
    }


def _at(readings: list[tuple[int, float]], n: int) -> float:
    """The reading taken at or just before event ``n``."""
    return max((r for r in readings if r[0] <= n), key=lambda r: r[0])[1]


def run(*, quick: bool = False) -> dict[str, Any]:
    events = 200_000 if quick else 1_000_000
    out = subprocess.run(  # a fresh process: nothing else resident
        [sys.executable, "-m", "benchmarks.memory", "--events", str(events), "--child"],
        capture_output=True,
        text=True,
        check=True,
        timeout=1800,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--child", action="store_true", help="measure in this process")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_measure(args.events)))
    else:
        print(json.dumps(run(quick=args.events < 1_000_000), indent=2))
