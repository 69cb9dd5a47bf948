"""Load benchmark of voki-sim: many websocket clients, a fast scenario, and whether it keeps up.

Run: ``python -m benchmarks.sim_load [--sockets 200] [--rate 500] [--seconds 10]``.

voki-sim runs in its own process (``SimProcess``); the clients run in ``--procs`` worker
processes so that the load generator is not the bottleneck being measured. Every socket joins
the ``queue:`` and ``presence:`` topics of ``--departments-per-socket`` departments (round
robin, so together the sockets cover every department). The scenario is paused while the
sockets connect, then set to ``--rate`` events per second and resumed for ``--seconds``.

It prints: sockets held; distinct scenario events per second seen; frames delivered per socket
and in total; the delivery ratio (frames received / frames owed to the subscribers of each
event); lag from the event's own server timestamp (``queued_at``, ``assigned_at``, a presence
meta's ``since``) to receipt; the fan-out spread between the first and the last socket to get
the same event; and a verdict. It is a benchmark, not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import queue
import statistics
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing.synchronize import Event as EventType
from typing import Any, Protocol

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from voki_tui.sim.testing import SimProcess
from voki_tui.testing.figures import percentile

TENANT = "demo"
PASSWORD = "voki-demo-pass"
EventKey = tuple[str, ...]


@dataclass
class WorkerReport:
    """What one client process saw: per-socket frame counts and every event arrival."""

    sockets_opened: int = 0
    sockets_open_at_end: int = 0
    join_failures: int = 0
    connect_seconds: float = 0.0
    frames_per_socket: list[int] = field(default_factory=list)
    # (event key, receipt wall time, lag in seconds or None when the event has no timestamp)
    arrivals: list[tuple[EventKey, float, float | None]] = field(default_factory=list)
    fractional_stamps: bool = False  # did any server timestamp carry sub-second digits?
    last_frame_at: float = 0.0  # wall time of the last frame received
    errors: list[str] = field(default_factory=list)


class Stop(Protocol):
    """A multiprocessing or threading event: set when the scenario has been paused."""

    def is_set(self) -> bool: ...


QUIET_S = 1.0  # after the pause, a socket is drained once it has been quiet this long
DRAIN_LIMIT_S = 60.0


def parse_iso(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def event_key(frame: list[Any]) -> tuple[EventKey, str | None] | None:
    """A key that is the same for one scenario event on every socket, and its server time."""
    topic, event, payload = frame[2], frame[3], frame[4]
    if frame[0] is not None or not isinstance(payload, dict):
        return None
    call_id = str(payload.get("call_id"))
    if event == "customer_joined":
        return (event, topic, call_id), payload.get("queued_at")
    if event == "call_assigned":
        return (event, topic, call_id), payload.get("assigned_at")
    if event == "customer_left":
        return (event, topic, call_id), None
    if event == "presence_diff":
        refs: list[str] = []
        stamps: list[str] = []
        for side in ("joins", "leaves"):
            for presence in payload.get(side, {}).values():
                for meta in presence.get("metas", []):
                    refs.append(f"{side}:{meta.get('phx_ref')}")
                    if side == "joins" and isinstance(meta.get("since"), str):
                        stamps.append(meta["since"])
        return (event, topic, *sorted(refs)), max(stamps) if stamps else None
    return None


async def run_socket(
    url: str,
    topics: list[str],
    report: WorkerReport,
    index: int,
    stop: Stop,
    settled: asyncio.Queue[None],
) -> None:
    joined = False
    try:
        async with connect(url, ping_interval=None, open_timeout=30, max_queue=None) as ws:
            report.sockets_opened += 1
            await join_all(ws, topics, report)
            joined = True
            settled.put_nowait(None)
            await receive(ws, report, index, stop)
            report.sockets_open_at_end += 1
    except (ConnectionClosed, OSError, TimeoutError) as exc:
        report.errors.append(f"socket {index}: {exc!r}")
    finally:
        if not joined:
            settled.put_nowait(None)


async def join_all(ws: ClientConnection, topics: list[str], report: WorkerReport) -> None:
    for n, topic in enumerate(topics):
        ref = str(n + 1)
        await ws.send(json.dumps([ref, ref, topic, "phx_join", {}]))
    pending = {str(n + 1) for n in range(len(topics))}
    while pending:
        frame = json.loads(await asyncio.wait_for(ws.recv(), 30))
        if frame[3] == "phx_reply" and frame[1] in pending:
            pending.discard(frame[1])
            if frame[4].get("status") != "ok":
                report.join_failures += 1


async def receive(ws: ClientConnection, report: WorkerReport, index: int, stop: Stop) -> None:
    """Record frames until the scenario is paused (``stop``) and the backlog is drained."""
    heartbeat_at = time.monotonic() + 20
    ref = 0
    last_frame = time.monotonic()
    drain_deadline: float | None = None
    while True:
        now = time.monotonic()
        if stop.is_set():
            drain_deadline = drain_deadline or now + DRAIN_LIMIT_S
            if now - last_frame > QUIET_S or now > drain_deadline:
                return
        if now > heartbeat_at:
            ref += 1
            await ws.send(json.dumps([None, f"hb{ref}", "phoenix", "heartbeat", {}]))
            heartbeat_at = now + 20
        try:
            text = await asyncio.wait_for(ws.recv(), 0.2)
        except TimeoutError:
            continue
        last_frame = time.monotonic()
        received = time.time()
        report.last_frame_at = max(report.last_frame_at, received)
        report.frames_per_socket[index] += 1
        keyed = event_key(json.loads(text))
        if keyed is not None:
            key, stamp = keyed
            if stamp and "." in stamp:
                report.fractional_stamps = True
            report.arrivals.append((key, received, received - parse_iso(stamp) if stamp else None))


async def worker_main(
    url: str, plans: list[list[str]], ready: mp.Queue[Any], stop: Stop
) -> WorkerReport:
    report = WorkerReport(frames_per_socket=[0] * len(plans))
    started = time.monotonic()
    settled: asyncio.Queue[None] = asyncio.Queue()
    tasks = [
        asyncio.create_task(run_socket(url, topics, report, i, stop, settled))
        for i, topics in enumerate(plans)
    ]
    for _ in plans:  # every socket has joined its topics or failed
        await settled.get()
    report.connect_seconds = time.monotonic() - started
    ready.put(("ready", report.sockets_opened))
    await asyncio.gather(*tasks)
    return report


def worker(url: str, plans: list[list[str]], ready: mp.Queue[Any], stop: EventType) -> None:
    report = asyncio.run(worker_main(url, plans, ready, stop))
    ready.put(("report", report))


def probe(url: str, topics: list[str], stop: threading.Event) -> WorkerReport:
    """One socket on every topic, in the parent process, reading as fast as it can.

    voki-sim writes to each socket independently, so this light reader sees how promptly the
    server produces and sends events even when the heavily loaded worker sockets lag behind.
    """
    report = WorkerReport(frames_per_socket=[0])

    async def run() -> None:
        await run_socket(url, topics, report, 0, stop, asyncio.Queue())

    asyncio.run(run())
    return report


def cpu_seconds(pid: int | None) -> float:
    """User+system CPU time of a process so far (Linux /proc; NaN elsewhere)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return float("nan")


