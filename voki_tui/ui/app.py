"""The Textual application: the latest snapshot, the clock, the screen stack, the feed worker.

``VokiApp`` owns the latest ``FeedSnapshot`` (published by the ``FeedRunner`` in one App-level
worker and delivered as coalescing ``SnapshotArrived`` messages), the clock (one
``set_interval(1.0)`` that ticks only the shown screens) and the screen stack, with the sign-in
that decides its first screens. Screens are ``LiveScreen``s that render what they are given;
every screen composes a ``StatusBar`` that the app keeps current and whose staleness it mirrors
as the ``-stale`` class on the screen, which the stylesheets dim.

What opens for which key or intent, and the departments behind it, is ``navigation``; the
palette's entries are ``palette``; names looked up over REST for the agents' screens are
``lookups``. A login shows the connecting screen while it waits, the login form only when a
person must act, then the department list (or the wallboard, or the one queue); help and
questions are modals; a "terminal too small" screen goes above everything while the terminal
is under 80x24.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.command import CommandPalette
from textual.css.query import NoMatches
from textual.events import Resize
from textual.geometry import Size
from textual.screen import Screen
from textual.widgets import Static

from voki_tui.api.errors import VokiError
from voki_tui.language import choose
from voki_tui.live.state import (
    Connection,
    Counters,
    Department,
    FeedSnapshot,
    LinkState,
    Notification,
    UserInfo,
)
from voki_tui.live.timeline import StatusLog
from voki_tui.memory import RELEASE_EVERY_S, release_free_memory
from voki_tui.ports import Authenticator, FeedRunner, ReplayControl, Retrying
from voki_tui.resources import styles_dir
from voki_tui.retry import SERVER_DOWN
from voki_tui.settings import Settings
from voki_tui.ui import i18n, themes
from voki_tui.ui.alerts import BellPolicy, RateLimiter
from voki_tui.ui.bindings import LocalisedKeys
from voki_tui.ui.contract import Clock, LiveScreen, system_clock
from voki_tui.ui.driver import driver_for
from voki_tui.ui.i18n import tr
from voki_tui.ui.lookups import Lookups
from voki_tui.ui.messages import (
    FeedFailed,
    GoBack,
    LoggedIn,
    LoginWanted,
    NotificationArrived,
    OpenPresence,
    OpenQueue,
    OpenWallboard,
    SnapshotArrived,
)
from voki_tui.ui.navigation import DEPARTMENTS, WALLBOARD, Destination, Navigation, Unavailable
from voki_tui.ui.palette import PaletteCommands
from voki_tui.ui.screens.confirm import ConfirmScreen
from voki_tui.ui.screens.connecting import ConnectingScreen
from voki_tui.ui.screens.help import HelpScreen
from voki_tui.ui.screens.jump import JumpScreen
from voki_tui.ui.screens.login import LoginScreen
from voki_tui.ui.screens.too_small import TooSmallScreen, fits
from voki_tui.ui.signals import install_exit_handlers, start_tty_watchdog
from voki_tui.ui.text import clean, local_time
from voki_tui.ui.widgets.status_bar import StatusBar, is_stale

log = logging.getLogger(__name__)


class VokiApp(App[int]):
    """voki-tui. Construct with the options, an Authenticator, a FeedRunner and a clock."""

    TITLE = "voki-tui"
    CSS_PATH = str(styles_dir() / "app.tcss")
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("d", "departments", "Departments"),
        Binding("u", "queue", "Queue"),
        Binding("p", "presence", "Presence"),
        Binding("w", "wallboard", "Wallboard"),
        Binding("question_mark", "help", "Help"),
        Binding("l", "logout", "Log out", show=False),
        # Only while the session has ended (``check_action``); otherwise enter goes on down.
        Binding("enter", "log_in", "Log in", priority=True),
        # Only in a replay (``check_action``). On the department list space marks (the
        # screen's key comes first); left and right go to a text field being typed in.
        Binding("space", "replay_pause", "Pause"),
        Binding("left", "replay_step(-10)", "-10 s", show=False),
        Binding("right", "replay_step(10)", "+10 s", show=False),
        Binding("left_square_bracket,shift+left", "replay_step(-60)", "-1 min", show=False),
        Binding("right_square_bracket,shift+right", "replay_step(60)", "+1 min", show=False),
        Binding("t", "replay_jump", "Time"),
    ]

    def __init__(
        self,
        options: Settings,
        auth: Authenticator,
        feed: FeedRunner,
        clock: Clock = system_clock,
        *,
        notices: tuple[str, ...] = (),
        replay: ReplayControl | None = None,
    ) -> None:
        i18n.set_language(choose(options.lang))
        super().__init__()
        self.options = options
        self.auth = auth
        self.feed = feed
        self.clock = clock
        self.notices = notices  # from before the app started (no log file, say)
        self.replay = replay  # a past moment from a recording (voki-tui replay), or None
        self.user: UserInfo | None = None
        self.snapshot: FeedSnapshot | None = None
        self.stale = False
        self.session_ended: str | None = None  # why, while only a person can log in again
        self.bell_policy = BellPolicy()
        self.toasts = RateLimiter()
        self.statuses = StatusLog()  # every agent's statuses since start (presence panels)
        lookups = Lookups(auth, self._look_up)
        self.navigation = Navigation(options, self.statuses, lookups)
        self._rng = random.Random()  # retry jitter, not security
        self._remove_signal_handlers: list[object] = []
        self.register_theme(themes.HIGH_CONTRAST)
        self.theme = themes.resolve(options.theme)
        self.driver_class = driver_for(self.driver_class, raw=options.raw_output)

    def get_default_screen(self) -> Screen[Any]:
        """Textual's first screen, whose keys speak the language as every other screen's."""
        return LocalisedKeys(id="_default")

    def compose(self) -> ComposeResult:
        yield Static(tr("Starting…"), id="starting")

    def on_mount(self) -> None:
        self._remove_signal_handlers = [install_exit_handlers(self)]
        watchdog = start_tty_watchdog(self)
        if watchdog is not None:
            self._remove_signal_handlers.append(watchdog)
        self.set_interval(1.0, self._tick, name="clock")
        self.set_interval(RELEASE_EVERY_S, release_free_memory, name="release-memory")
        self._sign_in()

    async def on_unmount(self) -> None:
        for undo in self._remove_signal_handlers:
            if callable(undo):
                undo()
        # On this loop: the connections belong to it, and it is gone once ``run`` returns.
        await self.auth.close()

    def _set_language(self, language: str) -> None:
        """Switch labels (the user's locale is known only after login) and the footer keys."""
        if language != i18n.language():
            i18n.set_language(language)
            self.refresh_bindings()

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Textual's own palette entries, in the user's language."""
        for title, help_text, callback, discover in super().get_system_commands(screen):
            yield SystemCommand(tr(title), tr(help_text), callback, discover)

    def action_command_palette(self) -> None:
        """Textual's palette, in the user's language, with Textual's entries and ours."""
        if self.use_command_palette and not CommandPalette.is_open(self):  # type: ignore[arg-type]
            screen = self.screen
            ours = PaletteCommands(screen, self.navigation.watched)
            # A SimpleProvider instance, as Textual's own ``search_commands`` passes; the
            # ``providers`` annotation names only classes and factories.
            providers: Any = [*self.COMMANDS, *screen.COMMANDS, ours]
            palette = CommandPalette(
                providers, id="--command-palette", placeholder=tr("Search for commands…")
            )
            self.push_screen(palette)

    # ----------------------------------------------------------------- auth

    def _login_screen(self, reason: str | None = None) -> LoginScreen:
        options = self.options
        given = (options.server, options.tenant, options.email)
        return LoginScreen(self.auth, self.clock, given=given, reason=reason)

    @work(exclusive=True, group="auth", exit_on_error=False, description="sign in")
    async def _sign_in(self) -> None:
        """Sign in by itself when it can (stored session, password source), through any
        outage, on the connecting screen; the login form only when a person is needed."""
        last = self.auth.last()
        if last is None or not self.auth.can_resume():
            await self._go(self._login_screen())
            return
        await self._go(self._connecting_screen())
        try:
            user = await self.auth.resume(self._show_retrying)
        except VokiError as error:  # only a person can log in now
            await self._go(self._login_screen(error.message))
            return
        if user is None:
            await self._go(self._login_screen())
        else:
            await self._logged_in(user)

    def _show_retrying(self, attempt: Retrying) -> None:
        """A failed attempt to reach the server: say so on the connecting screen."""
        top = self.screen
        screen = top if isinstance(top, ConnectingScreen) else self._connecting_screen()
        if screen is not top:
            self.push_screen(screen)
        screen.show_attempt(attempt, self.clock())

    def _connecting_screen(self) -> ConnectingScreen:
        last = self.auth.last()
        server, tenant, email = (
            (last.server, last.tenant, last.email) if last else (self.options.server or "", "", "")
        )
        return ConnectingScreen(server, tenant, email, self.clock)

    @on(LoggedIn)
    async def _on_logged_in(self, message: LoggedIn) -> None:
        await self._logged_in(message.user)

    @on(LoginWanted)
    async def _on_login_wanted(self) -> None:
        self.workers.cancel_group(self, "auth")
        await self._go(self._login_screen(self.session_ended))

    async def _logged_in(self, user: UserInfo) -> None:
        """Pick the language, list the departments, start the feed and show the first screen."""
        self.user = user
        self.session_ended = None
        self.refresh_bindings()
        self._set_language(choose(self.options.lang, user.locale))
        try:
            listed = await self.auth.departments(self._show_retrying)
        except VokiError as error:
            reason = tr("Could not list departments: {detail}").format(detail=error.message)
            await self._go(self._login_screen(reason))
            return
        self._run_feed(self.navigation.watch(user, listed))
        if self.is_screen_installed(DEPARTMENTS):
            if self.get_screen(DEPARTMENTS) in self.screen_stack:
                await self._go(self._connecting_screen())  # the old list may not stay up
            self.uninstall_screen(DEPARTMENTS)
        assert self.navigation.list is not None  # made by ``watch``
        self.install_screen(self.navigation.list, DEPARTMENTS)
        await self._go(self.navigation.first())

    def _session_over(self, detail: str | None) -> None:
        """Only a person can log in again. The board stays, dimmed with its age; the form comes
        only when someone presses enter; meanwhile a new password from the source (or a
        session stored by another voki-tui) brings the board back by itself."""
        self.session_ended = detail or tr("Your session has ended.")
        self.workers.cancel_group(self, "feed")
        self.refresh_bindings()
        self._sign_in_later()

    @work(exclusive=True, group="auth", exit_on_error=False, description="sign in again")
    async def _sign_in_later(self) -> None:
        user = await self.auth.await_sign_in()
        await self._logged_in(user)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "log_in":
            return self.session_ended is not None and not isinstance(self.screen, LoginScreen)
        if action.startswith("replay_"):
            return self.replay is not None
        return True

    async def action_log_in(self) -> None:
        self.post_message(LoginWanted())

    async def action_logout(self) -> None:
        """Log out, after a yes: one stray key must not end a session nobody is there to renew.
        Refused outright on a wallboard and in read-only mode."""
        if self.options.read_only or self.options.wallboard:
            self.notify(
                tr("Read-only: logging out is disabled.")
                if self.options.read_only
                else tr("Wallboard: logging out is disabled."),
                markup=False,
                severity="warning",
            )
            return
        if self.user is None or isinstance(self.screen, ConfirmScreen):
            return
        who = f"{clean(self.user.email, 60)} ({clean(self.options.tenant or '', 30)})"
        question = tr("Log out {who}? The stored session is revoked.").format(who=who)
        await self.push_screen(ConfirmScreen(question), callback=self._logout_answered)

    async def _logout_answered(self, yes: bool | None) -> None:
        if not yes:
            return
        self.workers.cancel_group(self, "feed")
        self.workers.cancel_group(self, "auth")
        try:
            await self.auth.logout()
        except VokiError as error:
            self.notify(clean(error.message), markup=False, severity="error")
        self.user = None
        self.snapshot = None
        self.session_ended = None
        await self._go(self._login_screen())

    # ----------------------------------------------------------------- replay

    def action_replay_pause(self) -> None:
        if self.replay is not None:
            self.replay.toggle_pause()
            self._tick()

    def action_replay_step(self, seconds: float) -> None:
        if self.replay is not None:
            self.replay.step(seconds)

    async def action_replay_jump(self) -> None:
        if self.replay is None or isinstance(self.screen, JumpScreen):
            return
        shown = local_time(self.replay.state().position, seconds=True)
        await self.push_screen(JumpScreen(self.replay, shown), callback=self._jump)

    def _jump(self, moment: datetime | None) -> None:
        if moment is not None and self.replay is not None:
            self.replay.jump(moment)

    def _replay_mark(self) -> str | None:
        """``‖ REPLAY 10:15:03 x4`` in the status bar: never taken for a live board."""
        if self.replay is None:
            return None
        state = self.replay.state()
        glyph = "‖" if state.paused or state.at_end else "▶"
        mark = f"{glyph} REPLAY {local_time(state.position, seconds=True)}"  # in every language
        if state.speed != 1:
            mark += f" x{state.speed:g}"
        if state.at_end:
            mark += " · " + tr("end")
        return mark

    # ----------------------------------------------------------------- feed

    @work(exclusive=True, group="feed", exit_on_error=False, description="live feed")
    async def _run_feed(self, departments: tuple[Department, ...]) -> None:
        """Run the live feed. Should it fail in a way nobody foresaw, the board says so (the
        figures stay, dimmed) and the feed starts again with backoff: a frozen "live" is the
        one thing a wall must never show."""
        failures = 0
        while True:
            try:
                await self.feed.run(departments, self._publish, self._notify)
                return  # the session ended: the feed published why
            except Exception as error:
                failures += 1
                delay = SERVER_DOWN.delay(failures, self._rng)
                log.exception("the live feed failed; starting it again in %.1f s", delay)
                self._feed_failed(error, delay)
                await asyncio.sleep(delay)

    def _feed_failed(self, error: Exception, delay: float) -> None:
        """Tell the board, after any snapshot the failed feed published just before."""
        self.post_message(
            FeedFailed(f"internal error ({type(error).__name__}); see the log", delay)
        )

    @on(FeedFailed)
    def _on_feed_failed(self, message: FeedFailed) -> None:
        now = self._now()
        snapshot = self.snapshot or FeedSnapshot(
            version=0,
            taken_at=now,
            server=self.options.server or "",
            tenant=self.options.tenant or "",
            user=self.user,
            connection=Connection(state=LinkState.CONNECTING),
        )
        connection = snapshot.connection
        failed = replace(
            connection,
            state=LinkState.RECONNECTING,
            since=now,
            retry_at=now + timedelta(seconds=message.retry_in_s),
            data_as_of=now if connection.state is LinkState.LIVE else connection.data_as_of,
            detail=message.detail,
        )
        self.snapshot = replace(snapshot, connection=failed)
        self._render_active()

    def _publish(self, snapshot: FeedSnapshot) -> None:
        self.post_message(SnapshotArrived(snapshot))

    def _notify(self, notification: Notification) -> None:
        self.post_message(NotificationArrived(notification))

    @on(SnapshotArrived)
    async def _on_snapshot(self, message: SnapshotArrived) -> None:
        snapshot = message.snapshot
        self.snapshot = snapshot
        now = self._now()
        if self.options.bell and self.bell_policy.should_ring(snapshot.departments, now):
            self.bell()
        ended = snapshot.connection.state is LinkState.AUTH_FAILED
        if ended and self.session_ended is None and self.replay is None:
            self._session_over(snapshot.connection.detail)
        self.statuses.note(snapshot.departments, now)
        self._render_active()

    @on(NotificationArrived)
    def _on_notification(self, message: NotificationArrived) -> None:
        if not self.toasts.allow(self.clock()):
            return
        note = message.notification
        self.notify(
            clean(note.body, 300) or clean(note.title, 120),
            title=clean(note.title, 80) or tr("Notification"),
            markup=False,
            timeout=10,
        )

    def _look_up(self, lookup: Coroutine[Any, Any, None]) -> None:
        """Run one of ``Lookups``' REST lookups as a worker of the app (it outlives the screen
        that asked, and ends with the app)."""
        self.run_worker(lookup, group="lookups", exit_on_error=False, description="lookup")

    # ----------------------------------------------------------------- rendering

    def _notices(self) -> tuple[str, ...]:
        """What the user should know besides the link: the app's and the feed's notices."""
        return self.notices + (self.snapshot.notices if self.snapshot is not None else ())

    def _now(self) -> datetime:
        """Now by the server's clock: every age shown is a server timestamp subtracted from it,
        so a box whose own clock is off still shows true waits (the feed measures the offset)."""
        offset = self.snapshot.clock_offset_s if self.snapshot is not None else 0.0
        return self.clock() + timedelta(seconds=offset)

    def _shown(self) -> list[Screen[Any]]:
        """The screens that show live data now: the top one and, under a modal (help, the
        palette, a question), the board it covers, which stays visible and must stay current:
        a help page left open on a wall must not freeze the figures beneath it. None while
        the app is shutting down (a busy feed still publishes as the screens go)."""
        if not self.screen_stack:
            return []
        top = self.screen
        board = next(
            (
                screen
                for screen in reversed(self.screen_stack)
                if isinstance(screen, LiveScreen) and not isinstance(screen, TooSmallScreen)
            ),
            None,
        )
        return [top] if board is None or board is top else [board, top]

    def _render_active(self) -> None:
        """Hand the latest snapshot to the shown screens and their status bars, in one repaint."""
        now = self._now()
        snapshot = self.snapshot
        with self.batch_update():
            for screen in self._shown():
                if isinstance(screen, LiveScreen) and snapshot is not None:
                    try:
                        screen.show_snapshot(snapshot)
                    except NoMatches:  # the screen is being torn down (exit, a pop in flight)
                        continue
                self._update_status(screen, now, full=True)

    def _update_status(self, screen: Screen[Any], now: datetime, *, full: bool) -> None:
        """The screen's status bar: a child of the screen itself (it docks to the screen's
        bottom), so only the screen's children are searched. A search of the whole screen ran
        for every snapshot and was a quarter of the wallboard's CPU at 100 events/s."""
        snapshot = self.snapshot
        if snapshot is not None:
            self.stale = is_stale(snapshot.connection, now, self.options.stale_after_s)
        screen.set_class(self.stale, "-stale")
        for bar in screen.query_children(StatusBar):
            bar.insecure = self.options.insecure
            bar.read_only = self.options.read_only and self.replay is None
            bar.replay = self._replay_mark()
            bar.notices = self._notices()
            if snapshot is None:
                if full:
                    bar.show_user(self.user, self.options.tenant)
            elif full:
                bar.show_snapshot(snapshot, now, self.stale)
            else:
                bar.tick(now, self.stale)

    def _tick(self) -> None:
        """Once a second: ages move on the shown screens only."""
        now = self._now()
        with self.batch_update():
            for screen in self._shown():
                if isinstance(screen, LiveScreen):
                    try:
                        screen.tick(now)
                    except NoMatches:  # mounted, its widgets not yet (or no longer) there
                        continue
                self._update_status(screen, now, full=False)

    # ----------------------------------------------------------------- the screen stack

    async def _go(self, destination: Destination) -> None:
        """Make ``destination`` the main screen (closing whatever is above the current one:
        help, too-small, a question, the connecting screen), rendering the current snapshot
        before its first paint: no dashes, no previous visit's numbers."""
        if destination is self.navigation.wall and not self.is_screen_installed(WALLBOARD):
            self.install_screen(destination, WALLBOARD)  # kept: its page and order live on
        target = self.get_screen(destination) if isinstance(destination, str) else destination
        if isinstance(target, LiveScreen):
            if self.snapshot is not None:
                target.show_snapshot(self.snapshot)
            target.tick(self._now())
        while len(self.screen_stack) > 2:
            await self.pop_screen()
        if len(self.screen_stack) <= 1:
            await self.push_screen(target)
        else:
            await self.switch_screen(target)
        self._render_active()
        self._check_size()

    async def _navigate(self, where: Callable[[], Destination | None]) -> None:
        """Go where a key leads, once logged in; say why not when there is nowhere to go."""
        if self.user is None:
            self.notify(tr("Log in first."), markup=False, severity="warning")
            return
        try:
            destination = where()
        except Unavailable as reason:
            self.notify(str(reason), markup=False, severity="warning")
            return
        if destination is not None:
            await self._go(destination)

    async def action_departments(self) -> None:
        await self._navigate(lambda: DEPARTMENTS)

    async def action_queue(self) -> None:
        navigation = self.navigation
        await self._navigate(lambda: navigation.queue(navigation.department_for_keys(self.screen)))

    async def action_presence(self) -> None:
        navigation = self.navigation
        await self._navigate(
            lambda: navigation.presence(navigation.department_for_keys(self.screen))
        )

    async def action_wallboard(self) -> None:
        """Toggle: to the wallboard, or back to the departments when already there."""
        await self._navigate(lambda: self.navigation.toggle_wallboard(self.screen))

    async def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen | TooSmallScreen):
            return
        counters = self.snapshot.counters if self.snapshot else Counters()
        views = self.snapshot.departments if self.snapshot else ()
        screen = HelpScreen(
            counters,
            self.options.stale_after_s,
            self.toasts.dropped,
            self._notices(),
            views,
            replay=self.replay is not None,
        )
        await self.push_screen(screen, callback=lambda _: self._render_active())

    @on(GoBack)
    async def _go_back(self) -> None:
        """``escape`` on a board: back to the department list (never off a wall)."""
        if self.user is not None:
            destination = self.navigation.back(self.screen)
            if destination is not None:
                await self._go(destination)

    @on(OpenQueue)
    async def _open_queue(self, message: OpenQueue) -> None:
        await self._go(self.navigation.queue(message.department_id))

    @on(OpenPresence)
    async def _open_presence(self, message: OpenPresence) -> None:
        await self._go(self.navigation.presence(message.department_id))

    @on(OpenWallboard)
    async def _open_wallboard(self, message: OpenWallboard) -> None:
        await self._go(self.navigation.wallboard(message.department_ids))

    # ----------------------------------------------------------------- terminal size

    def on_resize(self, event: Resize) -> None:
        # Runs before App._on_resize has stored the new size: use the event's.
        self._check_size(event.size)

    def _check_size(self, size: Size | None = None) -> None:
        width, height = size or self.size
        small = isinstance(self.screen, TooSmallScreen)
        if not fits(width, height):
            if small:
                self.screen.show_size(width, height)  # type: ignore[attr-defined]
            else:
                self.push_screen(TooSmallScreen())
        elif small:
            self.pop_screen()
            self.call_after_refresh(self._render_active)
