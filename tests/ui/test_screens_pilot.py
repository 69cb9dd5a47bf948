"""Behaviour of the data screens: ages tick alone, the cursor follows its customer, pages
rotate on ticks, hostile names stay literal, and a tick repaints only the age cells."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from textual.geometry import Region

from voki_tui.testing.fakes import T0, busy_views, customer, snapshot, view
from voki_tui.ui.screens.presence import PresenceScreen
from voki_tui.ui.screens.queue import QueueScreen
from voki_tui.ui.screens.wallboard import WallboardScreen
from voki_tui.ui.widgets.agent_table import AgentTable
from voki_tui.ui.widgets.figure import Figure
from voki_tui.ui.widgets.queue_table import QueueTable
from voki_tui.ui.widgets.tile import DepartmentTile
from voki_tui.ui.widgets.title_line import TitleLine
from voki_tui.ui.widgets.trend import WaitingTrend

from .test_screens import ScreenHost, many_departments, unauthorized_snapshot

HOSTILE_NAME = "[@click=app.quit]x[/] [/foo] \x1b[2J\x1b]0;pwned\x07 \u202eevil"


def table_lines(table: QueueTable | AgentTable) -> list[str]:
    return [table.render_line(y).text for y in range(table.size.height)]


async def test_tick_changes_only_the_age_text() -> None:
    app = ScreenHost(lambda: QueueScreen("d-sales"), snapshot())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(QueueTable)
        before = table_lines(table)
        table.refreshed_regions.clear()
        figures = {f.id: f.updates for f in app.screen.query(Figure)}
        trend_updates = app.screen.query_one(WaitingTrend).updates

        app.advance(1)
        await pilot.pause()
        after = table_lines(table)

        wait_start, wait_width = table._column_spans(table.size.width)[0]
        changed = [(b, a) for b, a in zip(before, after, strict=True) if b != a]
        assert len(changed) == 4  # the four customers' waits, nothing else
        for old, new in changed:
            outside = slice(0, wait_start)
            assert old[outside] == new[outside]
            assert old[wait_start + wait_width :] == new[wait_start + wait_width :]
        assert "3:06" in after[1] and "3:05" in before[1]
        # Self-measurement: the tick asked to repaint exactly the four wait cells.
        assert table.refreshed_regions == [
            Region(wait_start, line, wait_width, 1) for line in range(1, 5)
        ]
        after_figures = {f.id: f.updates for f in app.screen.query(Figure)}
        moved = {fid for fid in figures if after_figures[fid] != figures[fid]}
        assert moved == {"fig-longest_wait_s"}
        assert app.screen.query_one(WaitingTrend).updates == trend_updates


async def test_new_mark_goes_after_thirty_seconds() -> None:
    app = ScreenHost(lambda: QueueScreen("d-sales"), snapshot())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(QueueTable)
        assert "new" in table.cells_of("c-4")[4].text
        app.advance(27)
        await pilot.pause()
        assert table.cells_of("c-4")[4].text == ""


async def test_cursor_stays_on_customer_when_a_row_above_leaves() -> None:
    snap = snapshot()
    app = ScreenHost(lambda: QueueScreen("d-sales"), snap)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(QueueTable)
        live = app.live
        assert live is not None
        await pilot.press("down", "down")
        assert table.cursor_key == "c-3"

        sales, *others = snap.departments
        without_first = replace(sales, waiting=sales.waiting[1:])
        arrival = customer("c-9", "Nova Cliente", 1)
        with_new = replace(without_first, waiting=(*without_first.waiting, arrival))
        live.show_snapshot(replace(snap, version=2, departments=(with_new, *others)))
        await pilot.pause()
        assert table.keys == ("c-2", "c-3", "c-4", "c-9")
        assert table.cursor_key == "c-3"
        assert "2 Fernanda Oliveira" in table.render_line(2).text

        # The customer under the cursor is served: the cursor moves to the next in line.
        shorter = replace(with_new, waiting=(with_new.waiting[0], *with_new.waiting[2:]))
        live.show_snapshot(replace(snap, version=3, departments=(shorter, *others)))
        await pilot.pause()
        assert table.cursor_key == "c-4"


async def test_mouse_click_moves_cursor() -> None:
    app = ScreenHost(lambda: QueueScreen("d-sales"), snapshot())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(QueueTable)
        assert await pilot.click(QueueTable, offset=(5, 3))
        assert table.cursor_key == "c-3"


async def test_hostile_names_are_shown_literally_and_harmlessly() -> None:
    hostile_dep = replace(busy_views()[0].department, name=HOSTILE_NAME)
    hostile_view = view(
        hostile_dep,
        [customer("c-1", HOSTILE_NAME, 30, reason=HOSTILE_NAME)],
    )
    snap = snapshot([hostile_view])
    app = ScreenHost(lambda: QueueScreen("d-sales"), snap)
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(QueueTable)
        row = table.render_line(1).text
        assert "[@click=app.quit]x[/] [/foo]" in row
        assert "\x1b" not in row and "\x07" not in row and "\u202e" not in row
        assert "␛[2J" in row
        title = app.screen.query_one(TitleLine).text.plain
        assert "[@click=app.quit]x[/]" in title and "\x1b" not in title
        await pilot.click(QueueTable, offset=(20, 1))  # on the would-be click target
        await pilot.click(TitleLine, offset=(12, 0))
        await pilot.pause()
        assert app.is_running
        assert app.return_code is None

        wall = WallboardScreen(compact=True)
        app.push_screen(wall)
        wall.show_snapshot(snap)
        wall.tick(T0)
        await pilot.pause()
        tile_title = app.screen.query(DepartmentTile).first().query_one(TitleLine).text.plain
        assert tile_title.startswith("[@click=app.quit]x[/]")
        assert app.is_running


async def test_wallboard_rotates_pages_on_ticks() -> None:
    app = ScreenHost(WallboardScreen, many_departments(20))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        wall = app.screen
        assert isinstance(wall, WallboardScreen)
        assert wall.per_page == 9 and wall.pages == 3 and wall.page == 0
        names = [t.view.department.name for t in wall.query(DepartmentTile) if t.view]
        assert names[0] == "Departamento 19"  # worst (longest wait) first
        for expected in (0, 0, 0, 0, 0, 0, 0, 0, 0, 1):  # ticks 1..10 s
            app.advance(1)
            assert wall.page == expected
        await pilot.pause()
        assert "page 2/3" in wall.query_one(TitleLine).text.plain
        app.advance(10)
        app.advance(10)
        assert wall.page == 0


async def test_wallboard_fits_without_rotation_and_marks_breach() -> None:
    app = ScreenHost(WallboardScreen, snapshot())
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        wall = app.screen
        assert isinstance(wall, WallboardScreen)
        assert wall.big and wall.pages == 1
        tiles = [t for t in wall.query(DepartmentTile) if t.view]
        assert [t.view.department.id for t in tiles if t.view] == [
            "d-sales",
            "d-support",
            "d-billing",
        ]
        assert tiles[0].has_class("-alert")  # 3:05 waited against a 2:00 limit
        app.advance(30)
        assert wall.page == 0


async def test_unauthorized_queue_says_so() -> None:
    app = ScreenHost(lambda: QueueScreen("d-sales"), unauthorized_snapshot())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.screen.has_class("-failed")
        assert not app.screen.query_one(QueueTable).display
        assert not app.screen.query_one(QueueTable).keys


async def test_presence_ticks_time_in_status_only() -> None:
    app = ScreenHost(lambda: PresenceScreen("d-support"), snapshot())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(AgentTable)
        lines = table_lines(table)
        assert "? on_break_custom" in lines[2]  # unknown status shown verbatim
        table.refreshed_regions.clear()
        app.advance(1)
        start, width = table._column_spans(table.size.width)[0]
        assert table.refreshed_regions == [Region(start, y, width, 1) for y in (1, 2)]
        assert app.now == T0 + timedelta(seconds=1)


async def test_alert_wait_on_the_cursor_row_keeps_the_cursor_colours() -> None:
    """Red on the cursor's blue was unreadable: the cursor row shows levels in bold + glyph."""
    app = ScreenHost(lambda: QueueScreen("d-sales"), snapshot())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(QueueTable)
        assert table.cursor_key == "c-1"  # 3:05 against a 2:00 limit: an alert
        error = app.theme_variables["text-error"].lower()

        def alert_segment(y: int) -> tuple[str, str | None, bool]:
            segment = next(s for s in table.render_line(y) if "‼" in s.text)
            assert segment.style is not None
            color = segment.style.color
            hex_color = color.triplet.hex if color is not None and color.triplet else None
            return segment.text, hex_color, bool(segment.style.bold)

        _text, on_cursor, bold = alert_segment(1)
        assert on_cursor != error and bold
        await pilot.press("down")
        _text, off_cursor, _bold = alert_segment(1)
        assert off_cursor == error


