"""Snapshot tests of the shell's screens at 80x24 and 160x50, frozen clock, fake feed.

``snap_compare`` runs the app with ``asyncio.run``, so these tests are plain ``def``. Review
changed SVGs (``snapshot_report.html``) before ``--snapshot-update``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Input

from voki_tui.api.errors import RateLimitedError, ValidationError
from voki_tui.live.state import FeedSnapshot, LinkState
from voki_tui.ports import LastLogin
from voki_tui.testing.fakes import (
    SUPERVISOR,
    FakeAuth,
    FakeFeed,
    FrozenClock,
    connection,
    options,
    snapshot,
    stale,
)
from voki_tui.ui.app import VokiApp
from voki_tui.ui.screens.departments import DepartmentsScreen
from voki_tui.ui.screens.login import LoginScreen
from voki_tui.ui.screens.presence import PresenceScreen
from voki_tui.ui.screens.queue import QueueScreen
from voki_tui.ui.screens.wallboard import WallboardScreen
from voki_tui.ui.widgets.status_bar import StatusBar, is_stale

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 50), id="160x50")]
SnapCompare = Callable[..., bool]


def wait_for(condition: Callable[[Any], bool]) -> Callable[[Any], Awaitable[None]]:
    """A ``run_before`` that lets the app run until ``condition(app)`` holds."""

    async def run_before(pilot: Any) -> None:
        for _ in range(500):
            if condition(pilot.app):
                await pilot.pause()
                return
            await pilot.pause(0.02)
        raise AssertionError("the app never reached the state to snapshot")

    return run_before


def on(screen_type: type) -> Callable[[Any], bool]:
    return lambda app: isinstance(app.screen, screen_type)


def login_app(*results: Any) -> VokiApp:
    auth = FakeAuth(login_results=list(results))
    auth.remembered = LastLogin("https://voki.example.com.br", "acme", "marina@acme.com.br")
    return VokiApp(options(server=None, tenant=None, email=None), auth, FakeFeed(), FrozenClock())


def submit_login(app_condition: Callable[[Any], bool]) -> Callable[[Any], Awaitable[None]]:
    async def run_before(pilot: Any) -> None:
        await wait_for(on(LoginScreen))(pilot)
        field = pilot.app.screen.query_one("#field-password", Input)
        field.value = "s3cret"
        field.focus()
        await pilot.press("enter")
        await wait_for(app_condition)(pilot)

    return run_before


def message(app: Any) -> str:
    return str(app.screen.query_one("#login-message").render())


def board(snap: FeedSnapshot) -> VokiApp:
    return VokiApp(options(), FakeAuth(restored=SUPERVISOR), FakeFeed([snap]), FrozenClock())


def shown(app: Any) -> bool:
    """Departments screen up and the snapshot applied to it."""
    return isinstance(app.screen, DepartmentsScreen) and app.screen.views != {}


@pytest.mark.parametrize("size", SIZES)
def test_login_empty(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    app = VokiApp(options(server=None, tenant=None, email=None), FakeAuth(), FakeFeed())
    assert snap_compare(app, terminal_size=size, run_before=wait_for(on(LoginScreen)))


def test_login_rate_limited_countdown(snap_compare: SnapCompare) -> None:
    app = login_app(RateLimitedError("Too many requests", retry_after=42))
    run_before = submit_login(lambda a: "42 s" in message(a))
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_login_field_errors(snap_compare: SnapCompare) -> None:
    error = ValidationError("invalid", {"email": ["has invalid format"], "tenant": ["unknown"]})
    app = login_app(error)
    run_before = submit_login(lambda a: "correct" in message(a))
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_departments_live(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    assert snap_compare(board(snapshot()), terminal_size=size, run_before=wait_for(shown))


@pytest.mark.parametrize("size", SIZES)
def test_departments_reconnecting_and_stale(
    snap_compare: SnapCompare, size: tuple[int, int]
) -> None:
    app = board(stale(snapshot(), age_s=42))
    assert snap_compare(app, terminal_size=size, run_before=wait_for(shown))


def test_departments_filtered_and_marked(snap_compare: SnapCompare) -> None:
    app = board(snapshot())
    assert snap_compare(
        app,
        terminal_size=(80, 24),
        run_before=wait_for(shown),
        press=["space", "slash", "i", "n", "enter"],
    )


@pytest.mark.parametrize("size", SIZES)
def test_help(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    app = board(snapshot())
    assert snap_compare(
        app, terminal_size=size, run_before=wait_for(shown), press=["question_mark"]
    )


def test_too_small(snap_compare: SnapCompare) -> None:
    app = board(snapshot())
    assert snap_compare(app, terminal_size=(60, 20), run_before=wait_for(lambda a: a.user))


class StatusBarHarness(App[None]):
    """Just the status bar, fed one snapshot: each link state, side by side in the tests."""

    def __init__(self, snap: FeedSnapshot, compact: bool) -> None:
        super().__init__()
        self.snap = snap
        self.compact = compact

    def compose(self) -> ComposeResult:
        yield StatusBar(compact=self.compact)

    def on_mount(self) -> None:
        now = self.snap.taken_at
        bar = self.query_one(StatusBar)
        bar.show_snapshot(self.snap, now, is_stale(self.snap.connection, now, 10))


STATES = {
    "live": connection(LinkState.LIVE),
    "connecting": connection(LinkState.CONNECTING, data_age_s=2),
    "syncing-stale": connection(LinkState.SYNCING, data_age_s=75),
    "reconnecting": connection(LinkState.RECONNECTING, data_age_s=12, retry_in_s=8, attempt=4),
    "offline": connection(LinkState.OFFLINE, data_age_s=3725, since_s=3725),
    "auth_failed": connection(LinkState.AUTH_FAILED, data_age_s=30),
}


@pytest.mark.parametrize("state", list(STATES))
@pytest.mark.parametrize("compact", [False, True], ids=["full", "compact"])
def test_status_bar_states(snap_compare: SnapCompare, state: str, compact: bool) -> None:
    app = StatusBarHarness(snapshot(conn=STATES[state]), compact)
    assert snap_compare(app, terminal_size=(80, 3))


def on_live_screen(key: str, screen_type: type) -> Callable[[Any], Awaitable[None]]:
    """From the departments screen, press ``key`` and wait for ``screen_type``."""

    async def run_before(pilot: Any) -> None:
        await wait_for(shown)(pilot)
        await pilot.press(key)
        await wait_for(on(screen_type))(pilot)

    return run_before


LIVE_SCREENS = [
    pytest.param("u", QueueScreen, id="queue"),
    pytest.param("p", PresenceScreen, id="presence"),
    pytest.param("w", WallboardScreen, id="wallboard"),
]


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize(("key", "screen_type"), LIVE_SCREENS)
def test_reconnecting_and_stale(
    snap_compare: SnapCompare, size: tuple[int, int], key: str, screen_type: type
) -> None:
    """Link down for 42 s: status bar counts down the retry, figures stay but dimmed."""
    app = board(stale(snapshot(), age_s=42))
    assert snap_compare(app, terminal_size=size, run_before=on_live_screen(key, screen_type))


def test_wallboard_session_expired_keeps_last_data(snap_compare: SnapCompare) -> None:
    """--wallboard after the refresh token was revoked: the last figures, marked stale."""
    expired = stale(snapshot(), age_s=95)
    expired = replace(expired, connection=connection(LinkState.AUTH_FAILED, data_age_s=95))
    app = VokiApp(
        options(wallboard=True, read_only=True),
        FakeAuth(restored=SUPERVISOR),
        FakeFeed([expired]),
        FrozenClock(),
    )
    assert snap_compare(app, terminal_size=(80, 24), run_before=wait_for(on(WallboardScreen)))


@pytest.mark.parametrize("size", SIZES)
def test_queue_in_portuguese(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    app = VokiApp(
        options(lang="pt-BR"), FakeAuth(restored=SUPERVISOR), FakeFeed([snapshot()]), FrozenClock()
    )
    assert snap_compare(app, terminal_size=size, run_before=on_live_screen("u", QueueScreen))


def test_wallboard_reconnecting_in_portuguese(snap_compare: SnapCompare) -> None:
    app = VokiApp(
        options(lang="pt-BR"),
        FakeAuth(restored=SUPERVISOR),
        FakeFeed([stale(snapshot())]),
        FrozenClock(),
    )
    run_before = on_live_screen("w", WallboardScreen)
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
