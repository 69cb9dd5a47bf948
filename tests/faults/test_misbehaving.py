"""A server (or what stands in front of it) that misbehaves in ways voki-sim does not: a proxy
that refuses websocket upgrades while REST works, an upgrade redirected to another host, a
REST answer that drips one byte every few seconds. Real sockets, the real simulator behind."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from pathlib import Path

import pytest

from voki_tui.api.client import VokiClient
from voki_tui.api.errors import NetworkError
from voki_tui.live.state import LinkState
from voki_tui.phoenix import core
from voki_tui.sim import DEMO_PASSWORD, DEMO_TENANT
from voki_tui.sim.testing import InProcessSim, running_sim

from .harness import FAST_PHOENIX, SUPERVISOR, live_feed, wait_for
from .proxy import listener, proxy

pytestmark = pytest.mark.faults


@pytest.fixture
def sim() -> InProcessSim:
    with running_sim(seed=17, paused=True, auth_rate_limit=1000) as handle:
        yield handle  # type: ignore[misc]


async def test_upgrades_refused_while_rest_works_back_off_and_say_why(
    sim: InProcessSim, tmp_path: Path
) -> None:
    """Seen: a proxy blocking upgrades cost a token refresh per attempt, about 5 a minute for
    ever, and the screen never said why. Now: one refresh, then rare attempts, and the reason
    in the connection's detail (the status bar shows it)."""
    async with proxy(sim.port, "refuse_upgrades") as front:
        slow_retries = replace(FAST_PHOENIX, refused=core.REFUSED)  # the app's own schedule
        async with live_feed(sim, tmp_path, via=front.url, settings=slow_retries) as run:
            await wait_for(
                lambda: "refused (HTTP 403)" in (run.fresh().connection.detail or ""), 20
            )
            refreshes = run.session.refresh_count
            attempts = front.upgrades_seen
            await asyncio.sleep(6.0)
            assert run.session.refresh_count == refreshes <= 1
            assert front.upgrades_seen - attempts <= 1  # the REFUSED schedule, not every 0.5 s
            assert run.fresh().connection.state is not LinkState.LIVE


async def test_an_upgrade_redirected_elsewhere_is_never_followed(
    sim: InProcessSim, tmp_path: Path
) -> None:
    """Seen: a 302 on the upgrade to another host received the access token in ?token= and its
    data was shown as live. The redirect target must never hear from us."""
    async with listener() as elsewhere:
        target = f"ws://127.0.0.1:{elsewhere[0].decode()}/socket/websocket?token=stolen"
        async with (
            proxy(sim.port, "redirect_upgrades", redirect_to=target) as front,
            live_feed(sim, tmp_path, via=front.url) as run,
        ):
            await wait_for(lambda: front.upgrades_seen >= 2, 20)
            await asyncio.sleep(0.5)
            assert elsewhere[1:] == []
            assert run.fresh().connection.state is not LinkState.LIVE


async def test_a_dripping_answer_hits_the_overall_deadline(sim: InProcessSim) -> None:
    """Seen: a server that drips one byte every 3 s hung start-up for more than two minutes
    (no single read ever timed out). Every request has a deadline of its own: here 3 x 2 s,
    against a drip every second."""
    async with (
        proxy(sim.port, "drip") as front,
        VokiClient(front.url, DEMO_TENANT, timeout_s=2.0) as client,
    ):
        started = time.monotonic()
        with pytest.raises(NetworkError, match="No complete answer"):
            await client.login(SUPERVISOR, DEMO_PASSWORD)
        assert time.monotonic() - started < 15
