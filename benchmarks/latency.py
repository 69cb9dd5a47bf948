"""Event-to-screen latency of the real ``voki-tui`` in a pty, and the highest rate it sustains.

voki-sim (its own process) runs its synthetic stream at R events/s spread over max(1, R/10)
departments, so each department sees the same 10 events/s whatever R is (its queue stays a
few rows long and a marker row stays visible for a second or two). The app watches every
department (``--department`` for each, 1 first: it receives all R events/s) and shows the queue
of department 1. Twice a second
we inject a marker customer (``POST /__sim/customers``, a unique name such as ``Zq0042k``)
into department 1; a reader thread timestamps every chunk the app writes to the pty, and a
marker counts as painted when its name is on the screen that output leaves (a terminal
emulator's, as the app sends only the characters that changed). Latency = paint time - the time
just before the POST, sent on a kept-alive connection (same monotonic clock; the simulator's
handling of the POST before it broadcasts is included, so the figure is slightly pessimistic).
Markers the scenario removes before they are painted are counted as ``lost``.

Sustained: the app keeps up with R when the sim actually produced ~R events/s, no more than
a tenth of the markers were lost, and marker latency in the last third of the run is not
growing (p50 of the last third <= 2 x p50 of the first third + 100 ms) nor already behind
(overall p50 <= 500 ms: a backlog built during the warm-up is flat but high).
"""

from __future__ import annotations

import os
import select
import statistics
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from benchmarks.app_pty import app_argv, app_env, wait_for_text
from benchmarks.pty_meter import PtyChild, cpu_seconds
from voki_tui.sim.testing import SimProcess
from voki_tui.testing.figures import percentile

LIVE = "● live".encode()
#: A backlog that formed during the warm-up shows as a high but flat latency: not keeping up.
MAX_P50_MS = 500.0


class PaintWatcher(threading.Thread):
    """Reads the pty on its own thread and notes when each pending marker is first on screen."""

    def __init__(self, child: PtyChild) -> None:
        super().__init__(daemon=True, name="paint-watcher")
        self.child = child
        self.fd = child.fd
        self.pending: set[bytes] = set()
        self.painted: dict[bytes, float] = {}
        self.bytes = 0
        self.stop = threading.Event()
        self.lock = threading.Lock()

    def expect(self, marker: bytes) -> None:
        with self.lock:
            self.pending.add(marker)

    def run(self) -> None:
        while not self.stop.is_set():
            ready, _, _ = select.select([self.fd], [], [], 0.05)
            if not ready:
                continue
            try:
                data = os.read(self.fd, 65536)
            except OSError:
                return
            if not data:
                return
            now = time.monotonic()
            self.bytes += len(data)
            self.child.feed(data)
            with self.lock:
                for marker in [m for m in self.pending if self.child.shows(m)]:
                    self.pending.discard(marker)
                    self.painted[marker] = now


