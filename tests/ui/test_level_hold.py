"""``held``: a tile's level rises at once and falls only after ``LEVEL_HOLD`` of better."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from voki_tui.testing.fakes import T0
from voki_tui.ui.widgets.levels import LEVEL_HOLD, Level, held

STEPS = st.lists(
    st.tuples(st.sampled_from(list(Level)), st.floats(min_value=0, max_value=8)), max_size=40
)


@given(STEPS)
def test_never_below_the_actual_level_and_held_no_longer_than_the_hold(
    steps: list[tuple[Level, float]],
) -> None:
    shown, since = Level.OK, None
    now = T0
    better_from: datetime | None = None  # first observation of the current better spell
    for actual, gap_s in steps:
        now += timedelta(seconds=gap_s)
        before = shown
        shown, since = held(shown, actual, since, now)
        assert shown >= actual
        if actual >= before:
            assert shown == actual  # a rise (or the same) shows at once
            better_from = None
            continue
        better_from = better_from or now
        if now - better_from >= LEVEL_HOLD:
            assert shown == actual
            better_from = None
        else:
            assert shown == before


def test_a_flapping_queue_stays_red_then_settles() -> None:
    shown, since = held(Level.OK, Level.ALERT, None, T0)
    for second in range(1, 5):
        actual = Level.WARN if second % 2 else Level.ALERT
        shown, since = held(shown, actual, since, T0 + timedelta(seconds=second))
        assert shown is Level.ALERT
    shown, since = held(shown, Level.OK, since, T0 + timedelta(seconds=5))
    shown, since = held(shown, Level.OK, since, T0 + timedelta(seconds=9.9))
    assert shown is Level.ALERT
    shown, since = held(shown, Level.OK, since, T0 + timedelta(seconds=10))
    assert (shown, since) == (Level.OK, None)
