"""The app on a box nobody touches: it signs in by itself through outages, keeps the board when
the session ends, never logs out on a stray key, and never freezes under a modal."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest

from voki_tui.api.session import SessionEnded
from voki_tui.live.state import LinkState
from voki_tui.ports import Retrying
from voki_tui.testing.fakes import (
    DEPARTMENTS,
    SUPERVISOR,
    T0,
    FakeAuth,
    FakeFeed,
    FrozenClock,
    connection,
    customer,
    options,
    snapshot,
    view,
)
from voki_tui.ui.app import VokiApp
from voki_tui.ui.screens.confirm import ConfirmScreen
from voki_tui.ui.screens.connecting import ConnectingScreen
from voki_tui.ui.screens.departments import DepartmentsScreen
from voki_tui.ui.screens.help import HelpScreen
from voki_tui.ui.screens.login import LoginScreen
from voki_tui.ui.widgets.filter_bar import FilterBar
from voki_tui.ui.widgets.status_bar import StatusBar

from .test_shell_pilot import SIZE, notifications, static_text, until

REFUSED = Retrying(
    failures=3, retry_in_s=4.0, detail="Cannot reach https://voki: connection refused"
)


def status_who(app: VokiApp) -> str:
    return str(app.screen.query_one("#status-who").render())


def bar(app: VokiApp) -> str:
    return app.screen.query_one(StatusBar).text


async def test_a_box_that_boots_before_its_server_waits_on_the_connecting_screen() -> None:
    """With a stored session (or a password source) it never parks on the login form: it says
    what fails and when it tries again, counts down, and goes on by itself."""
    server_up = asyncio.Event()
    auth = FakeAuth(resume_script=[REFUSED, server_up, SUPERVISOR])
    clock = FrozenClock()
    app = VokiApp(options(), auth, FakeFeed([snapshot()]), clock)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, ConnectingScreen))
        await until(pilot, lambda: "connection refused" in static_text(app, "#connecting-state"))
        assert "retrying in 4 s (attempt 3)" in static_text(app, "#connecting-state")
        clock.advance(3)
        await until(pilot, lambda: "retrying in 1 s" in static_text(app, "#connecting-state"))
        assert not isinstance(app.screen, LoginScreen)
        server_up.set()
        await until(pilot, lambda: isinstance(app.screen, DepartmentsScreen))


async def test_a_person_can_leave_the_connecting_screen_for_the_form() -> None:
    auth = FakeAuth(resume_script=[REFUSED, asyncio.Event()])
    app = VokiApp(options(), auth, FakeFeed(), FrozenClock())
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, ConnectingScreen))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, LoginScreen))


async def test_when_only_a_person_can_sign_in_the_form_says_why() -> None:
    auth = FakeAuth(resume_script=[SessionEnded("This account needs a verification code")])
    app = VokiApp(options(), auth, FakeFeed(), FrozenClock())
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, LoginScreen))
        assert "verification code" in static_text(app, "#login-message")


@pytest.mark.parametrize("wallboard", [False, True])
async def test_an_ended_session_keeps_the_board_until_someone_presses_enter(
    wallboard: bool,
) -> None:
    """No form over a wall: the figures stay, dimmed with their age; enter brings the form."""
    ended = snapshot(conn=connection(LinkState.AUTH_FAILED, data_age_s=30))
    feed = FakeFeed([snapshot()])
    app = VokiApp(options(wallboard=wallboard), FakeAuth(restored=SUPERVISOR), feed, FrozenClock())
    async with app.run_test(size=SIZE) as pilot:
        board = "WallboardScreen" if wallboard else "DepartmentsScreen"
        await until(pilot, lambda: type(app.screen).__name__ == board)
        feed.push(ended)
        await until(pilot, lambda: app.screen.has_class("-stale"))
        await until(pilot, lambda: "session ended — press Enter to log in" in bar(app))
        assert "data 30 s old" in bar(app)
        await pilot.pause()  # anything queued after it done: the board must still be up
        assert type(app.screen).__name__ == board
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, LoginScreen))


async def test_enter_still_opens_a_department_while_the_session_is_fine() -> None:
    app = VokiApp(options(), FakeAuth(restored=SUPERVISOR), FakeFeed([snapshot()]), FrozenClock())
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, DepartmentsScreen))
        await pilot.press("enter")
        await until(pilot, lambda: type(app.screen).__name__ == "QueueScreen")


async def test_an_ended_session_comes_back_by_itself_when_sign_in_works_again() -> None:
    """A new password in the source (or a session stored by another voki-tui): live again,
    nobody touched it."""
    auth = FakeAuth(restored=SUPERVISOR, signed_in_later=SUPERVISOR)
    feed = FakeFeed([snapshot()])
    app = VokiApp(options(wallboard=True), auth, feed, FrozenClock())
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: type(app.screen).__name__ == "WallboardScreen")
        feed.push(snapshot(conn=connection(LinkState.AUTH_FAILED, data_age_s=5)))
        await until(pilot, lambda: ("await_sign_in",) in auth.calls)
        assert auth.calls.count(("departments",)) == 1
        auth.sign_in_event.set()
        await until(pilot, lambda: auth.calls.count(("departments",)) == 2)
        await until(pilot, lambda: app.session_ended is None and feed.running.is_set())
        assert type(app.screen).__name__ == "WallboardScreen"


async def test_l_asks_first_and_only_y_logs_out() -> None:
    auth = FakeAuth(restored=SUPERVISOR)
    feed = FakeFeed()
    app = VokiApp(options(), auth, feed, FrozenClock())
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: feed.running.is_set())
        await pilot.press("l")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("a", "n")
        await until(pilot, lambda: isinstance(app.screen, DepartmentsScreen))
        assert ("logout",) not in auth.calls and not feed.cancelled
        await pilot.press("l")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen, LoginScreen))
        await until(pilot, lambda: feed.cancelled)
    assert ("logout",) in auth.calls


async def test_typing_on_the_wrong_screen_never_logs_out() -> None:
    """Seen: typing ``/paula`` on the queue screen ran p, u and l (log out at once)."""
    auth = FakeAuth(restored=SUPERVISOR)
    app = VokiApp(options(), auth, FakeFeed([snapshot()]), FrozenClock())
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, DepartmentsScreen))
        await pilot.press("u")
        await until(pilot, lambda: type(app.screen).__name__ == "QueueScreen")
        await pilot.press("slash", "p", "a", "u", "l", "a")
        await until(pilot, lambda: app.screen.query_one(FilterBar).value == "paula")
        assert ("logout",) not in auth.calls
        assert app.user is not None


@pytest.mark.parametrize(
    ("flags", "said"), [({"wallboard": True}, "Wallboard"), ({"read_only": True}, "Read-only")]
)
async def test_wallboard_and_read_only_refuse_logout_and_say_so(
    flags: dict[str, bool], said: str
) -> None:
    auth = FakeAuth(restored=SUPERVISOR)
    app = VokiApp(options(**flags), auth, FakeFeed([snapshot()]), FrozenClock())
    toasts = notifications(app)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await until(pilot, lambda: app.snapshot is not None)
        await pilot.press("l")
        await until(pilot, lambda: any(said in n.message for n in toasts))
        assert not isinstance(app.screen, ConfirmScreen)
        assert ("logout",) not in auth.calls


async def test_read_only_is_shown_on_screen() -> None:
    app = VokiApp(
        options(read_only=True),
        FakeAuth(restored=SUPERVISOR),
        FakeFeed([snapshot()]),
        FrozenClock(),
    )
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: "read-only" in str(app.screen.query_one("#status-who").render()))


def table_text(screen: object) -> str:
    table = screen.query_one("#departments-table")  # type: ignore[attr-defined]
    return "\n".join(table.render_line(y).text for y in range(table.size.height))


async def test_figures_beneath_an_open_help_page_keep_moving() -> None:
    """Seen: help left open froze the board at 6/10 while the truth was 2/10, unmarked."""
    waiting = [customer(f"c{i}", f"Cliente {i}", 60 + i) for i in range(6)]
    feed = FakeFeed([snapshot(views=(view(DEPARTMENTS[0], waiting=waiting),))])
    app = VokiApp(options(), FakeAuth(restored=SUPERVISOR), feed, FrozenClock())
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, DepartmentsScreen))
        board = app.screen
        await until(pilot, lambda: "6/" in table_text(board) or " 6 " in table_text(board))
        before = table_text(board)
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        feed.push(snapshot(views=(view(DEPARTMENTS[0], waiting=waiting[:2]),), version=2))
        await until(pilot, lambda: table_text(board) != before)
        assert isinstance(app.screen, HelpScreen)


async def test_a_feed_that_fails_unexpectedly_is_shown_and_started_again() -> None:
    """Only the app's own error type used to be caught: anything else killed the worker
    silently and left the last "live" on screen for ever."""
    restart = asyncio.Event()  # the second run publishes only once the board was read
    feed = FakeFeed([snapshot()], crashes=[TypeError("a bug")], restart=restart)
    app = VokiApp(options(), FakeAuth(restored=SUPERVISOR), feed, FrozenClock())
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: "internal error (TypeError)" in bar(app))
        assert "reconnecting" in bar(app)
        await until(pilot, lambda: feed.runs == 2)
        restart.set()
        await until(pilot, lambda: feed.running.is_set() and "● live" in bar(app))


async def test_a_box_clock_far_off_is_said_and_ages_use_the_servers_time() -> None:
    """The feed measures the server's clock; the board says when this one is far off, and a
    customer who has waited 30 s by the server's clock shows 0:30, not 2:00:30."""
    waiting = [customer("c1", "Ana", 30)]
    skewed = replace(
        snapshot(views=(view(DEPARTMENTS[0], waiting=waiting),)), clock_offset_s=-7200.0
    )
    clock = FrozenClock(T0 + timedelta(hours=2))  # this box is two hours ahead
    app = VokiApp(options(), FakeAuth(restored=SUPERVISOR), FakeFeed([skewed]), clock)
    async with app.run_test(size=(140, 30)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, DepartmentsScreen))
        await pilot.press("u")
        await until(pilot, lambda: type(app.screen).__name__ == "QueueScreen")
        who = str(app.screen.query_one("#status-who").render())
        assert "this clock is 2:00:00 ahead" in who
        app._tick()  # a tick of the clock: ages move on to "now"
        table = app.screen.query_one("QueueTable")
        rows = "\n".join(table.render_line(y).text for y in range(table.size.height))
        assert "0:30" in rows and "2:00:30" not in rows


async def test_notices_are_on_the_board_and_in_help() -> None:
    noticed = replace(snapshot(), notices=("session not saved (Read-only file system)",))
    app = VokiApp(
        options(),
        FakeAuth(restored=SUPERVISOR),
        FakeFeed([noticed]),
        FrozenClock(),
        notices=("no log file (Not a directory)",),
    )
    async with app.run_test(size=(160, 30)) as pilot:
        await until(
            pilot, lambda: "no log file" in str(app.screen.query_one("#status-who").render())
        )
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        body = app.screen.body  # type: ignore[attr-defined]
        assert "no log file" in body and "session not saved" in body
