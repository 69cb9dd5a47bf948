"""The per-minute waiting history behind the sparklines."""

from __future__ import annotations

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
