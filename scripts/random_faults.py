"""Inject N random faults in a row into voki-sim while ``voki-tui watch --json`` runs.

Usage: ``python scripts/random_faults.py --faults 50 --seed 1``

After each fault the scenario is paused and the latest ``watch`` line must equal voki-sim's
``GET /__sim/state`` (waiting call ids, agents with status and devices, state ``live``)
within 5 s of the server being reachable again. During a silence the scenario keeps running
while the old socket says nothing: the feed must notice (its reconnect counter moves) within
2 x ``--heartbeat`` + 2 s, and converge within 5 s of noticing. One line per fault, then a summary:
faults injected, recovered, time to recover p50/p99, mismatches (expected: 0). Exits 1 on
any mismatch.

The watch runs with ``VOKI_HEARTBEAT_S=--heartbeat`` (default 2 s) so a silence is noticed in
seconds rather than 30 s, and the simulator's auth rate limit is raised: a revoke forces a
refresh, and fifty of them in a few minutes would otherwise hit the 5/min limit by design.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from voki_tui.sim.testing import SimProcess
from voki_tui.testing.figures import percentile
from voki_tui.testing.headless import (
    Watch,
    burst,
    converge,
    garbage_frames,
    poll,
    send_raw,
)

RECOVERY_S = 5.0
FAULTS = ("drop", "silence", "revoke", "restart", "raw", "burst")


def _reconnects(watch: Watch) -> int:
    """The feed's reconnect counter in the latest line (a quick reconnect may be coalesced
    away from the printed states, but never from this counter)."""
    document = watch.snapshot()
    return int(document["counters"]["reconnects"]) if document is not None else 0


def _reconnected(watch: Watch, timeout: float) -> bool:
    before = _reconnects(watch)
    return poll(lambda: _reconnects(watch) > before, timeout)


def _inject(name: str, sim: SimProcess, rng: random.Random, silence_s: float) -> None:
    """Start the fault; returns when the server is reachable again (or never stopped being)."""
    actions: dict[str, Callable[[], object]] = {
        "drop": lambda: sim.control("POST", "drop"),
        "silence": lambda: sim.control("POST", f"silence?seconds={silence_s:g}"),
        "revoke": lambda: (sim.control("POST", "revoke"), sim.control("POST", "drop")),
        "restart": sim.restart,
        "raw": lambda: send_raw(sim, garbage_frames(rng.choice(sim.department_ids()))),
        "burst": lambda: burst(sim, events_per_second=1000, seconds=1.0),
    }
    actions[name]()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faults", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--heartbeat", type=float, default=2.0, help="VOKI_HEARTBEAT_S (s)")
    parser.add_argument("--silence", type=float, default=8.0, help="length of a silence (s)")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    times: list[float] = []
    mismatches = order_notes_seen = 0
    home = Path(tempfile.mkdtemp(prefix="voki-faults-"))
    with SimProcess(seed=args.seed, speed=5.0, auth_rate_limit=1000) as sim:
        watch = Watch(sim, home, env={"VOKI_HEARTBEAT_S": f"{args.heartbeat:g}"}).start()
        try:
            first = converge(watch, sim, 30.0)
            if not first.converged:
                print(f"initial sync failed: {first.problems}", file=sys.stderr)
                return 1
            for number in range(1, args.faults + 1):
                name = rng.choice(FAULTS)
                sim.control("POST", "resume")
                time.sleep(rng.uniform(0.3, 1.5))  # let the scenario move the truth
                started = time.monotonic()
                _inject(name, sim, rng, args.silence)
                reachable = time.monotonic()
                problems: list[str] = []
                if name == "silence":
                    # The truth moves while the old socket says nothing; the heartbeat must
                    # notice (reconnect) within 2 x heartbeat, then the feed catches up.
                    if not _reconnected(watch, 2 * args.heartbeat + 2):
                        problems.append("silence not noticed within 2 x heartbeat + 2 s")
                    reachable = time.monotonic()
                sim.control("POST", "pause")
                result = converge(watch, sim, RECOVERY_S)
                result.problems[:0] = problems
                result.converged = result.converged and not problems
                recovered = time.monotonic() - reachable
                order_notes_seen += bool(result.order_notes)
                if result.converged:
                    times.append(recovered)
                    note = (
                        " (order differs from the sim's; oldest first kept)"
                        if result.order_notes
                        else ""
                    )
                    print(f"{number:3d} {name:8s} recovered in {recovered:5.2f} s{note}")
                else:
                    mismatches += 1
                    print(f"{number:3d} {name:8s} MISMATCH after {recovered:5.2f} s:")
                    for problem in result.problems:
                        print(f"      {problem}")
                if name == "silence":  # let the silent sockets wake up before the next fault
                    time.sleep(max(0.0, args.silence - (time.monotonic() - started)))
        finally:
            code = watch.stop()
    print(
        f"faults injected: {args.faults}, recovered: {len(times)}, "
        f"time to recover p50 {percentile(times, 0.5) or float('nan'):.2f} s "
        f"p99 {percentile(times, 0.99) or float('nan'):.2f} s, "
        f"mismatches: {mismatches}, order notes (F1-1/F1-3): {order_notes_seen}, "
        f"watch exit code: {code}"
    )
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