@dataclass
class RateResult:
    rate: float
    departments: int
    achieved_events_per_s: float
    latencies_ms: list[float] = field(default_factory=list)
    lost: int = 0
    injected: int = 0
    app_cpu_percent: float = 0.0

    def pct(self, p: float) -> float | None:
        return percentile(self.latencies_ms, p / 100)

    @property
    def sustained(self) -> bool:
        n = len(self.latencies_ms)
        if n < 6 or self.injected == 0 or self.lost > self.injected / 10:
            return False
        if self.achieved_events_per_s < 0.9 * self.rate:
            return False
        first = statistics.median(self.latencies_ms[: n // 3])
        last = statistics.median(self.latencies_ms[-(n // 3) :])
        return last <= 2 * first + 100 and statistics.median(self.latencies_ms) <= MAX_P50_MS

    def summary(self) -> dict[str, Any]:
        return {
            "rate": self.rate,
            "departments": self.departments,
            "achieved_events_per_s": round(self.achieved_events_per_s, 1),
            "p50_ms": _round(self.pct(50)),
            "p99_ms": _round(self.pct(99)),
            "max_ms": _round(max(self.latencies_ms) if self.latencies_ms else None),
            "markers": self.injected,
            "lost": self.lost,
            "app_cpu_percent": round(self.app_cpu_percent, 1),
            "sustained": self.sustained,
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def measure_rate(
    rate: float, seconds: float, *, warmup_s: float = 2.0, publish_interval: float | None = None
) -> RateResult:
    departments = max(1, round(rate / 10))
    result = RateResult(rate, departments, 0.0)
    with SimProcess(departments=departments, paused=True) as sim, app_env() as env:
        ids = sim.department_ids()
        order = [arg for d in ids for arg in ("--department", d)]
        argv = app_argv(sim.url, *order, publish_interval=publish_interval)
        child = PtyChild(argv, 120, 40, env)  # department 1 comes first
        try:
            at, _ = wait_for_text(child, [LIVE], 60)
            if at is None:
                raise RuntimeError(f"voki-tui never went live at {rate} events/s")
            os.write(child.fd, b"u")  # the queue of the first department
            wait_for_text(child, [b"Waiting", b"waiting"], 10)
            sim.control("POST", f"rate?events_per_second={rate}")
            sim.control("POST", "resume")
            child.read_for(warmup_s)
            watcher = PaintWatcher(child)
            watcher.start()
            sent: dict[bytes, float] = {}
            events0, cpu0, t0 = sim.state()["events_sent"], cpu_seconds(child.pid), time.monotonic()
            n = 0
            # One kept-alive client: building an httpx client per request (as sim.control does)
            # costs 20-30 ms before anything is sent, which would be counted as latency.
            with httpx.Client(base_url=sim.url, timeout=10) as http:
                http.get("/__sim/state").raise_for_status()
                while time.monotonic() - t0 < seconds:
                    n += 1
                    marker = f"Zq{n:04d}k".encode()
                    watcher.expect(marker)
                    body = {"department_id": ids[0], "customer_name": marker.decode()}
                    sent[marker] = time.monotonic()
                    http.post("/__sim/customers", json=body).raise_for_status()
                    time.sleep(max(0.0, t0 + n * 0.5 - time.monotonic()))
            time.sleep(2.0)  # late paints still count
            elapsed = time.monotonic() - t0
            result.achieved_events_per_s = (sim.state()["events_sent"] - events0) / (elapsed - 2.0)
            result.app_cpu_percent = 100 * (cpu_seconds(child.pid) - cpu0) / elapsed
            watcher.stop.set()
            watcher.join(2)
            result.injected = len(sent)
            for marker, at_send in sent.items():
                painted = watcher.painted.get(marker)
                if painted is None:
                    result.lost += 1
                else:
                    result.latencies_ms.append(1000 * (painted - at_send))
        finally:
            child.stop()
    return result


def run(*, quick: bool = False) -> dict[str, Any]:
    seconds = 6.0 if quick else 20.0
    results = {rate: measure_rate(rate, seconds) for rate in (10.0, 100.0, 1000.0)}
    out: dict[str, Any] = {
        "latency_p50_ms": {str(int(r)): v.pct(50) for r, v in results.items()},
        "latency_p99_ms": {str(int(r)): v.pct(99) for r, v in results.items()},
        "latency_runs": [v.summary() for v in results.values()],
    }
    best = max((r for r, v in results.items() if v.sustained), default=0.0)
    if best >= 1000.0:
        for rate in (2000.0,) if quick else (2000.0, 3000.0, 4000.0, 6000.0):
            probe = measure_rate(rate, seconds)
            out["latency_runs"].append(probe.summary())
            if not probe.sustained:
                break
            best = rate
    out["max_sustained_events_per_s"] = best
    return out


if __name__ == "__main__":
    import argparse
    import json

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, help="one rate only")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--publish-interval", type=float, help="experiment: override LiveFeed's publish_interval"
    )
    args = parser.parse_args()
    if args.rate:
        result = measure_rate(args.rate, args.seconds, publish_interval=args.publish_interval)
        print(json.dumps(result.summary(), indent=2))
    else:
        print(json.dumps(run(quick=args.quick), indent=2))
