"""Network and server faults against a real ``LiveFeed`` and voki-sim.

Each test injects a fault through ``/__sim/`` (or restarts the sim), checks that the feed said
so (the status it publishes is the status bar's input) and ends with the feed LIVE and showing
exactly ``GET /__sim/state``. Outcomes go to ``VOKI_FAULT_REPORT`` for scripts/fault_report.py.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from voki_tui.live.state import LinkState
from voki_tui.sim.testing import InProcessSim, running_sim

from .harness import FAST_PHOENIX, FeedRun, attempt_times, live_feed, record, recover, wait_for

pytestmark = pytest.mark.faults


@pytest.fixture
def sim() -> Iterator[InProcessSim]:
    with running_sim(seed=13, paused=True, auth_rate_limit=1000, widget_rate_limit=1000) as h:
        yield h


def add_customer(sim: InProcessSim, name: str) -> None:
    """A waiting customer in the first department."""
    body = {"department_id": sim.department_ids()[0], "customer_name": name}
    sim.control("POST", "customers", json=body).raise_for_status()


def reconnects(run: FeedRun) -> int:
    """Link losses the feed has come back from. The published states cannot show them all:
    a reconnect inside one publish interval (25 ms) is coalesced away, as it should be."""
    return run.fresh().counters.reconnects


async def test_server_restart(sim: InProcessSim, tmp_path: Path) -> None:
    async with live_feed(sim, tmp_path) as run:
        await run.converged()
        add_customer(sim, "before restart")  # gone after the restart: the sim re-seeds
        await run.converged()
        before = reconnects(run)
        await asyncio.to_thread(sim.restart)
        await wait_for(lambda: reconnects(run) > before)
        await recover(run, "server restart")


async def test_every_socket_dropped(sim: InProcessSim, tmp_path: Path) -> None:
    async with live_feed(sim, tmp_path) as run:
        await run.converged()
        before = reconnects(run)
        assert sim.control("POST", "drop").json()["sockets"] == 1
        add_customer(sim, "during the outage")  # only the REST snapshot can tell us
        await wait_for(lambda: reconnects(run) > before)
        await recover(run, "drop")


async def test_half_open_link(sim: InProcessSim, tmp_path: Path) -> None:
    """Silence longer than the heartbeat window (1 s + 1 s here): the missed reply is noticed
    while the old socket is still silent, and a new one takes over."""
    async with live_feed(sim, tmp_path) as run:
        await run.converged()
        before = reconnects(run)
        silence_s = 8.0
        started = time.monotonic()
        sim.control("POST", f"silence?seconds={silence_s}").raise_for_status()
        add_customer(sim, "behind the silence")
        await wait_for(lambda: run.feed.pool.stats().heartbeat_timeouts >= 1, silence_s)
        assert time.monotonic() - started < silence_s
        await wait_for(lambda: reconnects(run) > before)
        await recover(run, "half-open (silence)")
        assert time.monotonic() - started < silence_s + 5  # did not wait for the silence to end


async def test_access_tokens_revoked(sim: InProcessSim, tmp_path: Path) -> None:
    """Revoked access tokens: the reconnect is refused (403), one refresh, then back."""
    async with live_feed(sim, tmp_path) as run:
        await run.converged()
        refreshes = run.session.refresh_count
        sim.control("POST", "revoke").raise_for_status()
        sim.control("POST", "drop").raise_for_status()
        add_customer(sim, "after revoke")
        await recover(run, "access tokens revoked")
        assert run.session.refresh_count == refreshes + 1


async def test_refresh_token_revoked_ends_the_session(sim: InProcessSim, tmp_path: Path) -> None:
    async with live_feed(sim, tmp_path) as run:
        await run.converged()
        sim.control("POST", "revoke-all").raise_for_status()
        sim.control("POST", "drop").raise_for_status()
        started = time.monotonic()
        await wait_for(lambda: run.task.done(), 20)
        final = run.latest
        assert final is not None and final.connection.state is LinkState.AUTH_FAILED
        assert final.connection.detail and "a person must log in" in final.connection.detail
        # The last data is still there for a wallboard to show as stale.
        assert any(view.agents for view in final.departments)
        record("refresh token revoked (session ends)", True, time.monotonic() - started)


async def test_auth_429_storm_sends_no_retry_storm(tmp_path: Path) -> None:
    """Auth limited to 3 requests a minute; access tokens revoked and the link dropped again
    and again. Refreshes must stop at the limit, not hammer the server."""
    auth_paths = {"/api/auth/login", "/api/auth/refresh", "/api/auth/mfa/verify"}
    with running_sim(seed=13, paused=True, auth_rate_limit=3, widget_rate_limit=1000) as sim:
        async with live_feed(sim, tmp_path) as run:
            sent: list[tuple[float, str, int]] = []

            async def on_response(response: httpx.Response) -> None:
                path = response.request.url.path
                if path in auth_paths:
                    sent.append((time.monotonic(), path, response.status_code))

            run.client._http.event_hooks["response"].append(on_response)
            await run.converged()
            attempts = attempt_times(run)
            window_end = time.monotonic() + 8.0
            while time.monotonic() < window_end:
                sim.control("POST", "revoke").raise_for_status()
                sim.control("POST", "drop").raise_for_status()
                await asyncio.sleep(0.5)
            statuses = [status for _, _, status in sent]
            assert statuses.count(429) <= 1, sent  # the guard holds after the first 429
            assert len(sent) <= 3, sent  # 2 refreshes left in the window, then one 429 at most
            assert run.alive()
            assert run.fresh().connection.state is not LinkState.LIVE  # says it is not live
            # The socket itself keeps to its backoff (no tight loop of refused upgrades).
            assert len(attempts) < 40, len(attempts)
            record("429 storm on auth (requests capped)", True, None)


class FlakyCalls(httpx.AsyncBaseTransport):
    """Real HTTP to the sim, except that the first ``failures`` queued-call snapshots fail:
    5xx answers, then timeouts. (voki-sim has no endpoint to inject these; see RELIABILITY.md.)"""

    def __init__(self, failures: int) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.failures = failures
        self.failed = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        snapshot = request.url.path.endswith("/calls") and b"status=queued" in request.url.query
        if snapshot and self.failed < self.failures:
            self.failed += 1
            if self.failed % 2:
                return httpx.Response(503, json={"errors": {"detail": "Service Unavailable"}})
            raise httpx.ReadTimeout("simulated timeout", request=request)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_rest_snapshot_5xx_and_timeouts(sim: InProcessSim, tmp_path: Path) -> None:
    flaky = FlakyCalls(failures=3)
    first = tuple(sim.department_ids()[:1])
    async with live_feed(sim, tmp_path, transport=flaky, departments=first) as run:
        await wait_for(lambda: flaky.failed >= 1)
        assert run.fresh().connection.state is not LinkState.LIVE  # not live without the REST truth
        add_customer(sim, "while REST fails")
        await recover(run, "REST snapshot 5xx/timeouts", within=40)
        assert flaky.failed == 3
        assert run.fresh().counters.snapshot_failures >= 3


async def test_restarts_follow_the_backoff_schedule(sim: InProcessSim, tmp_path: Path) -> None:
    await _restart_loop(sim, tmp_path, restarts=5)


@pytest.mark.slow
async def test_two_hundred_restarts(sim: InProcessSim, tmp_path: Path) -> None:
    await _restart_loop(sim, tmp_path, restarts=200)


async def _restart_loop(sim: InProcessSim, tmp_path: Path, restarts: int) -> None:
    """Restart the sim ``restarts`` times; after each the feed converges, and its connection
    attempts are spaced at least as the jittered backoff table says."""
    settings = FAST_PHOENIX
    low = 1.0 - settings.reconnect.jitter
    async with live_feed(sim, tmp_path, departments=tuple(sim.department_ids()[:2])) as run:
        await run.converged()
        attempts = attempt_times(run)
        for n in range(restarts):
            attempts.clear()
            await asyncio.to_thread(sim.restart)
            add_customer(sim, f"restart {n}")
            await recover(run, "server restart (loop)")
            assert 1 <= len(attempts) <= 2 + _max_tries(settings, time.monotonic() - attempts[0])
            for k, (a, b) in enumerate(itertools.pairwise(attempts), start=1):
                step = settings.reconnect.base(k)
                assert b - a >= step * low - 0.01, (k, b - a, step)


def _max_tries(settings: object, seconds: float) -> int:
    """How many attempts the backoff table allows in ``seconds`` at the shortest jitter."""
    from voki_tui.phoenix.core import Settings

    assert isinstance(settings, Settings)
    low, elapsed, tries = 1.0 - settings.reconnect.jitter, 0.0, 0
    while True:
        step = settings.reconnect.base(tries + 1)
        elapsed += step * low
        if elapsed > seconds:
            return tries
        tries += 1
