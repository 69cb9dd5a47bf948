"""The rolling outcome window: per-second buckets, exact boundary, bounded memory."""

from __future__ import annotations

from voki_tui.live.window import Outcome, OutcomeWindow, WindowTotals

from .helpers import at


def test_boundary_is_per_second_and_exclusive_of_the_oldest_second() -> None:
    w = OutcomeWindow(window_s=60, threshold_s=10)
    w.add(Outcome.ANSWERED, at(0.9), 5)
    w.add(Outcome.ABANDONED, at(30), 12)
    assert w.totals(at(59.9)) == WindowTotals(1, 1, 5000, 1, 1)
    assert w.totals(at(60)) == WindowTotals(0, 0, 0, 1, 1)  # second 0 <= 60 - 60
    assert not w.add(Outcome.ANSWERED, at(0), 1)  # already out of the window
    assert w.too_old == 1


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
