"""The drift guard's schedule (pure): periodic re-reads spread over the period, gap signs
moving one earlier but never more often than the debounce."""

from __future__ import annotations

import itertools
import random

from hypothesis import given
from hypothesis import strategies as st

from voki_tui.live.resync import ResyncPlanner

PERIOD = 180.0


def test_first_reads_are_spread_over_the_first_period() -> None:
    planner = ResyncPlanner(PERIOD, rng=random.Random(1))
    for n in range(50):
        planner.add(f"d{n}", 0.0)
    firsts = sorted(planner._due.values())
    assert firsts[0] >= 0.5 * PERIOD and firsts[-1] <= PERIOD
    assert firsts[-1] - firsts[0] > 0.3 * PERIOD  # not all at once


def test_due_departments_come_back_one_jittered_period_later() -> None:
    planner = ResyncPlanner(PERIOD, rng=random.Random(2))
    planner.add("d1", 0.0)
    at = planner.next_at()
    assert at is not None
    assert planner.due(at - 0.001) == []
    assert planner.due(at) == [("d1", "periodic")]
    again = planner.next_at()
    assert again is not None and 0.8 * PERIOD <= again - at <= 1.2 * PERIOD


def test_a_gap_moves_the_read_earlier_at_most_once_per_debounce() -> None:
    planner = ResyncPlanner(PERIOD, gap_debounce_s=30.0, rng=random.Random(3))
    planner.add("d1", 0.0)
    assert not planner.gap("unknown", 1.0)
    assert planner.gap("d1", 10.0)
    assert planner.next_at() == 10.0
    assert planner.due(10.0) == [("d1", "gap")]
    assert planner.gap("d1", 12.0)  # another sign: not before 10 + 30
    assert planner.next_at() == 40.0
    assert not planner.gap("d1", 20.0)  # already as early as allowed


@given(
    signs=st.lists(st.floats(min_value=0, max_value=1000, allow_nan=False), max_size=40),
    seed=st.integers(0, 1000),
)
def test_reads_never_come_closer_than_the_debounce_from_gaps(signs: list[float], seed: int) -> None:
    """Whatever the stream of odd events, gap-driven reads of one department are at least the
    debounce apart, and a periodic read is never more than a period (+20 %) away."""
    planner = ResyncPlanner(PERIOD, gap_debounce_s=30.0, rng=random.Random(seed))
    planner.add("d1", 0.0)
    reads: list[tuple[float, str]] = []
    now = 0.0
    for sign in sorted(signs):
        while (at := planner.next_at()) is not None and at <= sign:
            now = at
            reads += [(now, why) for _, why in planner.due(now)]
        now = sign
        planner.gap("d1", now)
    gap_reads = [t for t, why in reads if why == "gap"]
    assert all(b - a >= 30.0 - 1e-9 for a, b in itertools.pairwise(gap_reads))
    times = [0.0] + [t for t, _ in reads]
    assert all(b - a <= 1.2 * PERIOD + 1e-9 for a, b in itertools.pairwise(times))
