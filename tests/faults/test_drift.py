"""Never wrong while saying "live": a channel the server closes is joined again; a join whose
presence_state never comes is joined again; what is lost while the link stays up is found and
repaired by re-reading the truth (periodically, and at once on a sign of a gap)."""

from __future__ import annotations

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
