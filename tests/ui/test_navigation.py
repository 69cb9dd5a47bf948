"""Navigation: which screen answers which key and intent, the palette's entries, the lookups.

The rules are checked on ``Navigation`` and ``Lookups`` alone (no terminal), then through the
app with the keys and the palette a person uses.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import pytest
from textual.command import CommandPalette
from textual.screen import Screen
from textual.widgets import Input, OptionList

from voki_tui.live.timeline import StatusLog
from voki_tui.ports import DepartmentList, Member
from voki_tui.testing.fakes import (
    ATTENDANT,
    DEPARTMENTS,
    HOSTILE,
    SUPERVISOR,
    FakeAuth,
    FakeFeed,
    FrozenClock,
    department,
    options,
    snapshot,
    view,
)
from voki_tui.ui import themes
from voki_tui.ui.app import VokiApp
from voki_tui.ui.lookups import Lookups
from voki_tui.ui.navigation import DEPARTMENTS as LIST
from voki_tui.ui.navigation import Navigation, Unavailable, select
from voki_tui.ui.screens.connecting import ConnectingScreen
from voki_tui.ui.screens.departments import DepartmentsScreen
from voki_tui.ui.screens.presence import PresenceScreen
from voki_tui.ui.screens.queue import QueueScreen
from voki_tui.ui.screens.wallboard import WallboardScreen
from voki_tui.ui.text import clean

from .test_shell_pilot import SIZE, notifications, until

ALL = tuple(d.id for d in DEPARTMENTS)


def navigation(**overrides: object) -> Navigation:
    return Navigation(options(**overrides), StatusLog(), Lookups(FakeAuth(), asyncio.ensure_future))


def signed_in(**overrides: object) -> Navigation:
    nav = navigation(**overrides)
    nav.watch(SUPERVISOR, DepartmentList(DEPARTMENTS, total=3))
    return nav


# ----------------------------------------------------------------------------- the rules


def test_department_option_picks_in_its_order_and_keeps_unknown_ids() -> None:
    assert select(DEPARTMENTS, ()) == DEPARTMENTS
    chosen = select(DEPARTMENTS, ("d-billing", "d-nowhere", "d-sales"))
    assert [d.id for d in chosen] == ["d-billing", "d-nowhere", "d-sales"]
    assert chosen[1].name == "d-nowhere"


def test_a_login_watches_with_limits_resolved_and_everything_on_the_wall() -> None:
    nav = navigation(departments=("d-support", "d-sales"))
    watched = nav.watch(SUPERVISOR, DepartmentList(DEPARTMENTS, total=3))
    assert [d.id for d in watched] == ["d-support", "d-sales"]
    assert all(d.rules is not None for d in watched)
    assert nav.current == "d-support"
    assert nav.wallboard_ids == ("d-support", "d-sales")
    assert nav.list is not None and nav.list.choices.departments == watched
    assert nav.choices.total == 3
    assert nav.with_members
    nav.watch(ATTENDANT, DepartmentList(DEPARTMENTS))
    assert not nav.with_members, "attendants may not list members"


def test_the_first_screen_after_a_login() -> None:
    assert signed_in().first() == LIST
    wall = signed_in(wallboard=True).first()
    assert isinstance(wall, WallboardScreen) and wall.department_ids == ALL
    one = navigation()
    one.watch(SUPERVISOR, DepartmentList(DEPARTMENTS[1:2]))
    queue = one.first()
    assert isinstance(queue, QueueScreen) and queue.department_id == "d-support"


def test_keys_open_the_current_department_and_say_when_there_is_none() -> None:
    nav = signed_in(show_contact=True)
    assert nav.department_for_keys(Screen()) == "d-sales"
    queue = nav.queue("d-billing")
    assert queue.show_contact and nav.current == "d-billing"
    presence = nav.presence(nav.department_for_keys(Screen()))
    assert presence.department_id == "d-billing"
    assert presence.lookups is nav.lookups and presence.statuses is nav.statuses
    assert presence.with_members
    empty = navigation()
    empty.watch(SUPERVISOR, DepartmentList(()))
    with pytest.raises(Unavailable, match="No department to show"):
        empty.department_for_keys(Screen())


def test_w_toggles_and_escape_goes_back_but_never_off_a_wall() -> None:
    nav = signed_in()
    wall = nav.toggle_wallboard(Screen())
    assert isinstance(wall, WallboardScreen)
    assert nav.toggle_wallboard(wall) == LIST
    assert nav.back(wall) == LIST
    assert nav.back(nav.queue("d-sales")) == LIST
    assert nav.back(nav.list) is None, "the list is where escape goes back to"
    unattended = signed_in(wallboard=True)
    wall = unattended.first()
    assert unattended.toggle_wallboard(wall) is wall
    assert unattended.back(wall) is None


def test_the_wallboard_is_made_once_and_shows_what_was_chosen_last() -> None:
    nav = signed_in()
    wall = nav.wallboard(("d-billing", "d-sales"))
    assert nav.wallboard() is wall
    assert wall.department_ids == ("d-billing", "d-sales"), "w shows the last choice"
    nav.watch(SUPERVISOR, DepartmentList(DEPARTMENTS))
    assert wall.department_ids == ALL, "a new login shows every department again"


# ----------------------------------------------------------------------------- lookups


class SlowAuth(FakeAuth):
    """Answers a lookup only when the test releases it."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.release = asyncio.Event()

    async def customer_of(self, call_id: str) -> str | None:
        await self.release.wait()
        return await super().customer_of(call_id)

    async def members(self, department_id: str) -> tuple[Member, ...] | None:
        await self.release.wait()
        return await super().members(department_id)


