"""Run the fault suite and print its figures: faults injected, recovered, time to recover
(p50/p99) and state mismatches.

The tests append one JSON line per injected fault to the file named by ``VOKI_FAULT_REPORT``
(see ``tests/faults/harness.py``); this script points that at a temporary file, runs pytest,
and aggregates. ``--full`` includes the slow tests (the 200-restart loop).

    .venv/bin/python scripts/fault_report.py [--full] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

from voki_tui.testing.figures import percentile


def summarise(lines: list[dict[str, Any]]) -> dict[str, Any]:
    by_fault: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for line in lines:
        by_fault[line["fault"]].append(line)
    times = [float(x["seconds"]) for x in lines if x["recovered"] and x["seconds"] is not None]
    return {
        "faults_injected": len(lines),
        "recovered": sum(1 for x in lines if x["recovered"]),
        "recover_p50_s": percentile(times, 0.50),
        "recover_p99_s": percentile(times, 0.99),
        "state_mismatches": sum(int(x["mismatches"]) for x in lines),
        "per_fault": {
            name: {
                "injected": len(items),
                "recovered": sum(1 for x in items if x["recovered"]),
                "p50_s": percentile(
                    [float(x["seconds"]) for x in items if x["seconds"] is not None], 0.5
                ),
            }
            for name, items in sorted(by_fault.items())
        },
    }


def _fmt(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds:.2f} s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="include slow tests")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = parser.parse_args(argv)
    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "faults.jsonl"
        report.touch()
        marker = "faults" if args.full else "faults and not slow"
        command = [sys.executable, "-m", "pytest", "-q", "-m", marker, "tests/faults"]
        env = {**os.environ, "VOKI_FAULT_REPORT": str(report)}
        result = subprocess.run(command, cwd=root, env=env, check=False)  # noqa: S603
        lines = [json.loads(x) for x in report.read_text().splitlines() if x.strip()]
    summary = summarise(lines)
    summary["pytest_exit_code"] = result.returncode
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"faults injected   {summary['faults_injected']}")
        print(f"recovered         {summary['recovered']}")
        print(f"time to recover   p50 {_fmt(summary['recover_p50_s'])}, ", end="")
        print(f"p99 {_fmt(summary['recover_p99_s'])}")
        print(f"state mismatches  {summary['state_mismatches']}")
        for name, item in summary["per_fault"].items():
            print(f"  {name:42} {item['recovered']}/{item['injected']}  p50 {_fmt(item['p50_s'])}")
        print(f"pytest exit code  {result.returncode}")
    ok = result.returncode == 0 and summary["recovered"] == summary["faults_injected"]
    return 0 if ok and summary["state_mismatches"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
