"""The rolling outcome window: per-second buckets, exact boundary, bounded memory."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from voki_tui.live.window import Outcome, OutcomeWindow, WindowTotals

from .helpers import at


def test_boundary_is_per_second_and_exclusive_of_the_oldest_second() -> None:
    w = OutcomeWindow(window_s=60, threshold_s=10)
    w.add(Outcome.ANSWERED, at(0.9), 5)
    w.add(Outcome.ABANDONED, at(30), 12)
    assert w.totals(at(59.9)) == WindowTotals(1, 1, 5000, 1, 1)
    assert w.totals(at(60)) == WindowTotals(0, 0, 0, 1, 1)  # second 0 <= 60 - 60
    assert not w.add(Outcome.ANSWERED, at(0), 1)  # already out of the window
    assert w.totals(at(60)) == WindowTotals(0, 0, 0, 1, 1)


def test_neutral_is_not_counted_and_negative_wait_is_zero() -> None:
    w = OutcomeWindow(window_s=60, threshold_s=10)
    assert not w.add(Outcome.NEUTRAL, at(1), 5)
    assert w.add(Outcome.ANSWERED, at(1), -3)
    assert w.totals(at(2)) == WindowTotals(1, 1, 0, 0, 0)


def test_memory_bounded_by_window_length_without_reading() -> None:
    w = OutcomeWindow(window_s=100, threshold_s=10, slack_s=20)
    for second in range(10_000):
        w.add(Outcome.ANSWERED, at(second), 1)
    assert len(w) <= 100 + 20 + 1
    assert w.totals(at(9_999)).answered == 100


def test_the_slack_keeps_exactly_its_seconds_behind_the_newest_outcome() -> None:
    """A server clock ahead of ours: outcomes up to window + slack seconds older than the
    newest still count at a reading taken before the newest one's time."""
    w = OutcomeWindow(window_s=10, threshold_s=60, slack_s=5)
    w.add(Outcome.ANSWERED, at(0), 1)
    w.add(Outcome.ANSWERED, at(14), 1)
    assert w.totals(at(9)).answered == 2  # 0 is 14 seconds behind 14: within 10 + 5
    w.add(Outcome.ANSWERED, at(15), 1)
    assert w.totals(at(9)).answered == 2  # 0 is 15 behind 15: gone
    assert not w.add(Outcome.ANSWERED, at(0.5), 1)


def summed(live: list[tuple[Outcome, int]]) -> WindowTotals:
    """The window's totals by definition: plain sums over (outcome, wait in ms) pairs, with
    the 60 s threshold both property tests use."""
    answered = [ms for o, ms in live if o is Outcome.ANSWERED]
    abandoned = [ms for o, ms in live if o is Outcome.ABANDONED]
    return WindowTotals(
        answered=len(answered),
        answered_within=sum(ms <= 60_000 for ms in answered),
        wait_ms_sum=sum(answered),
        abandoned=len(abandoned),
        abandoned_after_threshold=sum(ms > 60_000 for ms in abandoned),
    )


outcomes = st.lists(
    st.tuples(
        st.sampled_from([Outcome.ANSWERED, Outcome.ABANDONED, Outcome.NEUTRAL]),
        st.integers(min_value=0, max_value=199),  # second of the outcome
        st.integers(min_value=-1000, max_value=10**9),  # wait in ms, huge ones included
    ),
    max_size=60,
)


@given(outcomes, st.lists(st.integers(min_value=0, max_value=400), max_size=8))
def test_totals_match_a_brute_force_sum_in_any_arrival_order(
    added: list[tuple[Outcome, int, int]], reads: list[int]
) -> None:
    """Every outcome lands within the slack, so none is refused: at each read the totals are
    the plain sums over the outcomes whose second is in the window (the packed bucket fields
    must neither carry nor drift, whatever the order of adds and prunes)."""
    w = OutcomeWindow(window_s=100, threshold_s=60, slack_s=200)
    for outcome, second, wait_ms in added:
        w.add(outcome, at(second + 0.5), wait_ms / 1000)
    for now in sorted(reads):
        live = [(o, max(0, ms)) for o, s, ms in added if s > now - 100]
        assert w.totals(at(now)) == summed(live)


steps = st.lists(
    st.one_of(
        st.tuples(
            st.sampled_from([Outcome.ANSWERED, Outcome.ABANDONED]),
            st.integers(min_value=-18, max_value=40),  # second, from the newest so far
            st.integers(min_value=0, max_value=120_000),
        ),
        st.integers(min_value=-18, max_value=40),  # a read at that second from the newest
    ),
    max_size=80,
)


@given(steps)
def test_the_window_agrees_with_a_list_of_every_outcome_through_prunes_and_reads(
    script: list[tuple[Outcome, int, int] | int],
) -> None:
    """A small window (10 s and 5 of slack) against the definition: an outcome is refused once its
    second is at or before the cutoff (the newest second less window and slack, or the last
    read less the window), and a read sums the accepted ones after the cutoff. Seconds are
    drawn near the newest, where the boundaries are, with jumps past window and slack."""
    w = OutcomeWindow(window_s=10, threshold_s=60, slack_s=5)
    accepted: list[tuple[Outcome, int, int]] = []
    cutoff = newest = last_read = -1
    for step in script:
        if isinstance(step, int):
            now = last_read = max(newest + step, last_read, 0)  # reads do not go backwards
            cutoff = max(cutoff, now - 10)
            live = [(o, ms) for o, s, ms in accepted if s > cutoff]  # later ones count too
            assert w.totals(at(now + 0.5)) == summed(live)
            continue
        outcome, delta, wait_ms = step
        second = max(0, newest + delta)
        expected = second > cutoff
        if expected:
            newest = max(newest, second)
            cutoff = max(cutoff, newest - 15)
            accepted.append((outcome, second, wait_ms))
        assert w.add(outcome, at(second + 0.5), wait_ms / 1000) is expected
        assert len(w) <= 15