def running(tasks: list[asyncio.Task[None]]) -> Any:
    def run(lookup: Coroutine[Any, Any, None]) -> None:
        tasks.append(asyncio.ensure_future(lookup))

    return run


async def test_each_call_is_asked_once_and_every_screen_waiting_is_told() -> None:
    auth = SlowAuth(call_customers={"c-1": "Ana", "c-2": "Bia"})
    tasks: list[asyncio.Task[None]] = []
    lookups = Lookups(auth, running(tasks))
    first: list[tuple[str, str]] = []
    second: list[tuple[str, str]] = []
    lookups.want_names(["c-1", "c-2", "c-3"], lambda *told: first.append(told))
    lookups.want_names(["c-2"], lambda *told: second.append(told))
    assert len(tasks) == 1, "one worker asks for all of them, in turn"
    auth.release.set()
    await asyncio.gather(*tasks)
    assert first == [("c-1", "Ana"), ("c-2", "Bia")]  # c-3: the server has no name
    assert second == [("c-2", "Bia")]
    assert [c for c in auth.calls if c[0] == "customer_of"] == [
        ("customer_of", "c-1"),
        ("customer_of", "c-2"),
        ("customer_of", "c-3"),
    ]
    told_now: list[tuple[str, str]] = []
    lookups.want_names(["c-1", "c-3"], lambda *told: told_now.append(told))
    assert told_now == [("c-1", "Ana")], "known names are told at once"
    assert len(tasks) == 1, "nothing asked twice, c-3 (no name) included"


async def test_names_kept_are_bounded() -> None:
    auth = FakeAuth(call_customers={"c-1": "Ana", "c-2": "Bia", "c-3": "Cris"})
    tasks: list[asyncio.Task[None]] = []
    lookups = Lookups(auth, running(tasks), kept=2)
    for call_id in ("c-1", "c-2", "c-3", "c-1"):
        lookups.want_names([call_id], lambda *_told: None)
        await asyncio.gather(*tasks)
    assert auth.calls.count(("customer_of", "c-1")) == 2, "the oldest was forgotten"
    assert auth.calls.count(("customer_of", "c-3")) == 1


async def test_a_lookup_that_fails_is_asked_again_on_the_next_request() -> None:
    class Flaky(FakeAuth):
        async def customer_of(self, call_id: str) -> str | None:
            if not self.calls:
                self.calls.append(("failed", call_id))
                raise RuntimeError("boom")
            return await super().customer_of(call_id)

    auth = Flaky(call_customers={"c-1": "Ana"})
    tasks: list[asyncio.Task[None]] = []
    lookups = Lookups(auth, running(tasks))
    told: list[tuple[str, str]] = []
    lookups.want_names(["c-1"], lambda *name: told.append(name))
    with pytest.raises(RuntimeError):
        await tasks[0]
    lookups.want_names(["c-1"], lambda *name: told.append(name))
    await tasks[1]
    assert told == [("c-1", "Ana"), ("c-1", "Ana")], "both requests are answered"


async def test_members_are_asked_once_per_department() -> None:
    auth = SlowAuth(department_members={"d-sales": (("u-9", "Otto"),)})
    tasks: list[asyncio.Task[None]] = []
    lookups = Lookups(auth, running(tasks))
    told: list[tuple[Member, ...]] = []
    lookups.want_members("d-sales", told.append)
    lookups.want_members("d-sales", told.append)
    lookups.want_members("d-none", told.append)
    auth.release.set()
    await asyncio.gather(*tasks)
    lookups.want_members("d-sales", told.append)
    lookups.want_members("d-none", told.append)
    assert told == [(("u-9", "Otto"),)] * 3
    assert auth.calls == [("members", "d-sales"), ("members", "d-none")]


