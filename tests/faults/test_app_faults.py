"""Faults seen through the real app: ``VokiApp`` with ``Account``/``AccountFeed`` against
voki-sim, driven headless by ``run_test``. The status bar must tell the truth at every step and
the data the app holds must end equal to ``GET /__sim/state``.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from voki_tui.account import Account, AccountFeed
from voki_tui.api.client import VokiClient
from voki_tui.api.session import Session
from voki_tui.api.tokens import TokenStore
from voki_tui.live.state import LinkState
from voki_tui.phoenix import core
from voki_tui.settings import Settings
from voki_tui.sim import DEMO_PASSWORD, DEMO_TENANT
from voki_tui.sim.testing import InProcessSim, running_sim
from voki_tui.ui.app import VokiApp
from voki_tui.ui.screens.connecting import ConnectingScreen
from voki_tui.ui.screens.login import LoginScreen
from voki_tui.ui.widgets.status_bar import StatusBar

from .harness import FAST_PHOENIX, SUPERVISOR, mismatches, record, wait_for

pytestmark = pytest.mark.faults


@pytest.fixture
def sim() -> Iterator[InProcessSim]:
    with running_sim(seed=17, paused=True, auth_rate_limit=1000, widget_rate_limit=1000) as h:
        yield h


@asynccontextmanager
async def running_app(
    server: str,
    tmp_path: Path,
    *,
    wallboard: bool = False,
    departments: tuple[str, ...] = (),
    password: str | None = DEMO_PASSWORD,
) -> AsyncIterator[tuple[VokiApp, Any]]:
    """The app with ``password`` as its password source (``VOKI_PASSWORD``); None: no source,
    so it signs in from the session stored under ``tmp_path`` or asks a person."""
    options = Settings(
        server=server,
        tenant=DEMO_TENANT,
        email=SUPERVISOR,
        password=password,
        lang="en",
        wallboard=wallboard,
        departments=departments,
        stale_after_s=2.0,
    )
    account = Account(options, TokenStore(tmp_path))
    app = VokiApp(options, account, AccountFeed(account, FAST_PHOENIX))
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            yield app, pilot
    finally:
        await account.close()


def bar_text(app: VokiApp) -> str:
    bars = list(app.screen.query(StatusBar))
    return bars[0].text if bars else ""


def login_message(app: VokiApp) -> str | None:
    """The login screen's message once that screen is mounted, else None."""
    if not isinstance(app.screen, LoginScreen):
        return None
    found = app.screen.query("#login-message")
    return str(found.first().render()) if found else None


def link(app: VokiApp) -> LinkState | None:
    return app.snapshot.connection.state if app.snapshot else None


async def shows_truth(app: VokiApp, sim: InProcessSim, within: float = 30.0) -> float:
    """Wait until the app is live, its data equals the sim's and its status bar says live."""
    started = time.monotonic()

    def agrees() -> bool:
        return (
            link(app) is LinkState.LIVE
            and "live" in bar_text(app)
            and not mismatches(sim, app.snapshot)
        )

    await wait_for(agrees, within)
    return time.monotonic() - started


async def test_app_survives_drop_and_restart_with_a_truthful_status_bar(
    sim: InProcessSim, tmp_path: Path
) -> None:
    async with running_app(sim.url, tmp_path) as (app, _pilot):
        await shows_truth(app, sim)
        seen: set[str] = set()
        for fault in ("drop", "restart"):
            if fault == "drop":
                sim.control("POST", "drop").raise_for_status()
            else:
                await asyncio.to_thread(sim.restart)

            def down() -> bool:
                seen.add(bar_text(app))
                return link(app) is not LinkState.LIVE

            await wait_for(down, 10, step=0.01)
            body = {"department_id": sim.department_ids()[0], "customer_name": fault}
            sim.control("POST", "customers", json=body)
            seconds = await shows_truth(app, sim)
            record(f"app: {fault}", True, seconds)
        assert app.is_running
        assert any("reconnecting" in text or "syncing" in text for text in seen), seen