async def test_the_cursor_dims_while_the_filter_has_the_keys() -> None:
    """The theme's blurred cursor is translucent; drawn solid, it looked focused."""
    app = ScreenHost(lambda: QueueScreen("d-sales"), snapshot())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(QueueTable)

        def cursor_background() -> str | None:
            style = next(iter(table.render_line(1))).style
            color = style.bgcolor if style is not None else None
            return color.triplet.hex if color is not None and color.triplet else None

        focused = cursor_background()
        await pilot.press("/")
        assert not table.has_focus
        blurred = cursor_background()
        await pilot.press("escape")
        assert table.has_focus
        assert cursor_background() == focused != blurred


async def test_level_colours_follow_a_theme_switch() -> None:
    """The table keeps its level styles between ticks; a new theme's styles replace them."""
    app = ScreenHost(lambda: QueueScreen("d-sales"), snapshot())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(QueueTable)
        await pilot.press("down")  # the alert row (3:05 against 2:00) off the cursor

        def alert_colour() -> str | None:
            segment = next(s for s in table.render_line(1) if "‼" in s.text)
            color = segment.style.color if segment.style is not None else None
            return color.triplet.hex if color is not None and color.triplet else None

        for theme in ("textual-dark", "textual-light", "textual-dark"):
            app.theme = theme
            await pilot.pause()
            app.advance(1)
            await pilot.pause()
            assert alert_colour() == app.theme_variables["text-error"].lower(), theme