# ----------------------------------------------------------------------------- in the app


def board(**overrides: object) -> VokiApp:
    feed = FakeFeed([snapshot()])
    return VokiApp(options(**overrides), FakeAuth(restored=SUPERVISOR), feed, FrozenClock())


async def test_escape_goes_back_to_the_list_from_every_board() -> None:
    app = board()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, DepartmentsScreen))
        for key, shown in (("u", QueueScreen), ("p", PresenceScreen), ("w", WallboardScreen)):
            await pilot.press(key)
            await until(pilot, lambda shown=shown: isinstance(app.screen, shown))
            await pilot.press("escape")
            await until(pilot, lambda: isinstance(app.screen, DepartmentsScreen))
        await pilot.press("w")
        await until(pilot, lambda: isinstance(app.screen, WallboardScreen))
        await pilot.press("w")
        await until(pilot, lambda: isinstance(app.screen, DepartmentsScreen))


async def test_a_wall_stays_a_wall() -> None:
    app = board(wallboard=True)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, WallboardScreen))
        wall = app.screen
        await pilot.press("escape", "w")
        await pilot.pause()  # both handled: nothing may have left the wall
        assert app.screen is wall
        await pilot.press("u")
        await until(pilot, lambda: isinstance(app.screen, QueueScreen))
        await pilot.press("w")
        await until(pilot, lambda: app.screen is wall)


async def test_keys_before_a_login_and_without_departments_say_why() -> None:
    held = asyncio.Event()
    auth = FakeAuth(resume_script=[held], restored=SUPERVISOR)
    app = VokiApp(options(), auth, FakeFeed(), FrozenClock())
    toasts = notifications(app)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await until(pilot, lambda: isinstance(app.screen, ConnectingScreen))
        await pilot.press("u")
        await until(pilot, lambda: [t.message for t in toasts] == ["Log in first."])
        assert isinstance(app.screen, ConnectingScreen)
    empty = FakeAuth(restored=SUPERVISOR, department_list=DepartmentList(()))
    app = VokiApp(options(), empty, FakeFeed(), FrozenClock())
    toasts = notifications(app)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await until(pilot, lambda: isinstance(app.screen, DepartmentsScreen))
        await pilot.press("p")
        await until(pilot, lambda: [t.message for t in toasts] == ["No department to show."])
        assert isinstance(app.screen, DepartmentsScreen)


async def run_from_palette(pilot: Any, app: VokiApp, query: str) -> None:
    """Open the palette, type ``query``, wait for its hit and run it."""
    await pilot.press("ctrl+p")
    await until(pilot, lambda: isinstance(app.screen, CommandPalette))
    palette = app.screen
    palette.query_one(Input).value = query
    hits = palette.query_one(OptionList)
    await until(
        pilot, lambda: hits.option_count > 0 and str(hits.get_option_at_index(0).prompt) == query
    )
    hits.highlighted = 0
    await pilot.press("enter")
    await until(pilot, lambda: not isinstance(app.screen, CommandPalette))


async def test_the_palette_opens_departments_toggles_the_wall_and_switches_themes() -> None:
    app = board()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, DepartmentsScreen))
        await run_from_palette(pilot, app, "Open presence: Financeiro")
        await until(pilot, lambda: isinstance(app.screen, PresenceScreen))
        assert isinstance(app.screen, PresenceScreen) and app.screen.department_id == "d-billing"
        await run_from_palette(pilot, app, "Open queue: Suporte Técnico")
        await until(pilot, lambda: isinstance(app.screen, QueueScreen))
        assert app.navigation.current == "d-support"
        await run_from_palette(pilot, app, "Toggle wallboard")
        await until(pilot, lambda: isinstance(app.screen, WallboardScreen))
        await run_from_palette(pilot, app, "Theme: light")
        assert app.theme == themes.resolve("light")
        assert isinstance(app.screen, WallboardScreen)


async def test_the_palette_shows_a_hostile_name_literally() -> None:
    evil = department("d-evil", HOSTILE)
    auth = FakeAuth(restored=SUPERVISOR, department_list=DepartmentList((evil,), total=1))
    app = VokiApp(options(), auth, FakeFeed([snapshot([view(evil)])]), FrozenClock())
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, QueueScreen))
        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette))
        hits = app.screen.query_one(OptionList)
        await until(pilot, lambda: hits.option_count > 0)
        prompts = [str(hits.get_option_at_index(i).prompt) for i in range(hits.option_count)]
        shown = [p for p in prompts if p.startswith("Open queue:")]
        assert shown == ["Open queue: " + clean(HOSTILE, 60)]
        assert shown[0].startswith("Open queue: [@click=app.quit]x[/] ␛]0;pwned␇")
        assert app.is_running
