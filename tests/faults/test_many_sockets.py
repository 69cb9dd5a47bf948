"""Faults on a feed that needs several sockets (120 departments: 241 topics, three sockets).

Each socket must keep everything one socket does: reconnect after a drop, refresh a refused
token (once for all of them: the auth budget is five a minute), and the drift guard must
repair what a lost broadcast left wrong on any of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from voki_tui.live.state import LinkState
from voki_tui.sim.testing import InProcessSim, running_sim

from .harness import live_feed, recover, wait_for

pytestmark = pytest.mark.faults

DEPARTMENTS = 120
SYNC_S = 60.0


@pytest.fixture
def sim() -> Iterator[InProcessSim]:
    with running_sim(
        seed=23, departments=DEPARTMENTS, agents=600, paused=True, auth_rate_limit=1000
    ) as handle:
        yield handle


def customer(sim: InProcessSim, department_id: str, name: str) -> None:
    body = {"department_id": department_id, "customer_name": name}
    sim.control("POST", "customers", json=body).raise_for_status()


async def test_every_socket_reconnects_after_a_drop(sim: InProcessSim, tmp_path: Path) -> None:
    async with live_feed(sim, tmp_path) as run:
        await run.converged(SYNC_S)
        assert len(run.feed.pool.clients()) == 3
        before = run.fresh().counters.reconnects
        assert sim.control("POST", "drop").json()["sockets"] == 3
        await wait_for(lambda: run.fresh().connection.state is not LinkState.LIVE, 10, 0.01)
        ids = sim.department_ids()
        customer(sim, ids[0], "first socket")  # while down: found by the rejoin's snapshot
        customer(sim, ids[-1], "last socket")
        await recover(run, "drop of three sockets", SYNC_S)
        assert run.fresh().counters.reconnects >= before + 3


async def test_a_refused_token_is_refreshed_once_for_every_socket(
    sim: InProcessSim, tmp_path: Path
) -> None:
    async with live_feed(sim, tmp_path) as run:
        await run.converged(SYNC_S)
        refreshes = len(sim.control("GET", "auth-log").json()["requests"])
        sim.control("POST", "revoke")  # every access token so far is refused at upgrade
        sim.control("POST", "drop")
        await wait_for(lambda: run.fresh().connection.state is not LinkState.LIVE, 10, 0.01)
        await recover(run, "revoked token on three sockets", SYNC_S)
        log = sim.control("GET", "auth-log").json()["requests"][refreshes:]
        assert [r["path"] for r in log] == ["/api/auth/refresh"]  # one for the three sockets


async def test_the_drift_guard_repairs_lost_events_on_every_socket(
    sim: InProcessSim, tmp_path: Path
) -> None:
    async with live_feed(sim, tmp_path, resync_interval=10.0) as run:
        await run.converged(SYNC_S)
        sim.control("POST", "lose?seconds=60")  # every broadcast lost, no socket closes
        ids = sim.department_ids()
        for ident in (ids[0], ids[len(ids) // 2], ids[-1]):
            customer(sim, ident, "lost")
        sockets = {run.feed.pool.socket_of(f"queue:{i}") for i in (ids[0], ids[-1])}
        assert len(sockets) == 2  # the first and the last department are on different sockets
        assert run.fresh().connection.state is LinkState.LIVE  # nothing says it is wrong...
        await recover(run, "lost broadcasts on three sockets", 30)  # ...until re-read
        assert run.fresh().counters.drift_repaired >= 3
