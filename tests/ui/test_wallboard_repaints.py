"""What a change costs the wallboard: one figure's changed glyphs, never the tile or a layout.

At 100 events/s over four departments the live worst-first sort swapped tiles' departments on
almost every snapshot, a queue at its limit flipped the tile's frame between red and yellow,
and each ``Digits`` update repainted its full width: about 70 KB/s at 120x40. These tests pin
down what is left: a changed figure repaints, in the glyphs that changed, the rows that differ.
Each glyph is its own widget, because Textual writes a dirty line from the left edge of its
widget: a repaint of the last glyph of one wide widget wrote every glyph before it as well.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from textual.geometry import Region
from textual.screen import Screen
from textual.widget import Widget

from voki_tui.testing.fakes import busy_views, customer, snapshot
from voki_tui.ui.screens.wallboard import ROTATE_EVERY, WallboardScreen
from voki_tui.ui.widgets.big_digits import BigDigits, Glyph, render_lines, rows_for
from voki_tui.ui.widgets.figure import Figure
from voki_tui.ui.widgets.levels import LEVEL_HOLD
from voki_tui.ui.widgets.tile import SECONDS_SCALE, DepartmentTile
from voki_tui.ui.widgets.title_line import TitleLine

from .test_screens import ScreenHost

BIG = (160, 50)


Calls = list[tuple[Widget, tuple[Region, ...]]]


@pytest.fixture
def refreshes(monkeypatch: pytest.MonkeyPatch) -> Iterator[Calls]:
    """Every widget ``refresh`` (an empty region tuple: the whole widget) and, once
    :func:`with_layouts` is called on the screen, every layout pass."""
    calls: Calls = []
    refresh = Widget.refresh

    def spy(self: Widget, *regions: Region, **kwargs: Any) -> Widget:
        calls.append((self, regions))
        return refresh(self, *regions, **kwargs)

    monkeypatch.setattr(Widget, "refresh", spy)
    yield calls


def with_layouts(screen: Screen[Any], calls: Calls) -> None:
    """Add ``screen``'s layout passes to ``calls`` (its public layout signal)."""
    screen.screen_layout_refresh_signal.subscribe(
        screen, lambda laid_out: calls.append((laid_out, ("layout pass",))), immediate=True
    )


def tiles(wall: WallboardScreen) -> dict[str, DepartmentTile]:
    return {t.view.department.id: t for t in wall.query(DepartmentTile) if t.view is not None}


def digits(tile: DepartmentTile, figure: str) -> BigDigits:
    return tile.query_one(f"#{figure} BigDigits", BigDigits)


def glyph_widgets(digits: BigDigits) -> list[Glyph]:
    return list(digits.query_children(Glyph))


