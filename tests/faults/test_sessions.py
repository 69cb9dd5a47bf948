"""A server restart that forgets its sessions: the access token still works (a JWT) until the
next refresh, which the server now refuses. With a password source the feed logs in again by
itself and stays live; without one it ends, saying a person must log in."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from voki_tui.live.state import LinkState
from voki_tui.sim import DEMO_PASSWORD
from voki_tui.sim.testing import running_sim

from .harness import live_feed, record, wait_for

pytestmark = pytest.mark.faults

ACCESS_TTL = 8  # refreshed after 5.6-6.4 s


async def test_forgotten_sessions_log_in_again_from_the_password_source(tmp_path: Path) -> None:
    with running_sim(
        seed=29, paused=True, access_ttl=ACCESS_TTL, forget_sessions_on_restart=True,
        auth_rate_limit=1000,
    ) as sim:  # fmt: skip
        async with live_feed(sim, tmp_path, password=DEMO_PASSWORD) as run:
            await run.converged()
            await asyncio.to_thread(sim.restart)
            await run.converged()
            await wait_for(lambda: run.session.relogin_count == 1, ACCESS_TTL * 2)
            await asyncio.sleep(0.5)
            assert run.fresh().connection.state is LinkState.LIVE
            assert run.alive()
            record("restart forgetting sessions (password source)", True, 0.0)


async def test_forgotten_sessions_without_a_source_end_and_say_so(tmp_path: Path) -> None:
    with running_sim(
        seed=29, paused=True, access_ttl=ACCESS_TTL, forget_sessions_on_restart=True,
        auth_rate_limit=1000,
    ) as sim:  # fmt: skip
        async with live_feed(sim, tmp_path) as run:
            await run.converged()
            await asyncio.to_thread(sim.restart)
            await wait_for(lambda: run.task.done(), ACCESS_TTL * 2)
            final = run.fresh().connection
            assert final.state is LinkState.AUTH_FAILED
            assert final.detail and "a person must log in" in final.detail
