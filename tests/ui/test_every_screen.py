"""Every screen at 80x24, 120x40 and 200x60, in English and Brazilian Portuguese.

The whole app runs with the fake auth and feed and a frozen clock, and is driven to each screen
with the keys a person would press, so these pictures are what someone at the desk or in front
of the wall sees. Review changed SVGs (``snapshot_report.html``) before ``--snapshot-update``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import pytest

from voki_tui.testing.fakes import (
    SUPERVISOR,
    FakeAuth,
    FakeFeed,
    FrozenClock,
    busy_views,
    options,
    snapshot,
)
from voki_tui.ui.app import VokiApp
from voki_tui.ui.screens.connecting import ConnectingScreen
from voki_tui.ui.screens.departments import DepartmentsScreen
from voki_tui.ui.screens.detail import DetailPanel
from voki_tui.ui.screens.help import HelpScreen
from voki_tui.ui.screens.login import LoginScreen
from voki_tui.ui.screens.presence import PresenceScreen
from voki_tui.ui.screens.queue import QueueScreen
from voki_tui.ui.screens.wallboard import WallboardScreen
from voki_tui.ui.widgets.agent_table import AgentTable
from voki_tui.ui.widgets.queue_table import QueueTable

from .test_shell_snapshots import wait_for

SIZES = [
    pytest.param((80, 24), id="80x24"),
    pytest.param((120, 40), id="120x40"),
    pytest.param((200, 60), id="200x60"),
]
LANGUAGES = ["en", "pt-BR"]
Step = Callable[[Any], Awaitable[None]]


def on(screen_type: type) -> Callable[[Any], bool]:
    return lambda app: isinstance(app.screen, screen_type)


def listed(app: Any) -> bool:
    return isinstance(app.screen, DepartmentsScreen) and app.screen.views != {}


def keys(*pressed: str, until: type) -> Step:
    """From the department list, press ``pressed`` and wait for ``until``."""

    async def step(pilot: Any) -> None:
        await wait_for(listed)(pilot)
        await pilot.press(*pressed)
        await wait_for(on(until))(pilot)

    return step


def with_contact() -> Any:
    sales, *others = busy_views()
    first = replace(
        sales.waiting[0],
        customer_email="ana.lima@example.com",
        customer_phone="+55 11 98765-4321",
    )
    return snapshot([replace(sales, waiting=(first, *sales.waiting[1:])), *others])


def settled_presence(app: Any) -> bool:
    """The presence screen with the looked-up customer and the offline member in place."""
    if not isinstance(app.screen, PresenceScreen):
        return False
    table = app.screen.query_one(AgentTable)
    return "u-9" in table.keys and table.cells_of("a-1")[4].text == "Zé Ninguém" and table.has_focus


def focused_queue(app: Any) -> bool:
    return isinstance(app.screen, QueueScreen) and app.screen.query_one(QueueTable).has_focus


def then(first: Step, condition: Callable[[Any], bool], *pressed: str, until: type) -> Step:
    """``first``, wait for ``condition``, press ``pressed``, wait for ``until``."""

    async def step(pilot: Any) -> None:
        await first(pilot)
        await wait_for(condition)(pilot)
        await pilot.press(*pressed)
        await wait_for(on(until))(pilot)

    return step


to_queue = keys("u", until=QueueScreen)
to_presence = keys("p", until=PresenceScreen)
SCREENS: dict[str, Step] = {
    "login": wait_for(on(LoginScreen)),
    "connecting": wait_for(on(ConnectingScreen)),
    "departments": wait_for(listed),
    "queue": then(to_queue, focused_queue, until=QueueScreen),
    "customer": then(to_queue, focused_queue, "enter", until=DetailPanel),
    "presence": then(to_presence, settled_presence, until=PresenceScreen),
    "agent": then(to_presence, settled_presence, "enter", until=DetailPanel),
    "wallboard": keys("w", until=WallboardScreen),
    "help": keys("question_mark", until=HelpScreen),
}


def app_for(screen: str, lang: str) -> VokiApp:
    if screen == "login":
        return VokiApp(
            options(lang=lang, server=None, tenant=None, email=None), FakeAuth(), FakeFeed()
        )
    if screen == "connecting":
        import asyncio

        hold = asyncio.Event()  # the sign-in never finishes: the connecting screen stays
        auth = FakeAuth(restored=SUPERVISOR, resume_script=[hold])
        return VokiApp(options(lang=lang), auth, FakeFeed(), FrozenClock())
    auth = FakeAuth(
        restored=replace(SUPERVISOR, locale=lang),
        call_customers={"c-0": "Zé Ninguém"},
        department_members={"d-sales": (("u-9", "Otto Ausente"),)},
    )
    return VokiApp(options(lang=lang), auth, FakeFeed([with_contact()]), FrozenClock())


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("screen", list(SCREENS))
def test_every_screen(
    snap_compare: Callable[..., bool], screen: str, size: tuple[int, int], lang: str
) -> None:
    step = SCREENS[screen]
    assert snap_compare(app_for(screen, lang), terminal_size=size, run_before=step)
