"""What the real ``voki-tui`` costs a terminal link and a CPU, measured from outside in a pty.

- ``terminal_bytes_per_s``: ``voki-tui --demo`` (its embedded voki-sim is a child process with
  its own CPU; the demo's natural pace, clocks ticking) at 120x40 and 200x60, on the queue
  screen (``u``) and on the wallboard (``--wallboard``); with ``full_repaint_ratio`` = bytes /
  (one full screen's bytes x frames written), see ``pty_meter``.
- ``cpu_percent_steady``: the app on the queue screen against a separate voki-sim whose
  synthetic stream runs at 1 and at 100 events/s (4 departments, all watched).
- ``time_to_first_live_s``: from exec of ``voki-tui --demo`` to the first frame showing
  "● live" (includes starting the embedded simulator and logging in).
"""

from __future__ import annotations

import time
from typing import Any

from benchmarks.app_pty import app_argv, app_env, voki_tui, wait_for_text
from benchmarks.pty_meter import PtyChild, PtyMeasurement, measure
from voki_tui.sim.testing import SimProcess

LIVE = "● live".encode()
SIZES = ((120, 40), (200, 60))


def _row(m: PtyMeasurement) -> dict[str, Any]:
    ratio = m.full_repaint_ratio
    return {
        "bytes_per_s": round(m.bytes_per_s),
        "frames_per_s": round(m.frames / m.seconds, 2) if m.seconds else None,
        "full_screen_bytes": m.full_screen_bytes,
        "full_repaint_ratio": None if ratio is None else round(ratio, 3),
        "cpu_percent": round(m.cpu_percent, 2),
        "rss_mb": round(m.rss_mb, 1),
        "seconds": round(m.seconds, 1),
    }


def terminal_bytes(measure_s: float, warmup_s: float) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for cols, rows in SIZES:
        for screen, extra, keys in (
            ("queue", (), (b"u",)),
            ("wallboard", ("--wallboard",), ()),
        ):
            with app_env() as env:
                m = measure(
                    [*voki_tui(), "--demo", *extra],
                    cols=cols,
                    rows=rows,
                    warmup_s=warmup_s,
                    measure_s=measure_s,
                    env=env,
                    before_measure=keys,
                )
            out[f"{screen}_{cols}x{rows}"] = _row(m)
    return out


def cpu_steady(rate: float, measure_s: float, warmup_s: float) -> dict[str, Any]:
    with SimProcess(departments=4, paused=True) as sim, app_env() as env:
        sim.control("POST", f"rate?events_per_second={rate}")
        sim.control("POST", "resume")
        m = measure(
            app_argv(sim.url),
            cols=120,
            rows=40,
            warmup_s=warmup_s,
            measure_s=measure_s,
            env=env,
            before_measure=(b"u",),
        )
    return _row(m)


def time_to_first_live(tries: int) -> float | None:
    best: float | None = None
    for _ in range(tries):
        with app_env() as env:
            started = time.monotonic()
            child = PtyChild([*voki_tui(), "--demo"], 120, 40, env)
            try:
                at, _ = wait_for_text(child, [LIVE], 60)
            finally:
                child.stop()
        if at is not None:
            best = at - started if best is None else min(best, at - started)
    return best


def run(*, quick: bool = False) -> dict[str, Any]:
    measure_s, warmup_s = (6.0, 4.0) if quick else (60.0, 8.0)
    screens = terminal_bytes(measure_s, warmup_s)
    cpu_s = 8.0 if quick else 60.0
    cpu = {str(int(r)): cpu_steady(r, cpu_s, warmup_s) for r in (1.0, 100.0)}
    return {
        "terminal": screens,
        "terminal_bytes_per_s": {k: v["bytes_per_s"] for k, v in screens.items()},
        "full_repaint_ratio": {k: v["full_repaint_ratio"] for k, v in screens.items()},
        "cpu_steady": cpu,
        "cpu_percent_steady": {k: v["cpu_percent"] for k, v in cpu.items()},
        "time_to_first_live_s": time_to_first_live(1 if quick else 3),
    }


if __name__ == "__main__":
    import argparse
    import json

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    print(json.dumps(run(quick=args.quick), indent=2))
