"""The desk: keys terminal users expect, detail panels, names of calls, offline members, and
screens that show the current snapshot from their first paint."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from textual.widgets import Static

from voki_tui.live.figures import Level, department_level, readings
from voki_tui.testing.fakes import (
    SUPERVISOR,
    T0,
    FakeAuth,
    FakeFeed,
    FrozenClock,
    busy_views,
    options,
    snapshot,
)
from voki_tui.ui.app import VokiApp
from voki_tui.ui.screens.departments import DepartmentsScreen, DepartmentTable
from voki_tui.ui.screens.detail import DetailPanel
from voki_tui.ui.screens.presence import PresenceScreen
from voki_tui.ui.screens.queue import QueueScreen
from voki_tui.ui.screens.wallboard import WallboardScreen
from voki_tui.ui.widgets.agent_table import AgentTable
from voki_tui.ui.widgets.big_digits import BigDigits
from voki_tui.ui.widgets.figure import Figure
from voki_tui.ui.widgets.filter_bar import FilterBar
from voki_tui.ui.widgets.queue_table import QueueTable
from voki_tui.ui.widgets.tile import DepartmentTile

from .test_shell_pilot import until

SIZE = (120, 40)


def board(**overrides: Any) -> tuple[VokiApp, FakeAuth, FakeFeed]:
    auth = FakeAuth(restored=SUPERVISOR)
    for name, value in overrides.pop("auth", {}).items():
        setattr(auth, name, value)
    feed = FakeFeed([overrides.pop("snap", snapshot())])
    return VokiApp(options(**overrides), auth, feed, FrozenClock()), auth, feed


async def test_list_keys_j_k_g_G_sort_filter_and_escape() -> None:
    app, _, _ = board()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, DepartmentsScreen))
        table = app.screen.query_one(DepartmentTable)
        await until(pilot, lambda: len(table.keys) == 3)
        await pilot.press("j")
        assert table.cursor_key == "d-support"
        await pilot.press("G")
        assert table.cursor_key == "d-billing"
        await pilot.press("k")
        assert table.cursor_key == "d-support"
        await pilot.press("g")
        assert table.cursor_key == "d-sales"
        await pilot.press("s", "s")  # as given -> longest wait -> name
        assert list(table.keys) == ["d-billing", "d-support", "d-sales"]
        assert "↓" in table._header_cells()[2].text
        await pilot.press("slash", *"fin")
        await until(pilot, lambda: table.keys == ("d-billing",))
        await pilot.press("escape")
        await until(pilot, lambda: len(table.keys) == 3)
        assert not app.screen.query_one(FilterBar).value and table.has_focus
        await pilot.press("u")
        await until(pilot, lambda: isinstance(app.screen, QueueScreen))
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, DepartmentsScreen))


async def test_every_list_filters_the_queue_too() -> None:
    app, _, _ = board()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, DepartmentsScreen))
        await pilot.press("u")
        await until(pilot, lambda: isinstance(app.screen, QueueScreen))
        table = app.screen.query_one(QueueTable)
        await until(pilot, lambda: len(table.keys) == 4)
        await pilot.press("slash", *"cancel")
        await until(pilot, lambda: table.keys == ("c-2",))  # by reason: "Cancelamento"
        assert table.cells_of("c-2")[1].text == "2", "the position stays the queue's"
        await pilot.press("escape", "escape")
        await until(pilot, lambda: isinstance(app.screen, DepartmentsScreen))


@pytest.mark.parametrize("show_contact", [False, True])
async def test_enter_on_a_customer_opens_their_panel_contact_masked(show_contact: bool) -> None:
    sales, *others = busy_views()
    first = replace(
        sales.waiting[0], customer_email="ana.lima@example.com", customer_phone="+55 11 98765-4321"
    )
    snap = snapshot([replace(sales, waiting=(first, *sales.waiting[1:])), *others])
    app, _, _ = board(snap=snap, show_contact=show_contact)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, DepartmentsScreen))
        await pilot.press("u")
        await until(pilot, lambda: isinstance(app.screen, QueueScreen))
        table = app.screen.query_one(QueueTable)
        await until(pilot, lambda: table.cursor_key == "c-1" and table.has_focus)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DetailPanel))
        body = str(app.screen.query_one("#detail-body", Static).render())
        assert "Ana Beatriz Lima" in body and "Dúvida sobre plano" in body and "3:05" in body
        assert "Position       1" in body
        if show_contact:
            assert "ana.lima@example.com" in body and "98765-4321" in body
        else:
            assert "a•••@example.com" in body and "•••• 4321" in body
            assert "ana.lima" not in body and "98765" not in body
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, QueueScreen))


async def test_presence_names_each_call_once_and_lists_offline_members() -> None:
    auth = {
        "call_customers": {"c-0": "Zé Ninguém"},
        "department_members": {"d-sales": (("a-1", "Beatriz Santos"), ("u-9", "Otto Ausente"))},
    }
    app, fake, feed = board(auth=auth)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, DepartmentsScreen))
        await pilot.press("p")
        await until(pilot, lambda: isinstance(app.screen, PresenceScreen))
        table = app.screen.query_one(AgentTable)
        await until(pilot, lambda: "u-9" in table.keys and table.has_focus)
        assert table.cells_of("u-9")[1].text == "○ offline"
        await until(pilot, lambda: table.cells_of("a-1")[4].text == "Zé Ninguém")
        feed.push(snapshot(version=2))
        await pilot.pause()
        assert fake.calls.count(("customer_of", "c-0")) == 1, "one lookup per call id"
        assert fake.calls.count(("members", "d-sales")) == 1
        await pilot.press("enter")  # the first row: Beatriz, on the call
        await until(pilot, lambda: isinstance(app.screen, DetailPanel))
        body = str(app.screen.query_one("#detail-body", Static).render())
        assert "☎ in call" in body and "Zé Ninguém" in body and "Since the app started" in body


async def test_a_screen_paints_the_current_snapshot_from_its_first_frame(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No dashes, no previous visit's numbers for a frame or two when switching screens."""
    first: dict[int, str] = {}
    render_figure, render_digits = Figure.render, BigDigits.render

    def figure_render(self: Figure) -> Any:
        first.setdefault(id(self), f"{self.id}={self.value}")
        return render_figure(self)

    def digits_render(self: BigDigits) -> Any:
        first.setdefault(id(self), f"digits={self.value}")
        return render_digits(self)

    monkeypatch.setattr(Figure, "render", figure_render)
    monkeypatch.setattr(BigDigits, "render", digits_render)
    app, _, _ = board()
    async with app.run_test(size=(160, 50)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, DepartmentsScreen))
        await pilot.press("u")
        await until(pilot, lambda: isinstance(app.screen, QueueScreen))
        await pilot.pause()
        assert "fig-waiting=4/10" in first.values()
        assert "fig-longest_wait_s=3:05" in first.values()
        first.clear()
        await pilot.press("w")
        await until(pilot, lambda: isinstance(app.screen, WallboardScreen))
        await pilot.pause()
        digits = [value for value in first.values() if value.startswith("digits=")]
        assert digits and "digits=" not in digits, "no tile painted empty digits first"
        assert {"digits=4", "digits=3:05"} <= set(digits)