async def store_a_session(url: str, tmp_path: Path) -> None:
    """Log in once as a person would, leaving a refresh token in the store under tmp_path."""
    client = VokiClient(url, DEMO_TENANT)
    try:
        await Session(client, SUPERVISOR, store=TokenStore(tmp_path)).login(DEMO_PASSWORD)
    finally:
        await client.aclose()


def connecting_text(app: VokiApp) -> str:
    if not isinstance(app.screen, ConnectingScreen):
        return ""
    return str(app.screen.query_one("#connecting-state").render())


async def test_refused_refresh_token_logs_in_again_from_the_password_source(
    sim: InProcessSim, tmp_path: Path
) -> None:
    """Server lost its sessions (revoke-all) and the link dropped: with VOKI_PASSWORD the board
    is live again by itself; no login form, no person."""
    async with running_app(sim.url, tmp_path) as (app, _pilot):
        await shows_truth(app, sim)
        sim.control("POST", "revoke-all").raise_for_status()
        sim.control("POST", "drop").raise_for_status()
        await wait_for(lambda: link(app) is not LinkState.LIVE, 10, step=0.01)
        seconds = await shows_truth(app, sim)
        record("app: refresh token revoked, password source", True, seconds)
        assert not isinstance(app.screen, LoginScreen) and app.session_ended is None


async def test_without_a_source_an_ended_session_keeps_the_board_marked(
    sim: InProcessSim, tmp_path: Path
) -> None:
    """No password source: the board stays with its last data, dimmed, saying a person must
    log in; the form comes only with enter. Both the desk and the wallboard."""
    for wallboard in (False, True):
        await store_a_session(sim.url, tmp_path)
        async with running_app(sim.url, tmp_path, wallboard=wallboard, password=None) as (
            app,
            pilot,
        ):
            await shows_truth(app, sim)
            board = type(app.screen).__name__
            before = app.snapshot
            assert before is not None
            sim.control("POST", "revoke-all").raise_for_status()
            sim.control("POST", "drop").raise_for_status()
            await wait_for(lambda: link(app) is LinkState.AUTH_FAILED, 20)
            await wait_for(lambda: "session ended — press Enter to log in" in bar_text(app), 10)
            await pilot.pause()  # anything queued after it done: the board must still be up
            assert type(app.screen).__name__ == board
            assert app.screen.has_class("-stale")
            after = app.snapshot
            assert after is not None
            assert [len(v.agents) for v in after.departments] == [
                len(v.agents) for v in before.departments
            ]
            record(f"app: refresh token revoked, no source ({board})", True, 0.0)
            await pilot.press("enter")
            await wait_for(lambda: login_message(app) is not None, 10)


async def test_boot_before_the_server_then_live_by_itself(tmp_path: Path) -> None:
    """A box that starts before its server: the connecting screen says connection refused and
    counts down; when a server appears on that port the board goes live without a keypress."""
    with running_sim(seed=1) as gone:
        port = gone.port  # a port that was just free, and is closed again after the block
    url = f"http://127.0.0.1:{port}"
    async with running_app(url, tmp_path) as (app, _pilot):
        await wait_for(lambda: "connection refused" in connecting_text(app), 20)
        assert "retrying" in connecting_text(app)
        with running_sim(seed=17, paused=True, port=port, auth_rate_limit=1000) as sim:
            started = time.monotonic()
            await shows_truth(app, sim)
            record("app: boot before the server", True, time.monotonic() - started)


async def test_boot_with_only_a_stored_session_also_waits_for_the_server(tmp_path: Path) -> None:
    with running_sim(seed=17, paused=True) as sim:
        port = sim.port
        await store_a_session(sim.url, tmp_path)
    async with running_app(f"http://127.0.0.1:{port}", tmp_path, password=None) as (app, _p):
        await wait_for(lambda: "connection refused" in connecting_text(app), 20)
        with running_sim(seed=17, paused=True, port=port) as sim:
            await shows_truth(app, sim)


