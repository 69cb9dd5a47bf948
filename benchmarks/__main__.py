"""``python -m benchmarks [--quick] [--json PATH] [--only NAME...] | --merge JSON...``: one table.

Figures, not tests: nothing here fails on a missed budget; the table marks it. voki-sim always
runs as its own process, so CPU figures are the app's own. ``--quick`` shortens every window
(under ~3 minutes in all); the full run takes about two hours (the cost section's three
rounds of 60 s windows, and an hour of the wallboard for its memory growth).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

from benchmarks import core_speed, cost, growth, latency, memory, scale, terminal

REALTIME_PYTHON = os.environ.get("VOKI_BENCH_REALTIME_PYTHON")


def machine() -> dict[str, Any]:
    model = "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            model = next(
                (line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")),
                model,
            )
    except OSError:
        pass
    node = shutil.which("node")
    node_version = (
        subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip()
        if node
        else None
    )
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "textual": metadata.version("textual"),
        "websockets": metadata.version("websockets"),
        "node": node_version,
        "platform": platform.platform(),
        "load_avg_at_start": os.getloadavg(),
    }


def _core(quick: bool) -> dict[str, Any]:
    return core_speed.run(
        frames=5_000 if quick else 20_000, repeat=3 if quick else 5, realtime_python=REALTIME_PYTHON
    )


SECTIONS: dict[str, Callable[[bool], dict[str, Any]]] = {
    "core": _core,
    "memory": lambda quick: memory.run(quick=quick),
    "latency": lambda quick: latency.run(quick=quick),
    "terminal": lambda quick: terminal.run(quick=quick),
    "scale": lambda quick: scale.run(quick=quick),
    "cost": lambda quick: cost.run(quick=quick),
    # issue 11's target is the growth over one hour of the wall at 100 events/s: measured so
    "growth": lambda quick: {
        "growth": growth.run(minutes=1.0 if quick else 60.0, trace_minutes=0.5 if quick else 5.0)
    },
}

# (label, how to read it from the results, budget text, is the budget met?)
Check = Callable[[Any], bool | None]


def _get(results: dict[str, Any], *path: str) -> Any:
    value: Any = results
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def rows(r: dict[str, Any]) -> list[tuple[str, Any, str, bool | None]]:
    def le(limit: float) -> Check:
        return lambda v: None if v is None else v <= limit

    def ge(limit: float) -> Check:
        return lambda v: None if v is None else v >= limit

    js = r.get("phoenix_js_frames_per_s")
    table: list[tuple[str, Any, str, Check | None]] = [
        ("latency p50 @10 ev/s (ms)", _get(r, "latency_p50_ms", "10"), "", None),
        ("latency p99 @10 ev/s (ms)", _get(r, "latency_p99_ms", "10"), "", None),
        ("latency p50 @100 ev/s (ms)", _get(r, "latency_p50_ms", "100"), "", None),
        ("latency p99 @100 ev/s (ms)", _get(r, "latency_p99_ms", "100"), "<= 50", le(50)),
        ("latency p50 @1000 ev/s (ms)", _get(r, "latency_p50_ms", "1000"), "", None),
        ("latency p99 @1000 ev/s (ms)", _get(r, "latency_p99_ms", "1000"), "", None),
        ("max sustained events/s", r.get("max_sustained_events_per_s"), ">= 1000", ge(1000)),
    ]
    for key, value in (r.get("terminal_bytes_per_s") or {}).items():
        budget = ("<= 2048", le(2048)) if key.endswith("120x40") else ("", None)
        table.append((f"terminal B/s {key}", value, *budget))
    for key, value in (r.get("full_repaint_ratio") or {}).items():
        table.append((f"full_repaint_ratio {key}", value, "<= 0.1", le(0.1)))
    cpu = r.get("cpu_percent_steady") or {}
    table += [
        ("CPU % of a core @1 ev/s", cpu.get("1"), "<= 2", le(2)),
        ("CPU % of a core @100 ev/s", cpu.get("100"), "", None),
        ("rss growth MB (1M events - 10k)", r.get("rss_growth_mb"), "<= 5", le(5)),
        ("rss growth MB, 2nd half", r.get("rss_growth_mb_second_half"), "", None),
        ("core frames/s (full feed path)", r.get("core_frames_per_s"), "", None),
        (
            "core frames/s (protocol + presence)",
            r.get("core_protocol_frames_per_s"),
            ">= phoenix.js",
            (lambda v: None if v is None or js is None else v >= js),
        ),
        ("phoenix.js frames/s", js, "", None),
        ("realtime (PyPI) frames/s", r.get("realtime_frames_per_s"), "", None),
        ("time to first live frame s", r.get("time_to_first_live_s"), "", None),
        ("scale: set-up s (5,000 waiting)", r.get("scale_setup_s"), "", None),
        ("scale: snapshot --json s", _get(r, "snapshot", "seconds"), "", None),
        (
            "scale: snapshot departments complete",
            _get(r, "snapshot", "departments_complete"),
            "= 200",
            (lambda v: None if v is None else v == 200),
        ),
        ("scale: first paint s", _get(r, "app", "first_paint_s"), "", None),
        ("scale: all 200 departments live s", _get(r, "app", "all_live_s"), "", None),
        (
            "scale: key to screen ms (median)",
            _get(r, "app", "key_to_screen_ms", "median"),
            "",
            None,
        ),
        (
            "scale: departments list B/s 200x60",
            _get(r, "app", "departments_list", "bytes_per_s"),
            "",
            None,
        ),
        (
            "scale: departments list CPU %",
            _get(r, "app", "departments_list", "cpu_percent"),
            "",
            None,
        ),
        ("scale: wallboard B/s 200x60", _get(r, "app", "wallboard", "bytes_per_s"), "", None),
        ("scale: wallboard CPU %", _get(r, "app", "wallboard", "cpu_percent"), "", None),
        ("scale: app RSS MB", _get(r, "app", "rss_mb"), "", None),
        ("scale: state MB (books + snapshot)", r.get("scale_state_mb"), "", None),
    ]
    for size, screens in (r.get("cost") or {}).items():
        if not isinstance(screens, dict) or "htop" not in screens:
            continue
        for name, row in screens.items():
            ours = name in ("queue", "presence", "wallboard")  # the others are the references
            budget: tuple[str, Check | None] = ("<= 1.0", le(1.0)) if ours else ("", None)
            table.append((f"{name} B/s vs htop {size}", row.get("ratio_vs_htop"), *budget))
    busy = r.get("cost_100_events_per_s") or {}
    table += [
        ("queue B/s @100 ev/s", _get(busy, "queue", "bytes_per_s"), "<= 8192", le(8192)),
        (
            "queue B/s @100 ev/s, --raw-output",
            _get(busy, "queue_raw_output", "bytes_per_s"),
            "",
            None,
        ),
        ("wallboard B/s @100 ev/s", _get(busy, "wallboard", "bytes_per_s"), "<= 4096", le(4096)),
        ("wallboard CPU % @100 ev/s", _get(busy, "wallboard", "cpu_percent"), "<= 8", le(8)),
        ("queue CPU % @1 ev/s", _get(r, "cost", "120x40", "queue", "cpu_percent"), "<= 1", le(1)),
        ("p99 event to screen @100 ev/s ms", r.get("p99_event_to_screen_ms_100"), "<= 50", le(50)),
        ("start to first live row s", _get(r, "start", "voki_tui", "best_s"), "<= 0.5", le(0.5)),
        ("htop start to first frame s", _get(r, "start", "htop", "best_s"), "", None),
        (
            "wallboard RSS growth MB, the run",
            _get(r, "growth", "rss_growth_mb"),
            "<= 5 (60 min)",
            le(5) if (_get(r, "growth", "minutes") or 0) >= 60 else None,
        ),
        ("wallboard RSS MB/h (slope) @100 ev/s", _get(r, "growth", "rss_mb_per_hour"), "", None),
    ]
    return [
        (label, value, budget, check(value) if check else None)
        for label, value, budget, check in table
    ]


def render(r: dict[str, Any]) -> str:
    lines = [
        f"| {'figure':<38} | {'value':>12} | {'budget':<14} | ok |",
        f"|{'-' * 40}|{'-' * 14}:|{'-' * 16}|----|",
    ]
    for label, value, budget, ok in rows(r):
        shown = (
            "n/a"
            if value is None
            else (
                f"{value:,.3f}"
                if isinstance(value, float) and value < 1
                else (f"{value:,.1f}" if isinstance(value, float) else f"{value:,}")
            )
        )
        mark = "" if ok is None else ("yes" if ok else "NO")
        lines.append(f"| {label:<38} | {shown:>12} | {budget:<14} | {mark:<2} |")
    return "\n".join(lines)


def merge(paths: list[Path], out: Path | None) -> int:
    """Print the table of several runs' JSON; each run's machine stays under ``runs``."""
    results: dict[str, Any] = {"runs": [], "durations_s": {}}
    for path in paths:
        run = json.loads(path.read_text(encoding="utf-8"))
        results["runs"].append({"file": str(path), "machine": run.get("machine")})
        results["durations_s"].update(run.pop("durations_s", {}))
        results.update({key: value for key, value in run.items() if key != "machine"})
    print(render(results))
    if out:
        out.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--quick", action="store_true", help="short windows (about 3 minutes)")
    parser.add_argument("--json", type=Path, help="write every figure here")
    parser.add_argument("--only", nargs="*", choices=sorted(SECTIONS), help="run only these")
    parser.add_argument(
        "--merge",
        nargs="+",
        type=Path,
        metavar="JSON",
        help="run nothing: one table from the JSON of runs of some sections each (an hour of "
        "memory growth beside the rest), later files winning; --json writes the merge",
    )
    args = parser.parse_args(argv)
    if args.merge:
        return merge(args.merge, args.json)
    results: dict[str, Any] = {"machine": machine(), "quick": args.quick, "durations_s": {}}
    for name in args.only or SECTIONS:
        print(f"== {name} ...", file=sys.stderr, flush=True)
        started = time.monotonic()
        try:
            results.update(SECTIONS[name](args.quick))
        except Exception as exc:  # a broken section must not cost the others their figures
            results.setdefault("errors", {})[name] = repr(exc)
            print(f"   {name} failed: {exc!r}", file=sys.stderr)
        results["durations_s"][name] = round(time.monotonic() - started, 1)
    print(render(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
