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
import queue
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing.synchronize import Event as EventType
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from voki_tui.sim.testing import SimProcess

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
    errors: list[str] = field(default_factory=list)


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
    stop: EventType,
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


async def receive(ws: ClientConnection, report: WorkerReport, index: int, stop: EventType) -> None:
    heartbeat_at = time.monotonic() + 20
    ref = 0
    while not stop.is_set():
        if time.monotonic() > heartbeat_at:
            ref += 1
            await ws.send(json.dumps([None, f"hb{ref}", "phoenix", "heartbeat", {}]))
            heartbeat_at = time.monotonic() + 20
        try:
            text = await asyncio.wait_for(ws.recv(), 0.2)
        except TimeoutError:
            continue
        received = time.time()
        report.frames_per_socket[index] += 1
        keyed = event_key(json.loads(text))
        if keyed is not None:
            key, stamp = keyed
            report.arrivals.append((key, received, received - parse_iso(stamp) if stamp else None))


async def worker_main(
    url: str, plans: list[list[str]], ready: mp.Queue[Any], stop: EventType
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


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


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
        departments = [int(d["id"]) for d in sim.state()["departments"]]
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
        opened = 0
        for _ in procs:
            kind, value = ready.get(timeout=120)
            assert kind == "ready"
            opened += value
        sim.control("POST", "rate", params={"events_per_second": args.rate})
        sim.control("POST", "resume")
        window_start = time.time()
        time.sleep(args.seconds)
        sim.control("POST", "pause")
        window_end = time.time()
        time.sleep(1.0)  # deliver what was under way
        stop.set()
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

    summarize(args, opened, subscribers, reports, window_start, window_end)
    return 0


def summarize(
    args: argparse.Namespace,
    opened: int,
    subscribers: dict[str, int],
    reports: list[WorkerReport],
    window_start: float,
    window_end: float,
) -> None:
    seconds = window_end - window_start
    arrivals = [a for r in reports for a in r.arrivals]
    first: dict[EventKey, float] = {}
    last: dict[EventKey, float] = {}
    count: dict[EventKey, int] = defaultdict(int)
    for key, at, _ in arrivals:
        first[key] = min(first.get(key, at), at)
        last[key] = max(last.get(key, at), at)
        count[key] += 1
    in_window = [k for k, t in first.items() if window_start <= t <= window_end]
    # Events first seen in the last second may still be in flight; judge delivery before that.
    settled = [k for k in in_window if first[k] <= window_end - 1.0]
    owed = sum(subscribers.get(k[1], 0) for k in settled)
    got = sum(count[k] for k in settled)
    lags_in = [lag for _key, at, lag in arrivals if lag is not None and window_start <= at]
    spreads = [last[k] - first[k] for k in settled]
    frames = [n for r in reports for n in r.frames_per_socket]
    total_frames = sum(frames)
    thirds = [
        [lag for _k, at, lag in arrivals if lag is not None and lo <= at < hi]
        for lo, hi in (
            (window_start, window_start + seconds / 3),
            (window_end - seconds / 3, window_end + 1.0),
        )
    ]
    distinct_rate = len(in_window) / seconds
    held = sum(r.sockets_open_at_end for r in reports)
    print(
        f"voki-sim load: {args.sockets} sockets x {2 * args.departments_per_socket} topics, "
        f"scenario rate {args.rate:g} events/s, {seconds:.1f} s, {args.procs} client processes"
    )
    print(
        f"sockets: opened {opened}/{args.sockets}, held to the end {held}, join failures "
        f"{sum(r.join_failures for r in reports)}, connect+join "
        f"{max((r.connect_seconds for r in reports), default=0):.1f} s"
    )
    print(f"distinct scenario events seen: {len(in_window)} ({distinct_rate:.0f}/s)")
    if frames:
        per_socket = [n / seconds for n in frames]
        print(
            f"frames delivered: total {total_frames} ({total_frames / seconds:.0f}/s); per socket "
            f"mean {statistics.mean(per_socket):.1f}/s min {min(per_socket):.1f}/s "
            f"max {max(per_socket):.1f}/s"
        )
    ratio = got / owed if owed else float("nan")
    print(f"delivery ratio (settled events): {got}/{owed} = {ratio:.4f}")
    resolution = "sub-second" if any(lag % 1 for lag in lags_in[:50]) else "1 s (lag +-1 s)"
    print(
        f"lag server timestamp -> receipt: p50 {percentile(lags_in, 50) * 1000:.0f} ms, "
        f"p99 {percentile(lags_in, 99) * 1000:.0f} ms, max {max(lags_in, default=0) * 1000:.0f}"
        f" ms (n={len(lags_in)}; timestamp resolution {resolution})"
    )
    print(
        f"fan-out spread first -> last socket: p50 {percentile(spreads, 50) * 1000:.0f} ms, "
        f"p99 {percentile(spreads, 99) * 1000:.0f} ms"
    )
    early, late = (percentile(t, 50) for t in thirds)
    print(f"lag trend p50: first third {early * 1000:.0f} ms, last third {late * 1000:.0f} ms")
    problems: list[str] = []
    if held < args.sockets:
        problems.append(f"only {held} sockets held")
    if distinct_rate < 0.8 * args.rate:
        problems.append(f"scenario produced {distinct_rate:.0f}/s < 80% of {args.rate:g}/s")
    if not ratio >= 0.99:
        problems.append(f"delivery ratio {ratio:.3f} < 0.99")
    if percentile(spreads, 99) > 1.0:
        problems.append("fan-out spread p99 > 1 s")
    if late - early > 1.0:
        problems.append("lag grows over the run")
    errors = [e for r in reports for e in r.errors]
    if errors:
        problems.append(f"{len(errors)} socket errors, e.g. {errors[0]}")
    print("verdict: " + ("KEEPS UP" if not problems else "FALLS BEHIND: " + "; ".join(problems)))


if __name__ == "__main__":
    sys.exit(main())
