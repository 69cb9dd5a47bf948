"""Never wrong while saying "live": a channel the server closes is joined again; a join whose
presence_state never comes is joined again; what is lost while the link stays up is found and
repaired by re-reading the truth (periodically, and at once on a sign of a gap)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from voki_tui.live.state import LinkState
from voki_tui.sim.testing import InProcessSim, running_sim

from .harness import live_feed, recover, wait_for

pytestmark = pytest.mark.faults


@pytest.fixture
def sim() -> Iterator[InProcessSim]:
    with running_sim(seed=19, paused=True, auth_rate_limit=1000) as handle:
        yield handle


@pytest.mark.parametrize("kind", ["queue", "presence"])
async def test_a_channel_the_server_closes_is_joined_again(
    sim: InProcessSim, tmp_path: Path, kind: str
) -> None:
    """Seen: a server phx_close left the department "stale" for good under a live link."""
    async with live_feed(sim, tmp_path) as run:
        await run.converged()
        ident = run.fresh().departments[0].department.id
        closed = sim.control("POST", f"close-channel?topic={kind}:{ident}").json()
        assert closed["channels"] == 1
        await wait_for(lambda: run.fresh().counters.rejoins >= 1, 20)
        await recover(run, f"server closed {kind} channel")
        assert run.fresh().connection.state is LinkState.LIVE


def _add(sim: InProcessSim, department_id: str, name: str) -> None:
    sim.control(
        "POST", "customers", json={"department_id": department_id, "customer_name": name}
    ).raise_for_status()


def _waiting(run: object, department_id: str) -> set[str]:
    snap = run.fresh()  # type: ignore[attr-defined]
    view = next(v for v in snap.departments if v.department.id == department_id)
    return {c.call_id for c in view.waiting}


async def test_events_lost_while_live_are_repaired_within_one_period(
    sim: InProcessSim, tmp_path: Path
) -> None:
    """Seen: after lost broadcasts the board showed 10-22 waiting instead of 3-8 under
    "live", for good. With nothing later to hint at the gap, the periodic re-read repairs it:
    the figures equal the truth again within one period (3 s here)."""
    async with live_feed(sim, tmp_path, resync_interval=3.0) as run:
        await run.converged()
        ident = run.fresh().departments[0].department.id
        sim.control("POST", "lose?seconds=30").raise_for_status()
        for n in range(3):
            _add(sim, ident, f"lost {n}")
        truth = {
            str(c) for d in sim.state()["departments"] if d["id"] == ident for c in d["waiting"]
        }
        await asyncio.sleep(0.3)
        assert _waiting(run, ident) != truth  # the fault took: the feed is wrong, yet live
        assert run.fresh().connection.state is LinkState.LIVE
        drift = run.fresh().counters.drift_repaired
        seconds = await recover(
            run, "events lost while live (periodic re-read)", within=3.0 * 1.2 + 5
        )
        assert run.fresh().counters.drift_repaired > drift
        assert seconds < 3.0 * 1.2 + 5


async def test_a_sign_of_a_gap_repairs_at_once(sim: InProcessSim, tmp_path: Path) -> None:
    """A customer_joined whose position disagrees with the count known here shows a gap: the
    queue is re-read within seconds, not at the next period (3 min by default)."""
    async with live_feed(sim, tmp_path) as run:
        await run.converged()
        ident = run.fresh().departments[0].department.id
        sim.control("POST", f"lose?seconds=1&topic=queue:{ident}").raise_for_status()
        _add(sim, ident, "lost while the link stayed up")
        await asyncio.sleep(1.2)  # the loss window is over
        _add(sim, ident, "seen: its position shows one is missing")
        await recover(run, "events lost while live (gap sign)", within=10)
        assert run.fresh().counters.drift_repaired >= 1


async def test_lost_presence_changes_are_repaired_by_joining_again(
    sim: InProcessSim, tmp_path: Path
) -> None:
    """Agents' status changes lost with their presence_diff: the periodic fresh join of the
    presence channel (a new presence_state) puts the agents right, still live."""
    async with live_feed(sim, tmp_path, resync_interval=3.0) as run:
        await run.converged()
        sim.control("POST", "lose?seconds=30").raise_for_status()
        sim.control("POST", "resume")
        sim.control("POST", "rate?events_per_second=40")
        await asyncio.sleep(1.0)
        sim.control("POST", "rate?events_per_second=0")
        sim.control("POST", "pause")
        await recover(run, "presence and queue events lost while live", within=3.0 * 1.2 + 8)
        assert run.fresh().counters.drift_repaired >= 1
