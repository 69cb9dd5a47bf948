"""The new-arrival rule, the wallboard's worst-first order and its grid (the threshold rules
themselves are the figure table's: ``tests/live/test_figures.py``)."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from voki_tui.live.figures import Level, department_level, worst_first_key
from voki_tui.testing.fakes import T0, busy_views, customer, department, view
from voki_tui.ui.screens.wallboard import CHROME_LINES, TILE_SIZE, grid_shape, page_count
from voki_tui.ui.widgets.levels import is_new


def test_new_mark_window() -> None:
    joined = T0 - timedelta(seconds=1)
    assert is_new(T0, joined, T0 + timedelta(seconds=29))
    assert not is_new(T0, joined, T0 + timedelta(seconds=30))
    assert not is_new(None, joined, T0)


def test_customers_already_waiting_at_start_up_are_not_new() -> None:
    """They are first seen when the client connects, but they joined long before."""
    assert not is_new(T0, T0 - timedelta(minutes=5), T0 + timedelta(seconds=1))


@given(st.floats(min_value=-3600, max_value=3600), st.floats(min_value=0, max_value=3600))
def test_new_needs_both_a_recent_sighting_and_a_recent_join(skew: float, later: float) -> None:
    first_seen = T0
    queued_at = T0 - timedelta(seconds=skew)
    now = T0 + timedelta(seconds=later)
    expected = later < 30 and skew < 30
    assert is_new(first_seen, queued_at, now) is expected


def test_worst_first_puts_breaches_before_longer_calm_queues() -> None:
    calm = view(
        department("d-calm", "Calm", max_wait_time=3600, max_queue_size=None),
        [customer("c-1", "A", 1000, department_id="d-calm")],
    )
    breach = view(
        department("d-hot", "Hot", max_wait_time=60, max_queue_size=None),
        [customer("c-2", "B", 61, department_id="d-hot")],
    )
    empty = view(department("d-empty", "Empty"))
    ordered = sorted([empty, calm, breach], key=lambda v: worst_first_key(v, T0))
    assert [v.department.id for v in ordered] == ["d-hot", "d-calm", "d-empty"]
    assert department_level(breach, T0) is Level.ALERT
    assert department_level(busy_views()[2], T0) is Level.OK


@given(st.integers(min_value=40, max_value=250), st.integers(min_value=10, max_value=70))
def test_grid_always_has_a_tile_and_fits_when_possible(width: int, height: int) -> None:
    for big in (True, False):
        cols, rows = grid_shape(width, height, big)
        tile_w, tile_h = TILE_SIZE[big]
        assert cols >= 1 and rows >= 1
        assert cols * tile_w <= width or cols == 1
        assert rows * tile_h <= height - CHROME_LINES or rows == 1
        assert (cols + 1) * tile_w > width and (rows + 1) * tile_h > height - CHROME_LINES


@given(st.integers(min_value=0, max_value=1000), st.integers(min_value=1, max_value=60))
def test_pages_cover_every_department_once(departments: int, per_page: int) -> None:
    pages = page_count(departments, per_page)
    assert pages >= 1
    assert (pages - 1) * per_page < max(departments, 1) <= pages * per_page


@given(
    st.integers(min_value=40, max_value=250),
    st.integers(min_value=10, max_value=70),
    st.integers(min_value=0, max_value=60),
)
def test_grid_for_a_count_fits_and_holds_a_full_page(width: int, height: int, count: int) -> None:
    for big in (True, False):
        most_cols, most_rows = grid_shape(width, height, big)
        cols, rows = grid_shape(width, height, big, count)
        assert 1 <= cols <= most_cols and 1 <= rows <= most_rows
        per_page = min(max(1, count), most_cols * most_rows)
        assert cols * rows >= per_page  # one page shows as many as can fit
        assert (cols - 1) * rows < per_page and cols * (rows - 1) < per_page  # no empty line


def test_few_departments_fill_a_large_wall() -> None:
    """Four tiles on a 200x60 wall: 2x2, not a strip of four small tiles along the top."""
    assert grid_shape(200, 60, True, 4) == (2, 2)
    assert grid_shape(200, 60, True, 1) == (1, 1)
    cols, rows = grid_shape(200, 60, True, 12)
    assert cols * rows >= 12 and rows > 1