def changed_rows(old: str, new: str, scale: int, pad: int = 0) -> tuple[Region, ...]:
    """What a glyph going from ``old`` to ``new`` must repaint: each row that differs, from the
    glyph's left edge to its last changed cell (``pad`` rows down)."""
    regions = []
    for y, (before, after) in enumerate(
        zip(render_lines(old, scale), render_lines(new, scale), strict=True)
    ):
        differ = [x for x, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
        if differ:
            regions.append(Region(0, pad + y, differ[-1] + 1, 1))
    return tuple(regions)


def repaints(calls: list[tuple[Widget, tuple[Region, ...]]]) -> dict[Widget, list[Region]]:
    """Each repainted widget (the heading aside) with every region it asked for."""
    out: dict[Widget, list[Region]] = {}
    for widget, regions in without_heading(calls):
        out.setdefault(widget, []).extend(regions)
    return out


def without_heading(calls: list[tuple[Widget, tuple[Region, ...]]]) -> list[Any]:
    """The repaints besides the wallboard's heading (whose totals follow the figures)."""
    return [call for call in calls if not isinstance(call[0], TitleLine)]


async def test_one_more_customer_repaints_one_glyph_of_one_tile(
    refreshes: list[tuple[Widget, tuple[Region, ...]]],
) -> None:
    app = ScreenHost(WallboardScreen, snapshot())
    async with app.run_test(size=BIG) as pilot:
        await pilot.pause()
        wall = app.screen
        assert isinstance(wall, WallboardScreen) and wall.big
        waiting = digits(tiles(wall)["d-support"], "tile-waiting")
        assert waiting.value == "1"
        await pilot.pause()
        with_layouts(wall, refreshes)
        refreshes.clear()
        sales, support, billing = busy_views()
        joined = customer("c-11", "Nova", 0, department_id="d-support")
        busier = replace(support, waiting=(*support.waiting, joined))
        assert app.live is not None
        app.live.show_snapshot(snapshot((sales, busier, billing), version=2))
        await pilot.pause()
        assert waiting.value == "2"
        assert waiting.scale > 1, "the tile has room for digits taller than three rows"
        (glyph,) = glyph_widgets(waiting)
        assert repaints(refreshes) == {glyph: list(changed_rows("1", "2", waiting.scale))}
        assert 0 < len(changed_rows("1", "2", waiting.scale)) <= rows_for(waiting.scale)
        heading = [regions for widget, regions in refreshes if isinstance(widget, TitleLine)]
        assert len(heading) == 1 and heading[0][0].width == 1  # its total: "waiting 5" -> 6


async def test_a_tick_repaints_only_the_last_glyph_of_the_longest_wait(
    refreshes: list[tuple[Widget, tuple[Region, ...]]],
) -> None:
    """The seconds tick, drawn at ``SECONDS_SCALE`` on the minutes' baseline: the rows of the
    last glyph that differ, at that scale."""
    app = ScreenHost(WallboardScreen, snapshot())
    async with app.run_test(size=BIG) as pilot:
        await pilot.pause()
        wall = app.screen
        assert isinstance(wall, WallboardScreen)
        by_id = tiles(wall)
        sales, support = (digits(by_id[d], "tile-longest_wait_s") for d in ("d-sales", "d-support"))
        assert (sales.value, support.value) == ("3:05", "0:30")
        scale = sales.scale
        assert scale > SECONDS_SCALE, "the tile has room for minutes taller than the seconds"
        seconds = glyph_widgets(sales)[-1]
        assert [g.scale for g in glyph_widgets(sales)] == [scale] + [SECONDS_SCALE] * 3
        pad = rows_for(scale) - rows_for(SECONDS_SCALE)
        assert seconds.pad == pad and seconds.size.height == rows_for(scale)
        await pilot.pause()
        with_layouts(wall, refreshes)
        refreshes.clear()
        app.advance(1)
        await pilot.pause()
        assert (sales.value, support.value) == ("3:06", "0:31")
        assert repaints(refreshes) == {
            seconds: list(changed_rows("5", "6", SECONDS_SCALE, pad)),
            glyph_widgets(support)[-1]: list(changed_rows("0", "1", SECONDS_SCALE, pad)),
        }
        # "5" -> "6" differ in one pixel row: at most two of the glyph's terminal rows
        assert len(changed_rows("5", "6", SECONDS_SCALE)) <= 2 < rows_for(SECONDS_SCALE)
        # the glyph shows "6" on the baseline: blank rows, then the small digit
        lines = [seconds.render_line(y).text.rstrip() for y in range(rows_for(scale))]
        assert lines == [""] * pad + [line.rstrip() for line in render_lines("6", SECONDS_SCALE)]


async def test_a_queue_flapping_at_its_limit_keeps_the_tile_frame(
    refreshes: list[tuple[Widget, tuple[Region, ...]]],
) -> None:
    """Full, not full, full...: frame and figure stay red for ``LEVEL_HOLD``, then follow."""
    sales, support, billing = busy_views()
    calm = replace(support, waiting=())
    full = replace(
        calm,
        waiting=tuple(
            customer(f"c-{n}", f"Cliente {n}", 5, department_id="d-support") for n in range(20)
        ),
    )
    app = ScreenHost(WallboardScreen, snapshot((sales, full, billing)))
    async with app.run_test(size=BIG) as pilot:
        await pilot.pause()
        wall = app.screen
        assert isinstance(wall, WallboardScreen) and app.live is not None
        tile = tiles(wall)["d-support"]
        assert tile.has_class("-alert")
        await pilot.pause()
        with_layouts(wall, refreshes)
        refreshes.clear()
        for step in range(10):
            shown = replace(full, waiting=full.waiting[: 19 + step % 2])
            app.live.show_snapshot(snapshot((sales, shown, billing), version=2 + step))
            await pilot.pause()
        waiting = digits(tile, "tile-waiting")
        assert tile.has_class("-alert") and tile.query_one("#tile-waiting").has_class("-alert")
        assert set(repaints(refreshes)) <= set(glyph_widgets(waiting))  # "20" <-> "19" only
        assert ("layout pass",) not in [regions for _, regions in refreshes]
        app.live.show_snapshot(snapshot((sales, calm, billing), version=20))
        app.advance(LEVEL_HOLD.total_seconds() - 1)
        await pilot.pause()
        assert tile.has_class("-alert")
        app.advance(1)
        await pilot.pause()
        assert tile.has_class("-ok") and tile.query_one("#tile-waiting").has_class("-ok")


async def test_one_page_keeps_its_order_until_the_next_sort() -> None:
    """A worse department shows its breach at once but moves first only at the next sort."""
    app = ScreenHost(WallboardScreen, snapshot())
    async with app.run_test(size=BIG) as pilot:
        await pilot.pause()
        wall = app.screen
        assert isinstance(wall, WallboardScreen) and wall.pages == 1 and app.live is not None
        assert list(tiles(wall)) == ["d-sales", "d-support", "d-billing"]
        sales, support, billing = busy_views()
        late = customer("c-20", "Atrasada", 600, department_id="d-billing")
        hot = replace(billing, waiting=(late,))
        app.live.show_snapshot(snapshot((sales, support, hot), version=2))
        await pilot.pause()
        assert list(tiles(wall)) == ["d-sales", "d-support", "d-billing"]
        assert tiles(wall)["d-billing"].has_class("-alert")
        app.advance(ROTATE_EVERY.total_seconds() - 1)
        assert list(tiles(wall)) == ["d-sales", "d-support", "d-billing"]
        app.advance(1)
        await pilot.pause()
        assert list(tiles(wall)) == ["d-billing", "d-sales", "d-support"]


async def test_one_more_agent_free_repaints_one_character(
    refreshes: list[tuple[Widget, tuple[Region, ...]]],
) -> None:
    app = ScreenHost(WallboardScreen, snapshot())
    async with app.run_test(size=BIG) as pilot:
        await pilot.pause()
        wall = app.screen
        assert isinstance(wall, WallboardScreen) and app.live is not None
        agents = tiles(wall)["d-support"].query_one("#tile-agents", Figure)
        assert agents.value == "1/2 · In call 0 · Away 0"
        await pilot.pause()
        with_layouts(wall, refreshes)
        refreshes.clear()
        sales, support, billing = busy_views()
        assert support.metrics is not None
        freed = replace(support, metrics=replace(support.metrics, agents_available=2))
        app.live.show_snapshot(snapshot((sales, freed, billing), version=2))
        await pilot.pause()
        column = len("Free ")
        assert without_heading(refreshes) == [(agents, (Region(column, 0, 1, 1),))]
        assert agents.render_line(0).text.rstrip() == "Free 2/2 · In call 0 · Away 0"


async def test_a_stream_of_snapshots_is_painted_once_a_second_with_the_tick() -> None:
    """At 100 events/s the feed publishes 40 snapshots a second: the wall paints the newest
    with each tick while they keep coming, and a snapshot after a quiet second at once."""
    app = ScreenHost(WallboardScreen, snapshot())
    async with app.run_test(size=BIG) as pilot:
        await pilot.pause()
        wall = app.screen
        assert isinstance(wall, WallboardScreen) and app.live is not None
        support_tile = tiles(wall)["d-support"]
        waiting = digits(support_tile, "tile-waiting")
        longest = digits(support_tile, "tile-longest_wait_s")
        assert (waiting.value, longest.value) == ("1", "0:30")
        sales, support, billing = busy_views()
        versions = iter(range(2, 100))

        def show(count: int) -> None:
            extra = tuple(
                customer(f"c-x{n}", f"Extra {n}", 0, department_id="d-support")
                for n in range(count - len(support.waiting))
            )
            busier = replace(support, waiting=(*support.waiting, *extra))
            assert app.live is not None
            app.live.show_snapshot(snapshot((sales, busier, billing), version=next(versions)))

        show(2)  # the first after a quiet tick: at once
        assert waiting.value == "2"
        for count in (3, 4, 5):  # the stream goes on: held until the tick, the newest kept
            show(count)
        assert waiting.value == "2"
        app.advance(1)
        assert (waiting.value, longest.value) == ("5", "0:31")
        show(6)  # still coming: the next tick paints it
        assert waiting.value == "5"
        app.advance(1)
        assert (waiting.value, longest.value) == ("6", "0:32")
        app.advance(1)  # a quiet second
        assert longest.value == "0:33"
        show(7)
        assert waiting.value == "7"
        await pilot.pause()


@pytest.mark.parametrize(
    ("value", "scale", "scales"),
    [
        ("3:05", 4, [4, 2, 2, 2]),  # the seconds and their colon at most the seconds' scale
        ("1:02:03", 4, [4, 4, 4, 4, 2, 2, 2]),  # only the part from the last colon
        ("12", 4, [4, 4]),  # no colon: a count keeps the full scale
        ("—", 4, [4]),
        ("3:05", 1, [1, 1, 1, 1]),  # never larger than the figure's own scale
    ],
)
def test_only_a_durations_seconds_are_drawn_smaller(
    value: str, scale: int, scales: list[int]
) -> None:
    assert BigDigits(value, scale=scale, seconds_scale=2).scales() == scales
    assert BigDigits(value, scale=scale).scales() == [scale] * len(value)