def pct(values: list[float], p: float) -> float:
    """The ``p``-th percentile (0 to 100) of ``values``; NaN when there are none."""
    found = percentile(values, p / 100)
    return float("nan") if found is None else found


def login(base: str) -> str:
    response = httpx.post(
        f"{base}/api/auth/login",
        json={"email": "manager@demo.test", "password": PASSWORD, "tenant": TENANT},
        timeout=10,
    )
    response.raise_for_status()
    body = response.json()
    data = body.get("data", body)
    return str(data["access_token"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sockets", type=int, default=200)
    parser.add_argument("--rate", type=float, default=500.0, help="scenario events per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--departments-per-socket", type=int, default=2)
    parser.add_argument("--procs", type=int, default=2, help="client worker processes")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    with SimProcess(seed=args.seed, auth_rate_limit=100_000, paused=True) as sim:
        token = login(sim.url)
        departments = sim.department_ids()
        plans: list[list[str]] = []
        for i in range(args.sockets):
            chosen = [
                departments[(i + k) % len(departments)]
                for k in range(min(args.departments_per_socket, len(departments)))
            ]
            plans.append([f"{p}:{d}" for d in chosen for p in ("queue", "presence")])
        subscribers: dict[str, int] = defaultdict(int)
        for topics in plans:
            for topic in topics:
                subscribers[topic] += 1

        ctx = mp.get_context("spawn")
        ready: mp.Queue[Any] = ctx.Queue()
        stop = ctx.Event()
        url = f"{sim.ws_url}?token={token}&vsn=2.0.0"
        procs = [
            ctx.Process(target=worker, args=(url, plans[n :: args.procs], ready, stop))
            for n in range(args.procs)
        ]
        for proc in procs:
            proc.start()
        probe_stop = threading.Event()
        probe_result: list[WorkerReport] = []
        probe_thread = threading.Thread(
            target=lambda: probe_result.append(probe(url, sorted(subscribers), probe_stop))
        )
        probe_thread.start()
        opened = 0
        for _ in procs:
            kind, value = ready.get(timeout=120)
            assert kind == "ready"
            opened += value
        sim_pid = getattr(getattr(sim, "process", None), "pid", None)
        pids = [sim_pid, *(p.pid for p in procs)]
        cpu_before = [cpu_seconds(pid) for pid in pids]
        sim.control("POST", "rate", params={"events_per_second": args.rate})
        sim.control("POST", "resume")
        window_start = time.time()
        time.sleep(args.seconds)
        sim.control("POST", "pause")
        window_end = time.time()
        cpu = [cpu_seconds(pid) - before for pid, before in zip(pids, cpu_before, strict=True)]
        stop.set()
        probe_stop.set()
        reports: list[WorkerReport] = []
        for _ in procs:
            try:
                kind, value = ready.get(timeout=120)
            except queue.Empty:
                break
            if kind == "report":
                reports.append(value)
        for proc in procs:
            proc.join(timeout=10)
        probe_thread.join(timeout=DRAIN_LIMIT_S + 10)

    summarize(args, opened, subscribers, reports, probe_result, window_start, window_end)
    seconds = window_end - window_start
    print(
        f"CPU during the window: voki-sim {cpu[0] / seconds:.0%} of a core, clients "
        + ", ".join(f"{c / seconds:.0%}" for c in cpu[1:])
        + f" (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)"
    )
    return 0


def lag_line(lags: list[float]) -> str:
    return (
        f"p50 {pct(lags, 50) * 1000:.0f} ms, p99 {pct(lags, 99) * 1000:.0f} ms, "
        f"max {max(lags, default=0) * 1000:.0f} ms (n={len(lags)})"
    )


def summarize(
    args: argparse.Namespace,
    opened: int,
    subscribers: dict[str, int],
    reports: list[WorkerReport],
    probes: list[WorkerReport],
    window_start: float,
    window_end: float,
) -> None:
    seconds = window_end - window_start
    arrivals = [a for r in reports for a in r.arrivals if a[1] >= window_start]
    first: dict[EventKey, float] = {}
    count: dict[EventKey, int] = defaultdict(int)
    for key, at, _ in arrivals:
        first[key] = min(first.get(key, at), at)
        count[key] += 1
    owed = sum(subscribers.get(k[1], 0) for k in first)
    got = sum(count.values())
    lags = [lag for _k, _at, lag in arrivals if lag is not None]
    # Bucket by when the server stamped the event, so a growing backlog shows as growing lag.
    stamped = [(at - lag, lag) for _k, at, lag in arrivals if lag is not None]
    early = [lag for stamp, lag in stamped if stamp < window_start + seconds / 3]
    late = [lag for stamp, lag in stamped if stamp >= window_end - seconds / 3]
    frames = [n for r in reports for n in r.frames_per_socket]
    held = sum(r.sockets_open_at_end for r in reports)
    drain = max((r.last_frame_at for r in reports), default=window_end) - window_end
    probe = probes[0] if probes else WorkerReport()
    probe_arrivals = [a for a in probe.arrivals if a[1] >= window_start]
    probe_rate = len({k for k, _at, _lag in probe_arrivals}) / seconds
    probe_lags = [lag for _k, _at, lag in probe_arrivals if lag is not None]
    fractional = any(r.fractional_stamps for r in [*reports, probe])

    print(
        f"voki-sim load: {args.sockets} sockets x {2 * args.departments_per_socket} topics, "
        f"scenario rate {args.rate:g} events/s for {seconds:.1f} s, {args.procs} client processes"
    )
    print(
        f"sockets: opened {opened}/{args.sockets}, held to the end {held}, join failures "
        f"{sum(r.join_failures for r in reports)}, connect+join "
        f"{max((r.connect_seconds for r in reports), default=0):.1f} s"
    )
    if not fractional:
        print("(server timestamps have whole seconds: every lag below reads 0-1 s high)")
    print(
        f"probe socket (all {len(subscribers)} topics): {probe_rate:.0f} distinct events/s; "
        f"lag {lag_line(probe_lags)}"
    )
    if frames:
        per_socket = [n / seconds for n in frames]
        print(
            f"frames delivered to the {len(frames)} sockets: {sum(frames)} "
            f"({sum(frames) / seconds:.0f}/s); "
            f"per socket mean {statistics.mean(per_socket):.1f}/s, "
            f"min {min(per_socket):.1f}/s, max {max(per_socket):.1f}/s"
        )
    ratio = got / owed if owed else float("nan")
    print(f"delivery ratio (frames received / owed to subscribers): {got}/{owed} = {ratio:.4f}")
    print(f"lag at the sockets: {lag_line(lags)}")
    print(
        f"lag trend p50: events of the first third {pct(early, 50) * 1000:.0f} ms, "
        f"of the last third {pct(late, 50) * 1000:.0f} ms; backlog drained "
        f"{max(0.0, drain):.1f} s after the pause"
    )
    server: list[str] = []
    if probe_rate < 0.8 * args.rate:
        server.append(f"scenario delivered {probe_rate:.0f}/s < 80% of {args.rate:g}/s")
    if pct(probe_lags, 99) > (0.5 if fractional else 1.5):
        server.append("probe lag p99 too high")
    fanout: list[str] = []
    if held < args.sockets:
        fanout.append(f"only {held} sockets held")
    if not ratio >= 0.99:
        fanout.append(f"delivery ratio {ratio:.3f} < 0.99")
    if drain > 1.5:
        fanout.append(f"{drain:.1f} s of backlog at the pause")
    if pct(late, 50) - pct(early, 50) > 1.0:
        fanout.append("lag grows over the run")
    errors = [e for r in reports for e in r.errors]
    if errors:
        fanout.append(f"{len(errors)} socket errors, e.g. {errors[0]}")
    print("verdict, server pace (probe): " + ("KEEPS UP" if not server else "; ".join(server)))
    print(
        f"verdict, fan-out to {args.sockets} sockets: "
        + ("KEEPS UP" if not fanout else "FALLS BEHIND: " + "; ".join(fanout))
    )


if __name__ == "__main__":
    sys.exit(main())
