"""Shared pieces of the fault suite: a real ``LiveFeed`` against voki-sim, and the comparison
of what it shows with the simulator's ground truth (``GET /__sim/state``).

Why a harness: every fault test ends the same way ("the displayed state equals the sim's"), and
that comparison must be the same strict one everywhere: waiting call ids in order, and every
present agent with their status, for every watched department.
"""

from __future__ import annotations

import asyncio
import json
import os
import ssl
import subprocess
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from voki_tui.api.client import VokiClient
from voki_tui.api.credentials import FixedPassword
from voki_tui.api.session import Session
from voki_tui.api.tokens import TokenStore
from voki_tui.live import wire
from voki_tui.live.feed import LiveFeed
from voki_tui.live.resync import RESYNC_EVERY_S
from voki_tui.live.state import FeedSnapshot, LinkState, Notification
from voki_tui.phoenix import core
from voki_tui.phoenix.placement import MAX_CHANNELS_PER_SOCKET
from voki_tui.retry import Backoff
from voki_tui.sim import DEMO_EMAILS, DEMO_PASSWORD, DEMO_TENANT
from voki_tui.sim.testing import SimHandle

SUPERVISOR = DEMO_EMAILS["supervisor"]

#: Short timers so a half-open link is found in ~2 s, and reconnects are quick.
FAST_PHOENIX = core.Settings(
    heartbeat_interval=1.0,
    heartbeat_timeout=1.0,
    reconnect=Backoff(steps=(0.05, 0.1, 0.2), maximum=0.5),
    rejoin=Backoff(steps=(0.2, 0.5), maximum=1.0),
    refused=Backoff(steps=(0.5, 1.0), maximum=2.0),
)

#: Per department id: (waiting call ids in queue order, sorted (agent id, status, devices)).
Picture = dict[str, tuple[tuple[str, ...], tuple[tuple[str, str, int], ...]]]


def truth(state: dict[str, Any]) -> Picture:
    """The simulator's ground truth in the same shape as :func:`shown`."""
    return {
        str(dept["id"]): (
            tuple(str(call) for call in dept["waiting"]),
            tuple(
                sorted(
                    (str(a["user_id"]), str(a["status"]), int(a["devices"])) for a in dept["agents"]
                )
            ),
        )
        for dept in state["departments"]
    }


def shown(snapshot: FeedSnapshot) -> Picture:
    """What a feed snapshot would put on screen, per department."""
    return {
        view.department.id: (
            tuple(c.call_id for c in view.waiting),
            tuple(sorted((a.user_id, a.status, a.devices) for a in view.agents)),
        )
        for view in snapshot.departments
    }


def mismatches(sim: SimHandle, snapshot: FeedSnapshot | None) -> list[str]:
    """Shown departments whose state differs from the sim's (empty when they all agree)."""
    if snapshot is None or not snapshot.departments:
        return ["nothing shown yet"]
    want, got = truth(sim.state()), shown(snapshot)
    return [
        f"department {key}: shown {got[key]!r}, truth {want.get(key)!r}"
        for key in got
        if got[key] != want.get(key)
    ]


async def wait_for(condition: Callable[[], bool], within: float = 20.0, step: float = 0.05) -> None:
    """Poll ``condition`` until it holds; fail with a clear message after ``within`` s."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within} s")
        await asyncio.sleep(step)


@dataclass
class FeedRun:
    """A running feed and everything it published."""

    sim: SimHandle
    client: VokiClient
    session: Session
    feed: LiveFeed
    task: asyncio.Task[None]
    snapshots: list[FeedSnapshot] = field(default_factory=list)
    notes: list[Notification] = field(default_factory=list)

    @property
    def latest(self) -> FeedSnapshot | None:
        return self.snapshots[-1] if self.snapshots else None

    def state(self) -> LinkState | None:
        return self.latest.connection.state if self.latest else None

    def fresh(self) -> FeedSnapshot:
        """A snapshot taken now (not waiting for the publisher)."""
        return self.feed.snapshot()

    async def converged(self, within: float = 20.0) -> float:
        """Wait until the feed is LIVE and shows exactly the sim's state; seconds it took."""
        started = time.monotonic()

        def agrees() -> bool:
            snap = self.fresh()
            return snap.connection.state is LinkState.LIVE and not mismatches(self.sim, snap)

        try:
            await wait_for(agrees, within, step=0.1)
        except AssertionError:
            snap = self.fresh()
            raise AssertionError(
                f"not converged: link {snap.connection.state}, {mismatches(self.sim, snap)}"
            ) from None
        return time.monotonic() - started

    def alive(self) -> bool:
        return not self.task.done()


