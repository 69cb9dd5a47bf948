"""The last-hour chart: a fixed time axis and a fixed scale from zero (no min-max stretching)."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from voki_tui.live.figures import Level
from voki_tui.live.figures import queue_level as bar_level
from voki_tui.testing.fakes import T0, history
from voki_tui.ui.widgets.trend import MINUTES, bar_cells, buckets, scale_top


def test_a_flat_low_series_is_low_not_full() -> None:
    """The reported bug: waiting 1 for a while drew two rows of full blocks."""
    series = history([1, 1, 1, 1])
    top = scale_top(series, max_queue_size=10)
    assert top == 10
    assert bar_cells(1, top) == [" ", "▂"]
    assert bar_cells(10, top) == ["█", "█"]


def test_scale_grows_past_the_limit_and_has_a_floor_without_one() -> None:
    assert scale_top(history([3, 12]), max_queue_size=10) == 12
    assert scale_top(history([0, 0]), max_queue_size=None) == 1
    assert scale_top((), max_queue_size=None) == 1


def test_zero_is_a_baseline_dot_and_no_data_is_blank() -> None:
    assert bar_cells(0, 5) == [" ", "·"]
    assert bar_cells(None, 5) == [" ", " "]


def test_one_minute_of_data_is_one_minute_wide_at_the_right() -> None:
    """A client that started a minute ago must not draw a full hour."""
    columns = buckets(history([4]), width=120)
    assert columns[-2:] == [4, 4]  # 120 columns: two per minute
    assert columns[:-2] == [None] * 118


def test_minutes_are_placed_by_time_not_by_index() -> None:
    series = (
        (T0 - timedelta(minutes=30), 2),
        (T0, 5),
    )
    columns = buckets(series, width=MINUTES)
    assert columns[-1] == 5
    assert columns[-31] == 2
    assert columns.count(None) == MINUTES - 2


def test_narrow_charts_keep_the_peak_of_the_minutes_they_merge() -> None:
    series = history([1, 9, 1, 1])
    columns = buckets(series, width=20)  # 3 minutes per column
    assert len(columns) == 20
    assert max(c for c in columns if c is not None) == 9


@given(
    st.lists(st.integers(min_value=0, max_value=500), min_size=0, max_size=90),
    st.integers(min_value=1, max_value=250),
)
def test_buckets_fill_the_width_and_never_invent_values(values: list[int], width: int) -> None:
    series = history(values)
    columns = buckets(series, width)
    assert len(columns) == width
    shown = {c for c in columns if c is not None}
    assert shown <= set(values[-MINUTES:])
    if values:
        assert columns[-1] is not None  # "now" is always drawn


@given(st.integers(min_value=0, max_value=1000), st.integers(min_value=1, max_value=1000))
def test_bars_grow_with_the_value_and_never_overflow(value: int, top: int) -> None:
    cells = bar_cells(value, top)
    assert len(cells) == 2
    height = sum(" ▁▂▃▄▅▆▇█".index(c) for c in cells if c != "·")
    bigger = sum(" ▁▂▃▄▅▆▇█".index(c) for c in bar_cells(value + 1, top) if c != "·")
    assert height <= bigger <= 16
    assert (height > 0) == (value > 0)


def test_bar_levels_follow_the_queue_limit() -> None:
    assert bar_level(4, 10) is Level.OK
    assert bar_level(5, 10) is Level.WARN
    assert bar_level(10, 10) is Level.ALERT
    assert bar_level(99, None) is Level.OK