async def test_dns_failure_at_start_is_retried_on_the_connecting_screen(tmp_path: Path) -> None:
    async with running_app("http://voki.invalid", tmp_path) as (app, _pilot):
        await wait_for(lambda: "host name not found" in connecting_text(app), 30)
        assert "voki.invalid" in connecting_text(app)
        assert not isinstance(app.screen, LoginScreen)


async def test_429_at_start_counts_down_and_retries(tmp_path: Path) -> None:
    """Seen: the form said "retry in 1 s", frozen, and never retried."""
    with running_sim(seed=17, paused=True, auth_rate_limit=1) as sim:
        async with VokiClient(sim.url, DEMO_TENANT) as client:
            await client.login(SUPERVISOR, DEMO_PASSWORD)  # spends the server's budget
        async with running_app(sim.url, tmp_path) as (app, _pilot):
            await wait_for(lambda: "Rate limited" in connecting_text(app), 20)
            first = connecting_text(app)
            await asyncio.sleep(2.2)
            assert connecting_text(app) != first  # the countdown moves
            assert not isinstance(app.screen, LoginScreen)


# -- clock jumps ---------------------------------------------------------------------------


def test_monotonic_jump_probes_the_link_and_drops_a_dead_one() -> None:
    """Laptop suspend: every timer is overdue at once. The core sends one probe heartbeat with
    the short probe deadline instead of trusting the old ones; no answer means reconnect."""
    settings = core.Settings(heartbeat_interval=30, heartbeat_timeout=30)
    client = core.Client(settings, random.Random(1))
    client.connect()
    client.on_open(100.0)
    client.drain()
    client.tick(100.0 + 3600)  # woke up an hour later
    sent = [o for o in client.drain() if isinstance(o, core.SendText)]
    assert len(sent) == 1 and '"heartbeat"' in sent[0].text
    client.tick(100.0 + 3600 + settings.probe_timeout - 0.1)
    assert client.link_state is core.LinkState.OPEN
    client.tick(100.0 + 3600 + settings.probe_timeout)
    outputs = client.drain()
    assert any(isinstance(o, core.Disconnected) for o in outputs)
    assert client.link_state.value == "waiting"


async def test_monotonic_jump_on_a_live_link_stays_live(sim: InProcessSim, tmp_path: Path) -> None:
    """The same jump with the server still there: the probe is answered, nothing reconnects."""
    offset = [0.0]

    def jumpy() -> float:
        return time.monotonic() + offset[0]

    from voki_tui.live import wire
    from voki_tui.live.feed import LiveFeed

    client = VokiClient(sim.url, DEMO_TENANT)
    session = Session(client, SUPERVISOR, store=TokenStore(tmp_path))
    await session.login(DEMO_PASSWORD)
    departments = [wire.department(d) for d in await client.departments()][:1]
    # A 30 s heartbeat: the only heartbeat in this test is the probe the jump triggers.
    slow_beat = replace(FAST_PHOENIX, heartbeat_interval=30.0, heartbeat_timeout=30.0)
    feed = LiveFeed(client, session, monotonic=jumpy, phoenix_settings=slow_beat)
    task = asyncio.create_task(feed.run(departments, lambda _s: None, lambda _n: None))
    try:
        await wait_for(lambda: feed.snapshot().connection.state is LinkState.LIVE)
        (socket,) = feed.pool.clients().values()  # one department: one socket
        rtts = socket.core.stats
        assert rtts.last_heartbeat_rtt is None
        offset[0] += 3600.0
        socket._wake()
        await wait_for(lambda: rtts.last_heartbeat_rtt is not None, 5)  # probe sent, answered
        await asyncio.sleep(1.0)
        assert feed.snapshot().connection.state is LinkState.LIVE
        assert rtts.reconnects == 0 and rtts.heartbeat_timeouts == 0
        assert not mismatches(sim, feed.snapshot())
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await client.aclose()