@asynccontextmanager
async def live_feed(
    sim: SimHandle,
    store_dir: Path,
    *,
    settings: core.Settings = FAST_PHOENIX,
    departments: tuple[str, ...] | None = None,
    refresh_interval: float = 1.0,
    resync_interval: float = RESYNC_EVERY_S,
    transport: httpx.AsyncBaseTransport | None = None,
    via: str | None = None,
    password: str | None = None,
    max_channels: int = MAX_CHANNELS_PER_SOCKET,
) -> AsyncIterator[FeedRun]:
    """Log in as the demo supervisor and run a ``LiveFeed`` until the block ends (``via``: the
    address of a front such as a misbehaving proxy, instead of the sim's own; ``password``: a
    password source for logging in again, none by default)."""
    client = VokiClient(via or sim.url, DEMO_TENANT, transport=transport)
    source = FixedPassword(password) if password is not None else None
    session = Session(client, SUPERVISOR, store=TokenStore(store_dir), password=source)
    await session.login(DEMO_PASSWORD)
    listed = [wire.department(item) for item in await client.departments()]
    if departments is not None:
        listed = [d for d in listed if d.id in departments]
    feed = LiveFeed(
        client,
        session,
        phoenix_settings=settings,
        publish_interval=0.05,
        refresh_interval=refresh_interval,
        resync_interval=resync_interval,
        max_channels=max_channels,
    )
    run = FeedRun(sim, client, session, feed, asyncio.create_task(asyncio.sleep(0)))
    run.task = asyncio.create_task(feed.run(listed, run.snapshots.append, run.notes.append))
    try:
        yield run
    finally:
        run.task.cancel()
        await asyncio.gather(run.task, return_exceptions=True)
        await client.aclose()


def self_signed_context(folder: Path) -> ssl.SSLContext:
    """A server TLS context with a fresh self-signed certificate for 127.0.0.1."""
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


@asynccontextmanager
async def tls_relay(context: ssl.SSLContext, target_port: int) -> AsyncIterator[str]:
    """``https://127.0.0.1:<port>`` terminating TLS and relaying bytes to the plain sim."""

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()

    async def handle(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            up_r, up_w = await asyncio.open_connection("127.0.0.1", target_port)
        except OSError:
            client_w.close()
            return
        await asyncio.gather(pipe(client_r, up_w), pipe(up_r, client_w))

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=context)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"https://127.0.0.1:{port}"
    finally:
        server.close()


REPORT_ENV = "VOKI_FAULT_REPORT"


def record(fault: str, recovered: bool, seconds: float | None, mismatched: int = 0) -> None:
    """Append one fault's outcome to the JSON-lines file named by ``VOKI_FAULT_REPORT``.

    ``scripts/fault_report.py`` sets it and aggregates the lines; without it this does nothing,
    so the suite runs the same either way.
    """
    path = os.environ.get(REPORT_ENV)
    if not path:
        return
    line = {"fault": fault, "recovered": recovered, "seconds": seconds, "mismatches": mismatched}
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(line) + "\n")


async def recover(run: FeedRun, fault: str, within: float = 30.0) -> float:
    """Wait for convergence after ``fault``; record the outcome; return the seconds it took."""
    try:
        seconds = await run.converged(within)
    except AssertionError:
        record(fault, False, None, len(mismatches(run.sim, run.fresh())))
        raise
    record(fault, True, seconds, 0)
    return seconds


def attempt_times(run: FeedRun, clock: Callable[[], float] = time.monotonic) -> list[float]:
    """Record when the feed's socket tries to connect (its URL provider runs once per try)."""
    times: list[float] = []
    provider = run.feed.pool._url_for

    async def counting(socket: int) -> str:
        times.append(clock())
        return await provider(socket)

    run.feed.pool._url_for = counting
    return times
