"""The per-minute waiting history behind the sparklines."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from voki_tui.live.history import WaitingHistory

from .helpers import T0, at


def test_peak_per_minute_and_carry_over_quiet_minutes() -> None:
    h = WaitingHistory(minutes=60)
    h.note(at(0), 2)
    h.note(at(10), 5)
    h.note(at(50), 1)
    h.note(at(185), 3)
    series = h.series(at(250))
    assert [v for _, v in series] == [5, 1, 1, 3, 3]
    assert series[0][0] == T0
    assert series[-1][0] == at(240)


def test_bounded_to_the_last_minutes() -> None:
    h = WaitingHistory(minutes=5)
    for minute in range(100):
        h.note(at(minute * 60), minute)
    series = h.series(at(99 * 60))
    assert [v for _, v in series] == [95, 96, 97, 98, 99]
    assert len(h._records) == 5


def test_old_records_carry_into_the_visible_range() -> None:
    h = WaitingHistory(minutes=3)
    h.note(at(0), 4)
    assert [v for _, v in h.series(at(600))] == [4, 4, 4]


def test_empty_history() -> None:
    assert WaitingHistory().series(at(0)) == ()


def test_backfill_rebuilds_the_hour_before_the_first_live_minute() -> None:
    """ "Last hour" covered only the time since start; the REST history fills the rest."""
    from datetime import UTC, datetime, timedelta

    from voki_tui.live.history import WaitingHistory

    now = datetime(2026, 3, 2, 14, 30, 30, tzinfo=UTC)
    minute = timedelta(minutes=1)
    history = WaitingHistory(60)
    history.note(now, 1)  # the first live count: this minute
    waits = [
        (now - 40 * minute, now - 38 * minute),  # alone in minutes -40..-39
        (now - 39 * minute, now - 30 * minute),  # overlaps the first: 2 at once at -39
        (now - 5 * minute, None),  # still waiting now
    ]
    added = history.backfill(waits, now)
    series = dict(history.series(now))
    start = now.replace(second=0) - 59 * minute
    assert added == 59 and len(series) == 60 and min(series) == start
    at = {
        round((moment - now.replace(second=0)) / minute): count for moment, count in series.items()
    }
    assert at[-45] == 0 and at[-40] == 1 and at[-39] == 2 and at[-35] == 1 and at[-20] == 0
    assert at[-5] == 1 and at[-1] == 1
    assert at[0] == 1, "the live minute keeps its own count"


@given(
    st.lists(
        st.tuples(st.integers(0, 3 * 3600), st.integers(0, 50), st.booleans()),
        max_size=60,
    )
)
def test_a_kept_series_is_the_one_made_afresh(steps: list[tuple[int, int, bool]]) -> None:
    """``series`` is kept between changes: after any notes and reads, in time order, it is
    what a history that saw the same notes makes without having been read before."""
    history = WaitingHistory()
    notes: list[tuple[int, int]] = []
    second = 0
    for step, waiting, read in steps:
        second += step // 60  # mostly within a minute, sometimes across many
        if read:
            fresh = WaitingHistory()
            for when, count in notes:
                fresh.note(at(when), count)
            assert history.series(at(second)) == fresh.series(at(second))
        else:
            history.note(at(second), waiting)
            notes.append((second, waiting))
