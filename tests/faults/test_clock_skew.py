"""A wall box whose clock is hours off (no battery-backed clock, NTP out of reach): every age
is computed on the server's clock, estimated from its Date headers and token iat."""

from __future__ import annotations

from pathlib import Path

import pytest

from voki_tui.sim.testing import running_sim

from .harness import live_feed, wait_for

pytestmark = pytest.mark.faults


@pytest.mark.parametrize("offset", [-7200.0, 7200.0])
async def test_ages_and_the_hour_are_true_on_a_box_two_hours_off(
    tmp_path: Path, offset: float
) -> None:
    """Seen: server 2 h ahead, the longest wait read 0 s and abandons were dropped; 2 h
    behind, a 300 s wait read over two hours and the hour's figures vanished."""
    with running_sim(seed=23, paused=True, auth_rate_limit=1000, clock_offset=offset) as sim:
        async with live_feed(sim, tmp_path) as run:
            await run.converged()
            snap = run.fresh()
            assert abs(snap.clock_offset_s - offset) < 5
            waits = [
                v.metrics.longest_wait_s
                for v in snap.departments
                if v.metrics is not None and v.metrics.longest_wait_s is not None
            ]
            assert waits and all(0 < wait < 3600 for wait in waits), waits

            def hour_counted() -> bool:
                views = run.fresh().departments
                return sum(v.metrics.answered + v.metrics.abandoned for v in views if v.metrics) > 0

            await wait_for(hour_counted, 10)
            assert run.fresh().counters.outlier_times == 0
