"""What a snapshot costs the terminal: no layout pass, and repaints only where content changed.

A layout pass re-arranges and repaints the whole screen; on a stream of 40 snapshots a second it
was most of the app's CPU. These tests count layout passes (each one publishes the screen's
``screen_layout_refresh_signal``) and the regions widgets ask to repaint while the app receives
a stream of small changes.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from textual.geometry import Region
from textual.screen import Screen
from textual.widget import Widget

from voki_tui.live.state import FeedSnapshot
from voki_tui.testing.fakes import (
    DEPARTMENTS,
    SUPERVISOR,
    T0,
    FakeAuth,
    FakeFeed,
    FrozenClock,
    busy_views,
    customer,
    options,
    snapshot,
    view,
)
from voki_tui.ui.app import VokiApp
from voki_tui.ui.screens.departments import DepartmentsScreen, DepartmentTable
from voki_tui.ui.screens.queue import QueueScreen
from voki_tui.ui.widgets.queue_table import QueueTable
from voki_tui.ui.widgets.trend import HourChart

from .test_screens import ScreenHost

WAIT_S = 10.0


async def until(pilot: Any, condition: Callable[[], bool]) -> None:
    deadline = asyncio.get_running_loop().time() + WAIT_S
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await pilot.pause(0.02)


def small_changes(count: int) -> Iterator[FeedSnapshot]:
    """Snapshots 25 ms apart: a customer joins, one leaves mid-queue, an agent changes status."""
    base = busy_views()
    sales = DEPARTMENTS[0]
    waiting = list(base[0].waiting)
    agents = list(base[0].agents)
    now = T0
    for step in range(count):
        now += timedelta(milliseconds=25)
        if step % 3 == 0:
            waiting.append(customer(f"c-{100 + step}", f"Cliente {step}", 0, now=now, seen_s=0))
        elif step % 3 == 1:
            waiting.pop(len(waiting) // 2)
        else:
            moved = agents[step % len(agents)]
            status = "available" if moved.status != "available" else "in_call"
            agents[step % len(agents)] = replace(moved, status=status, since=now)
        sales_view = view(sales, waiting, agents, now=now, waiting_history=[1, 2, len(waiting)])
        yield snapshot((sales_view, *base[1:]), version=step + 2, now=now)


def layout_passes(screen: Screen[Any]) -> list[str]:
    """The class name of ``screen`` (mounted), once per layout pass from now on."""
    passes: list[str] = []
    screen.screen_layout_refresh_signal.subscribe(
        screen, lambda laid_out: passes.append(type(laid_out).__name__), immediate=True
    )
    return passes


async def settled(pilot: Any, passes: list[str]) -> None:
    """Until the screen's own first layout is done: 0.2 s without a layout pass (a busy
    machine can take longer than a fixed pause, and a late first layout is not the stream's).
    """
    deadline = asyncio.get_running_loop().time() + WAIT_S
    while True:
        passes.clear()
        await pilot.pause(0.2)
        if not passes:
            return
        assert asyncio.get_running_loop().time() < deadline, f"never settled: {passes}"


@pytest.mark.parametrize(
    ("keys", "screen_name"),
    [
        ((), "DepartmentsScreen"),
        (("enter",), "QueueScreen"),
        (("p",), "PresenceScreen"),
        (("w",), "WallboardScreen"),
    ],
)
async def test_a_stream_of_snapshots_needs_no_layout_pass(
    keys: tuple[str, ...], screen_name: str
) -> None:
    clock = FrozenClock()
    feed = FakeFeed([snapshot()])
    app = VokiApp(options(), FakeAuth(restored=SUPERVISOR), feed, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, DepartmentsScreen))
        await until(pilot, lambda: feed.running.is_set())
        await pilot.press(*keys)
        await until(pilot, lambda: type(app.screen).__name__ == screen_name)
        passes = layout_passes(app.screen)
        await settled(pilot, passes)
        last = None
        for snap in small_changes(30):
            clock.now = snap.taken_at
            feed.push(snap)
            last = snap
            await pilot.pause(0.02)
        assert last is not None
        await until(pilot, lambda: app.snapshot is last)
        await pilot.pause(0.1)
        assert passes == []


def spy_refreshes(monkeypatch: pytest.MonkeyPatch, widget: Widget) -> list[tuple[Region, ...]]:
    """The regions of every ``refresh`` call of ``widget`` (an empty tuple: the whole widget)."""
    calls: list[tuple[Region, ...]] = []
    original = type(widget).refresh

    def spy(self: Widget, *regions: Region, **kwargs: Any) -> Widget:
        if self is widget:
            calls.append(regions)
        return original(self, *regions, **kwargs)

    monkeypatch.setattr(type(widget), "refresh", spy)
    return calls


def last_difference(old: str, new: str) -> int:
    """The column after the last one where two drawn lines differ (0: equal)."""
    old, new = old.ljust(len(new)), new.ljust(len(old))
    return max((x + 1 for x, (a, b) in enumerate(zip(old, new, strict=True)) if a != b), default=0)


async def test_a_customer_leaving_mid_queue_repaints_each_moved_line_once() -> None:
    """Textual writes a line's dirty region from the table's left edge to the region's end, and
    again for each region of the line: so each line that changed gets one region, ending at its
    last changed character, never the blank rest of the width."""
    snap = snapshot()
    app = ScreenHost(lambda: QueueScreen("d-sales"), snap)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(QueueTable)
        assert list(table.keys) == ["c-1", "c-2", "c-3", "c-4"]
        before = [table.render_line(y).text for y in range(6)]
        table.refreshed_regions.clear()
        sales, *others = snap.departments
        gone = replace(sales, waiting=(sales.waiting[0], *sales.waiting[2:]))
        assert app.live is not None
        app.live.show_snapshot(replace(snap, version=2, departments=(gone, *others)))
        await pilot.pause()
        assert list(table.keys) == ["c-1", "c-3", "c-4"]
        after = [table.render_line(y).text for y in range(6)]
        regions = table.refreshed_regions
        # one region per line that moved (not the unchanged row 1, not the blanks below)
        assert [r.y for r in regions] == [2, 3, 4]
        for region in regions:
            y = region.y
            assert region.height == 1
            assert region.right == last_difference(before[y], after[y])
        assert after[4].strip() == ""  # the old last row is now blank: cleared up to its end
        assert regions[-1].right == len(before[4].rstrip()) < table.size.width


async def test_a_row_is_drawn_in_one_segment_per_style_run() -> None:
    """Textual writes each segment with its own style and reset (about 24 bytes in 256
    colours): cells and gaps of one style are one run; only a styled cell (a level, a dash, a
    new mark) splits the line."""
    app = ScreenHost(lambda: QueueScreen("d-sales"), snapshot())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(QueueTable)
        for y in range(1 + len(table.keys)):
            segments = list(table.render_line(y))
            assert all(a.style != b.style for a, b in itertools.pairwise(segments)), y
            assert len(segments) <= 3, (y, segments)


async def test_departments_tick_repaints_one_cell(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FrozenClock()
    app = VokiApp(options(), FakeAuth(restored=SUPERVISOR), FakeFeed([snapshot()]), clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, DepartmentsScreen))
        table = app.screen.query_one(DepartmentTable)
        await until(pilot, lambda: "d-sales" in table.keys)
        assert table.cells_of("d-sales")[1].text == "‼ 3:05"
        table.refreshed_regions.clear()
        clock.advance(1)
        app._tick()
        assert table.cells_of("d-sales")[1].text == "‼ 3:06"
        assert table.cells_of("d-support")[1].text == "  0:31"
        start, width = table._column_spans(table.size.width)[1]
        lines = [1 + table.keys.index(row) for row in ("d-sales", "d-support")]
        assert table.refreshed_regions == [Region(start, y, width, 1) for y in lines]


async def test_hour_chart_repaints_only_the_bars_that_changed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = ScreenHost(lambda: QueueScreen("d-sales"), snapshot())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        chart = app.screen.query_one(HourChart)
        width = chart.size.width
        history = chart.history
        calls = spy_refreshes(monkeypatch, chart)
        minute, count = history[-1]
        chart.show((*history[:-1], (minute, count + 1)), chart.max_queue_size)
        assert len(calls) == 1 and len(calls[0]) == 1
        (region,) = calls[0]
        assert region.right == width and 0 < region.width < width // 10
        chart.show(chart.history, chart.max_queue_size)
        assert len(calls) == 1  # same data: nothing to repaint
        later = (*chart.history, (minute + timedelta(minutes=1), count))
        chart.show(later, chart.max_queue_size)  # a new minute: every bar shifts left
        shifted = calls[-1][0]
        assert (shifted.x, shifted.right) == (width - len(later), width)  # all the bars


async def test_a_snapshot_makes_the_cells_of_the_rows_on_screen_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A list of 200 rows made every row's cells on every snapshot to show a screenful; rows
    off screen are now made when asked for, and are right then."""
    sales = DEPARTMENTS[0]
    crowd = [customer(f"c-{n:03d}", f"Cliente {n}", 600 - n) for n in range(200)]
    base = busy_views()
    snap = snapshot((view(sales, crowd), *base[1:]))
    made: list[str] = []
    original = QueueTable.row_cells

    def counted(self: QueueTable, row: Any, index: int, now: Any) -> Any:
        made.append(row.call_id)
        return original(self, row, index, now)

    monkeypatch.setattr(QueueTable, "row_cells", counted)
    app = ScreenHost(lambda: QueueScreen("d-sales"), snap)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(QueueTable)
        shown = table.size.height - 1
        assert len(table.keys) == 200 and shown < 40
        made.clear()
        assert app.live is not None
        app.live.show_snapshot(replace(snap, version=2, taken_at=T0 + timedelta(seconds=1)))
        app.advance(1)
        await pilot.pause()
        assert 0 < len(set(made)) <= shown and len(made) <= 3 * shown
        last = table.keys[-1]
        assert table.cells_of(last)[0].text == "‼ 6:42"  # waited 401 s, and the second since