async def test_rotation_shows_every_department_once_per_cycle_while_waits_change() -> None:
    """Live re-sorting mid-cycle moved departments between pages (seen twice, or never)."""
    app = ScreenHost(WallboardScreen, many_departments(12))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        wall = app.screen
        assert isinstance(wall, WallboardScreen)
        assert wall.pages == 2
        seen: list[str] = []
        for cycle_page in range(wall.pages):
            seen += [t.view.department.id for t in wall.query(DepartmentTile) if t.view]
            if cycle_page == wall.pages - 1:
                break
            # Meanwhile the calmest department (d-00) becomes the worst: a 10-minute wait.
            snap = many_departments(12)
            d00 = snap.departments[0]
            hot = replace(d00, waiting=(customer("c-hot", "Hot", 600, department_id="d-00"),))
            live = app.live
            assert live is not None
            live.show_snapshot(replace(snap, version=2, departments=(hot, *snap.departments[1:])))
            app.advance(10)
            await pilot.pause()
        assert sorted(seen) == sorted(f"d-{i:02d}" for i in range(12))
        app.advance(10)  # back to page 1: a new cycle puts the worst first
        await pilot.pause()
        first = next(t for t in wall.query(DepartmentTile) if t.view)
        assert first.view is not None and first.view.department.id == "d-00"


async def test_presence_call_column_names_the_customer_or_shortens_the_id() -> None:
    long_id = "3f2a9c1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b"
    sales, *others = busy_views()
    agents = (
        replace(sales.agents[0], call_id="c-1"),  # was seen waiting: Ana Beatriz Lima
        replace(sales.agents[1], status="in_call", call_id=long_id),
        *sales.agents[2:],
    )
    snap = snapshot([replace(sales, agents=agents), *others])
    app = ScreenHost(lambda: PresenceScreen("d-sales"), snap)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(AgentTable)
        assert table.cells_of(agents[0].user_id)[4].text == "Ana Beatriz Lima"
        assert table.cells_of(agents[1].user_id)[4].text == "3f2a9c1e…"
