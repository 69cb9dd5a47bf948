"""Pilot tests of the app shell: login errors, MFA, navigation, filtering, hostile text, signals."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from textual.app import App, ScreenStackError
from textual.css.query import NoMatches
from textual.widgets import Button, Input, Static

from voki_tui.api.errors import (
    AuthError,
    MFARequired,
    NetworkError,
    RateLimitedError,
    TLSError,
    ValidationError,
)
from voki_tui.ports import DepartmentList, LastLogin
from voki_tui.testing.fakes import (
    DEPARTMENTS,
    HOSTILE,
    SUPERVISOR,
    FakeAuth,
    FakeFeed,
    FrozenClock,
    customer,
    department,
    notification,
    options,
    snapshot,
    stale,
    view,
)
from voki_tui.ui.app import VokiApp
from voki_tui.ui.screens.departments import DepartmentsScreen, DepartmentTable
from voki_tui.ui.screens.help import HelpScreen
from voki_tui.ui.screens.login import LoginScreen
from voki_tui.ui.screens.too_small import TooSmallScreen
from voki_tui.ui.screens.wallboard import WallboardScreen
from voki_tui.ui.widgets.status_bar import StatusBar
from voki_tui.ui.widgets.tile import DepartmentTile

SIZE = (100, 30)


WAIT_S = 10.0  # generous: two cores shared with other test runs


async def until(pilot: Any, condition: Callable[[], bool]) -> None:
    """Poll ``condition`` while letting the app run, up to ``WAIT_S``. A condition that cannot
    be evaluated yet (the first screen not pushed, a widget not mounted) is not met yet."""
    deadline = asyncio.get_running_loop().time() + WAIT_S
    while True:
        try:
            if condition():
                return
        except (ScreenStackError, NoMatches):
            pass
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await pilot.pause(0.02)


@dataclass(frozen=True)
class Notified:
    message: str
    title: str
    markup: bool


def notifications(app: App[Any]) -> list[Notified]:
    """Every toast ``app`` is asked to show, as asked (through its public ``notify``)."""
    seen: list[Notified] = []
    notify = app.notify

    def recorded(message: str, **options: Any) -> None:
        seen.append(Notified(message, options.get("title", ""), options.get("markup", True)))
        notify(message, **options)

    app.notify = recorded  # type: ignore[method-assign]
    return seen


def static_text(app: VokiApp, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


async def fill_login(pilot: Any, password: str = "s3cret") -> None:
    screen = pilot.app.screen
    assert isinstance(screen, LoginScreen)
    field = screen.query_one("#field-password", Input)
    field.value = password
    field.focus()
    await pilot.press("enter")  # keyboard submit (a Button ignores clicks 0.2 s apart)


def login_app(auth: FakeAuth, clock: FrozenClock | None = None) -> VokiApp:
    auth.remembered = LastLogin("https://voki.example.com.br", "acme", "marina@acme.com.br")
    return VokiApp(
        options(server=None, tenant=None, email=None), auth, FakeFeed(), clock or FrozenClock()
    )


async def test_login_prefills_remembered_fields_and_logs_in() -> None:
    auth = FakeAuth(login_results=[SUPERVISOR])
    app = login_app(auth)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, LoginScreen))
        assert app.screen.query_one("#field-tenant", Input).value == "acme"
        await fill_login(pilot)
        await until(pilot, lambda: isinstance(app.screen, DepartmentsScreen))
    assert ("login", "https://voki.example.com.br", "acme", "marina@acme.com.br") in auth.calls
    assert app.user == SUPERVISOR


async def test_wrong_password_says_so_and_stays() -> None:
    app = login_app(FakeAuth(login_results=[AuthError("Invalid credentials", status=401)]))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, LoginScreen))
        await fill_login(pilot)
        await until(pilot, lambda: "Wrong email" in static_text(app, "#login-message"))
        assert isinstance(app.screen, LoginScreen)


async def test_422_errors_appear_under_their_fields() -> None:
    error = ValidationError(
        "invalid", {"email": ["has invalid format"], "tenant": ["[/bad] not found"]}
    )
    app = login_app(FakeAuth(login_results=[error]))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, LoginScreen))
        await fill_login(pilot)
        await until(pilot, lambda: "has invalid format" in static_text(app, "#error-email"))
        assert "[/bad] not found" in static_text(app, "#error-tenant")
        assert app.screen.query_one("#field-email", Input).has_class("-invalid")
        assert not app.screen.query_one("#field-password", Input).has_class("-invalid")


async def test_empty_fields_are_caught_before_asking_the_server() -> None:
    auth = FakeAuth()
    app = login_app(auth)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, LoginScreen))
        await fill_login(pilot, password="")
        await until(pilot, lambda: "Required" in static_text(app, "#error-password"))
    assert not [c for c in auth.calls if c[0] == "login"]


async def test_429_counts_down_and_reenables_the_button() -> None:
    clock = FrozenClock()
    auth = FakeAuth(login_results=[RateLimitedError("slow down", retry_after=3), SUPERVISOR])
    app = login_app(auth, clock)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, LoginScreen))
        await fill_login(pilot)
        await until(pilot, lambda: "Try again in 3 s" in static_text(app, "#login-message"))
        button = app.screen.query_one("#login-button", Button)
        assert button.disabled
        clock.advance(2)
        await until(pilot, lambda: "Try again in 1 s" in static_text(app, "#login-message"))
        assert button.disabled
        clock.advance(1)
        await until(pilot, lambda: not button.disabled)
        assert "try again now" in static_text(app, "#login-message")
        await fill_login(pilot)
        await until(pilot, lambda: isinstance(app.screen, DepartmentsScreen))


async def test_unreachable_server_and_tls_errors_are_distinguished() -> None:
    auth = FakeAuth(
        login_results=[
            NetworkError("connection refused"),
            TLSError("certificate verify failed"),
        ]
    )
    app = login_app(auth)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, LoginScreen))
        await fill_login(pilot)
        await until(pilot, lambda: "Cannot reach" in static_text(app, "#login-message"))
        assert "connection refused" in static_text(app, "#login-message")
        await fill_login(pilot)
        await until(pilot, lambda: "TLS error" in static_text(app, "#login-message"))


async def test_mfa_step_then_wrong_code_then_success() -> None:
    auth = FakeAuth(
        login_results=[MFARequired("mfa-token-1")],
        mfa_results=[AuthError("bad code", status=401), SUPERVISOR],
    )
    app = login_app(auth)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, LoginScreen))
        await fill_login(pilot)
        await until(pilot, lambda: bool(app.screen.query_one("#mfa").display))
        assert not app.screen.query_one("#credentials").display
        app.screen.query_one("#field-code", Input).value = "000000"
        await pilot.click("#verify-button")  # the mouse works too
        await until(pilot, lambda: "Wrong or expired code" in static_text(app, "#login-message"))
        code = app.screen.query_one("#field-code", Input)
        code.value = "123456"
        code.focus()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DepartmentsScreen))
    assert ("verify_mfa", "mfa-token-1", "123456") in auth.calls


async def test_restored_session_skips_login_and_starts_the_feed() -> None:
    feed = FakeFeed([snapshot()])
    auth = FakeAuth(restored=SUPERVISOR)
    app = VokiApp(options(), auth, feed, FrozenClock())
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, DepartmentsScreen))
        await until(pilot, lambda: feed.running.is_set())
        assert feed.departments is not None
        assert [d.id for d in feed.departments] == [d.id for d in DEPARTMENTS]
        assert all(d.rules is not None for d in feed.departments), "limits resolved first"
        table = app.screen.query_one(DepartmentTable)
        await until(pilot, lambda: "d-sales" in table.keys)
        assert table.cells_of("d-sales")[3].text.strip() == "4/10"
    assert feed.cancelled, "quitting must cancel the feed worker"


async def test_department_option_restricts_the_feed() -> None:
    feed = FakeFeed()
    app = VokiApp(
        options(departments=("d-support", "d-unknown")), FakeAuth(restored=SUPERVISOR), feed
    )
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: feed.running.is_set())
    assert feed.departments is not None
    assert [d.id for d in feed.departments] == ["d-support", "d-unknown"]


async def test_navigation_keys() -> None:
    app = VokiApp(options(), FakeAuth(restored=SUPERVISOR), FakeFeed([snapshot()]), FrozenClock())
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, DepartmentsScreen))
        await pilot.press("down", "u")
        await until(pilot, lambda: type(app.screen).__name__ == "QueueScreen")
        assert app.navigation.current == "d-support"
        await pilot.press("p")
        await until(pilot, lambda: type(app.screen).__name__ == "PresenceScreen")
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot.press("escape")
        await until(pilot, lambda: type(app.screen).__name__ == "PresenceScreen")
        await pilot.press("w")
        await until(pilot, lambda: type(app.screen).__name__ == "WallboardScreen")
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, DepartmentsScreen))
        await pilot.press("q")
    assert app.return_code == 0


async def test_marked_departments_open_their_wallboard_only() -> None:
    app = VokiApp(options(), FakeAuth(restored=SUPERVISOR), FakeFeed([snapshot()]), FrozenClock())
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, DepartmentsScreen))
        await pilot.press("down", "down", "space", "up", "up", "space", "enter")
        await until(pilot, lambda: type(app.screen).__name__ == "WallboardScreen")
        wall = app.screen
        assert isinstance(wall, WallboardScreen)
        assert wall.department_ids == ("d-sales", "d-billing")
        await until(pilot, lambda: bool(wall.query(DepartmentTile)))
        tiles = {t.view.department.id for t in wall.query(DepartmentTile) if t.view is not None}
        assert tiles == {"d-sales", "d-billing"}


async def test_filtering_by_typing() -> None:
    app = VokiApp(options(), FakeAuth(restored=SUPERVISOR), FakeFeed([snapshot()]), FrozenClock())
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, DepartmentsScreen))
        await pilot.press("slash", *"sup")
        table = app.screen.query_one(DepartmentTable)
        await until(pilot, lambda: len(table.keys) == 1)
        assert table.cells_of("d-support")[2].text == "Suporte Técnico"
        await pilot.press("enter", "enter")  # leave the filter, open the only row
        await until(pilot, lambda: type(app.screen).__name__ == "QueueScreen")
        assert app.navigation.current == "d-support"


async def test_hostile_names_are_literal_and_inert() -> None:
    evil = department("d-evil", HOSTILE)
    snap = snapshot([view(evil, [customer("c-x", HOSTILE, 10, department_id="d-evil")])])
    auth = FakeAuth(restored=SUPERVISOR, department_list=DepartmentList((evil,), total=1))
    feed = FakeFeed([snap])
    app = VokiApp(options(), auth, feed, FrozenClock())
    toasts = notifications(app)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await until(pilot, lambda: type(app.screen).__name__ == "QueueScreen")
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, DepartmentsScreen))
        cell = app.screen.query_one(DepartmentTable).cells_of("d-evil")[2]
        assert cell.text.startswith("[@click=app.quit]x[/] ␛]0;pwned␇")
        assert "\x1b" not in cell.text and "\u202e" not in cell.text
        assert not cell.style, "no style or click action may come from the name"
        feed.notify(notification(HOSTILE, HOSTILE))
        await until(pilot, lambda: len(toasts) == 1)
        (toast,) = toasts
        assert "\x1b" not in toast.message and toast.message.startswith("[@click=app.quit]x[/]")
        assert not toast.markup
        await pilot.click(DepartmentTable, offset=(20, 1))
        await pilot.pause()
        assert app.is_running, "clicking the hostile name must not quit the app"


async def test_notifications_are_rate_limited_toasts() -> None:
    feed = FakeFeed([snapshot()])
    app = VokiApp(options(), FakeAuth(restored=SUPERVISOR), feed, FrozenClock())
    toasts = notifications(app)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await until(pilot, lambda: feed.running.is_set())
        for i in range(6):
            feed.notify(notification(f"title {i}", f"body {i}", nid=str(i)))
        await until(pilot, lambda: app.toasts.dropped == 3)
        assert [n.title for n in toasts] == ["title 0", "title 1", "title 2"]


async def test_status_bar_tells_the_connection_story() -> None:
    clock = FrozenClock()
    feed = FakeFeed([snapshot()])
    app = VokiApp(options(), FakeAuth(restored=SUPERVISOR), feed, clock)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, DepartmentsScreen))
        bar = app.screen.query_one(StatusBar)
        await until(pilot, lambda: "● live" in bar.text)
        assert not app.screen.has_class("-stale")
        feed.push(stale(snapshot(), age_s=42))
        await until(pilot, lambda: "reconnecting in 5 s" in bar.text)
        assert "data 42 s old" in bar.text
        assert app.screen.has_class("-stale")
        clock.advance(3)
        await until(pilot, lambda: "reconnecting in 2 s" in bar.text and "45 s old" in bar.text)
        feed.push(snapshot(version=9, now=clock.now))
        await until(pilot, lambda: "● live" in bar.text)
        assert not app.screen.has_class("-stale")


async def test_too_small_notice_comes_and_goes() -> None:
    app = VokiApp(options(), FakeAuth(restored=SUPERVISOR), FakeFeed(), FrozenClock())
    async with app.run_test(size=(70, 20)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, TooSmallScreen))
        assert "70x20 now, 80x24 needed" in str(app.screen.query_one(Static).render())
        await pilot.resize_terminal(80, 24)
        await until(pilot, lambda: isinstance(app.screen, DepartmentsScreen))


async def test_sigterm_exits_cleanly() -> None:
    app = VokiApp(options(), FakeAuth(restored=SUPERVISOR), FakeFeed(), FrozenClock())
    before = signal.getsignal(signal.SIGTERM)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, DepartmentsScreen))
        installed = signal.getsignal(signal.SIGTERM)  # the loop's, while the app runs
        assert installed != before, "SIGTERM handler not installed: the kill would end pytest"
        os.kill(os.getpid(), signal.SIGTERM)
        await until(pilot, lambda: not app.is_running)
    assert app.return_code == 128 + signal.SIGTERM
    assert signal.getsignal(signal.SIGTERM) == before, "the handler must go with the app"