async def test_every_screen_and_the_json_give_a_department_the_same_glyph() -> None:
    """At one moment: the departments list, the queue header, the wallboard tile and the JSON
    say the same of each figure (the issue saw ``▲ 3:05``, ``‼ 3:07`` and ``Longest ‼``)."""
    from voki_tui.live.document import snapshot_document

    snap = snapshot()
    app, _, _ = board(snap=snap)
    async with app.run_test(size=(160, 50)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, DepartmentsScreen))
        table = app.screen.query_one(DepartmentTable)
        await until(pilot, lambda: len(table.keys) == 3)
        listed = {key: table.cells_of(key) for key in table.keys}
        document = {d["id"]: d for d in snapshot_document(snap)["departments"]}
        await pilot.press("w")
        await until(pilot, lambda: isinstance(app.screen, WallboardScreen))
        await pilot.pause()
        tiles = {t.view.department.id: t for t in app.screen.query(DepartmentTile) if t.view}
        seen_alert = False
        for view in snap.departments:
            dep = view.department.id
            read = readings(view, T0)
            level = department_level(view, T0)
            seen_alert |= level is Level.ALERT
            assert document[dep]["glyph"] == level.glyph.strip()
            assert tiles[dep].level is level
            for key, column in (("longest_wait_s", 1), ("waiting", 3), ("service_level", 5)):
                glyph = read[key].glyph
                assert listed[dep][column].text.startswith(glyph), (dep, key)
                assert document[dep]["figures"][key]["glyph"] == glyph.strip(), (dep, key)
            for key in ("waiting", "longest_wait_s"):
                shown = tiles[dep].query_one(f"#tile-{key}")
                assert shown.level is read[key].level, (dep, key)  # type: ignore[attr-defined]
        assert seen_alert, "the fixture must have a department in breach"
        await pilot.press("d", "down")
        await pilot.press("u")
        await until(pilot, lambda: isinstance(app.screen, QueueScreen))
        await pilot.pause()
        queue = app.screen
        assert isinstance(queue, QueueScreen) and queue.department_id == "d-support"
        support = readings(snap.departments[1], T0)
        for key in ("waiting", "longest_wait_s", "service_level", "agents_available"):
            figure = queue.query_one(f"#fig-{key}", Figure)
            assert (figure.value, figure.level) == (support[key].display, support[key].level)
