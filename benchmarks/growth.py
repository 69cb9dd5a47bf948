"""Resident memory of a wallboard left running at 100 events/s, and what the growth is made of.

The real ``voki-tui --wallboard`` on a 200x60 pty against voki-sim (its own process, 4
departments, synthetic stream at 100 events/s). Phase 1 (``--minutes``): VmRSS sampled every
10 s; ``rss_growth_mb`` is the last sample minus the one after the warm-up (issue 11's target:
<= 5 MB over an hour, so ``python -m benchmarks`` runs it for 60 minutes), and
``rss_mb_per_hour`` the slope of a least-squares line through the samples after it (steeper
than the hour's growth in a short run: the bounded caches fill in the first minutes). Phase 2
(``--trace-minutes``): on ``SIGUSR1`` (a handler the launcher installs before the CLI runs; no
change to the app) the app starts ``tracemalloc``, one minute later dumps snapshot A, and at
the end snapshot B (tracing itself costs about 20 MB of RSS). ``alive`` is B by line: what was
allocated while tracing and is still alive (growth, and whatever bounded cache entry or frame
happens to be current). ``grew`` is B minus A by line: the net growth between the two dumps.
It is not all growth: a bounded structure filled before tracing began (the finished-call ids,
2,000 a department) shows as grown while its untraced entries are replaced by traced ones;
a count of live objects (``gc.get_objects``) at two moments tells the two apart.
``tracebacks`` are the largest growths of B minus A with their callers.
"""

from __future__ import annotations

import os
import signal
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

from benchmarks.app_pty import app_env, wait_for_text
from benchmarks.pty_meter import PtyChild, rss_mb
from voki_tui.sim.testing import SimProcess

LIVE = "● live".encode()
SAMPLE_S = 10.0
WARMUP_S = 30.0

#: Runs the CLI with a SIGUSR1 handler: the first signal starts tracemalloc, each later one
#: dumps a snapshot to the next path of ``sys.argv[1]`` (comma-separated).
_LAUNCHER = (
    "import signal, sys, tracemalloc\n"
    "paths = sys.argv[1].split(',')\n"
    "def on_signal(signum, frame):\n"
    "    if tracemalloc.is_tracing():\n"
    "        tracemalloc.take_snapshot().dump(paths.pop(0))\n"
    "    else:\n"
    "        tracemalloc.start(12)\n"
    "signal.signal(signal.SIGUSR1, on_signal)\n"
    "from voki_tui.cli import main\n"
    "sys.exit(main(sys.argv[2:]))\n"
)
_NOISE = (
    tracemalloc.Filter(False, tracemalloc.__file__),
    tracemalloc.Filter(False, "<frozen importlib._bootstrap>"),
    tracemalloc.Filter(False, "<frozen importlib._bootstrap_external>"),
)


def slope_per_hour(samples: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of (seconds, MB), in MB per hour."""
    if len(samples) < 3:
        return None
    n = len(samples)
    mean_t = sum(t for t, _ in samples) / n
    mean_m = sum(m for _, m in samples) / n
    var = sum((t - mean_t) ** 2 for t, _ in samples)
    if not var:
        return None
    cov = sum((t - mean_t) * (m - mean_m) for t, m in samples)
    return 3600.0 * cov / var


def _where(trace: tracemalloc.Traceback) -> str:
    return str(trace[0]).replace(str(Path(sys.prefix)), "<venv>")


def diff(first: Path, last: Path, top: int = 15) -> dict[str, Any]:
    before = tracemalloc.Snapshot.load(str(first)).filter_traces(_NOISE)
    after = tracemalloc.Snapshot.load(str(last)).filter_traces(_NOISE)
    alive = after.statistics("lineno")
    grew = after.compare_to(before, "lineno")
    grew_traces = after.compare_to(before, "traceback")
    return {
        "alive_mb": round(sum(s.size for s in alive) / 2**20, 2),
        "grew_mb": round(sum(s.size_diff for s in grew) / 2**20, 2),
        "alive": [
            {"where": _where(s.traceback), "kb": round(s.size / 1024, 1), "blocks": s.count}
            for s in alive[:top]
        ],
        "grew": [
            {
                "where": _where(s.traceback),
                "kb": round(s.size_diff / 1024, 1),
                "blocks": s.count_diff,
            }
            for s in grew[:top]
        ],
        "tracebacks": [
            {
                "kb": round(s.size_diff / 1024, 1),
                "blocks": s.count_diff,
                "stack": s.traceback.format()[-16:],
            }
            for s in grew_traces[:4]
        ],
    }


def run(
    *, minutes: float = 10.0, trace_minutes: float = 3.0, rate: float = 100.0
) -> dict[str, Any]:
    samples: list[tuple[float, float]] = []
    with SimProcess(departments=4, paused=True) as sim, app_env() as env:
        folder = Path(tempfile.mkdtemp(prefix="voki-growth-"))
        first, last = folder / "first.snapshot", folder / "last.snapshot"
        argv = [
            sys.executable,
            "-c",
            _LAUNCHER,
            f"{first},{last}",
            "--server",
            sim.url,
            "--tenant",
            "demo",
            "--email",
            "supervisor@demo.test",
            "--wallboard",
        ]
        child = PtyChild(argv, 200, 60, env)
        try:
            at, _ = wait_for_text(child, [LIVE], 60)
            if at is None:
                raise RuntimeError("the wallboard never went live")
            sim.control("POST", f"rate?events_per_second={rate}")
            sim.control("POST", "resume")
            started = time.monotonic()
            end = started + WARMUP_S + 60.0 * minutes
            while (now := time.monotonic()) < end:
                child.read_for(SAMPLE_S)
                samples.append((now - started, rss_mb(child.pid)))
            os.kill(child.pid, signal.SIGUSR1)  # start tracing
            child.read_for(60.0)
            for snapshot in (first, last):
                os.kill(child.pid, signal.SIGUSR1)
                deadline = time.monotonic() + 120
                while not snapshot.exists() and time.monotonic() < deadline:
                    child.read_for(1.0)
                child.read_for(2.0)  # the dump is written in one go; let it finish
                if snapshot is first:
                    child.read_for(60.0 * trace_minutes)
            traced_rss = rss_mb(child.pid)
            events = sim.state()["events_sent"]
        finally:
            child.stop()
        done = first.exists() and last.exists()
        found = diff(first, last) if done else {"error": "a snapshot is missing"}
    after_warmup = [(t, m) for t, m in samples if t >= WARMUP_S]
    return {
        "rate": rate,
        "events_sent": events,
        "minutes": minutes,
        "rss_samples_mb": [[round(t), round(m, 1)] for t, m in samples],
        "rss_after_warmup_mb": round(after_warmup[0][1], 1) if after_warmup else None,
        "rss_end_mb": round(samples[-1][1], 1) if samples else None,
        "rss_growth_mb": (
            round(after_warmup[-1][1] - after_warmup[0][1], 1) if after_warmup else None
        ),
        "rss_mb_per_hour": (
            None if (slope := slope_per_hour(after_warmup)) is None else round(slope, 1)
        ),
        "rss_mb_while_tracing": round(traced_rss, 1),
        "trace_minutes": trace_minutes,
        "traced_growth": found,
    }


if __name__ == "__main__":
    import argparse
    import json

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--trace-minutes", type=float, default=3.0)
    parser.add_argument("--rate", type=float, default=100.0)
    args = parser.parse_args()
    print(
        json.dumps(
            run(minutes=args.minutes, trace_minutes=args.trace_minutes, rate=args.rate), indent=2
        )
    )
