"""The Textual application: navigation, the feed worker, the clock and the status bar.

``VokiApp`` owns three things and nothing else: the latest ``FeedSnapshot`` (published by the
``FeedRunner`` in one App-level worker and delivered as coalescing ``SnapshotArrived``
messages), the clock (one ``set_interval(1.0)`` that ticks only the active screen) and the
screen stack. Screens are ``LiveScreen``s that render what they are given; every screen
composes a ``StatusBar`` that the app keeps current and whose staleness it mirrors as the
``-stale`` class on the screen, which the stylesheets dim.

Navigation: login → departments → queue / presence / wallboard, help as a modal, and a
"terminal too small" screen above everything while the terminal is under 80x24.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.command import CommandPalette, DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.css.query import NoMatches
from textual.events import Resize
from textual.geometry import Size
from textual.screen import Screen
from textual.widgets import Static

from voki_tui.api.errors import VokiError
from voki_tui.language import N_, choose
from voki_tui.live.figures import with_rules
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
from voki_tui.ports import Authenticator, DepartmentList, FeedRunner, Member, Retrying
from voki_tui.resources import styles_dir
from voki_tui.retry import SERVER_DOWN
from voki_tui.settings import Settings
from voki_tui.ui import i18n, themes
from voki_tui.ui.alerts import BellPolicy, RateLimiter
from voki_tui.ui.bindings import translate_bindings
from voki_tui.ui.contract import Clock, LiveScreen, system_clock
from voki_tui.ui.i18n import tr
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
from voki_tui.ui.screens.confirm import ConfirmScreen
from voki_tui.ui.screens.connecting import ConnectingScreen
from voki_tui.ui.screens.departments import DepartmentsScreen
from voki_tui.ui.screens.help import HelpScreen
from voki_tui.ui.screens.login import LoginScreen
from voki_tui.ui.screens.presence import PresenceScreen
from voki_tui.ui.screens.too_small import TooSmallScreen, fits
from voki_tui.ui.signals import install_exit_handlers, start_tty_watchdog
from voki_tui.ui.text import clean
from voki_tui.ui.widgets.status_bar import StatusBar, is_stale

log = logging.getLogger(__name__)

CALL_NAMES_KEPT = 2000
"""How many looked-up customers' names (by call id) the app keeps at most."""


TEXTUAL_LABELS = (
    N_("Theme"),
    N_("Change the current theme"),
    N_("Quit the application as soon as possible"),
    N_("Keys"),
    N_("Show help for the focused widget and a summary of available keys"),
    N_("Hide the keys and widget help panel"),
    N_("Screenshot"),
    N_("Save an SVG 'screenshot' of the current screen"),
    N_("Maximize"),
    N_("Maximize the focused widget"),
    N_("Minimize"),
    N_("Minimize the widget and restore to normal size"),
    N_("palette"),
    N_("Copy selected text"),
    N_("Open the command palette"),
    N_("Close"),
)
"""Textual's own labels (its palette entries and keys), for the catalogs: shown through ``tr``
by ``get_system_commands`` and ``translate_bindings``."""


class VokiCommands(Provider):
    """Palette commands: each department's queue and presence, wallboard, themes.

    Department names are untrusted, and Textual's fuzzy highlighter parses its candidate as
    markup, so hits are displayed as literal ``Content`` without match highlighting.
    """

    def _commands(self) -> list[tuple[str, str, object]]:
        app = self.app
        assert isinstance(app, VokiApp)
        commands: list[tuple[str, str, object]] = []
        for dep in app.watched:
            name = clean(dep.name, 60)
            commands.append((tr("Open queue: {name}").format(name=name), "", OpenQueue(dep.id)))
            commands.append(
                (tr("Open presence: {name}").format(name=name), "", OpenPresence(dep.id))
            )
        commands.append((tr("Toggle wallboard"), "", "wallboard"))
        for alias in themes.ORDER:
            commands.append((tr("Theme: {name}").format(name=alias), "", f"theme:{alias}"))
        return commands

    def _runner(self, target: object) -> Callable[[], None]:
        app = self.app
        assert isinstance(app, VokiApp)

        def run() -> None:
            if isinstance(target, str) and target.startswith("theme:"):
                app.theme = themes.resolve(target.removeprefix("theme:"))
            elif target == "wallboard":
                app.action_wallboard()
            elif isinstance(target, OpenQueue | OpenPresence):
                app.post_message(type(target)(target.department_id))

        return run

    async def discover(self) -> Hits:
        for title, _help, target in self._commands():
            yield DiscoveryHit(Content(title), self._runner(target))

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, _help, target in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, Content(title), self._runner(target))


class VokiApp(App[int]):
    """voki-tui. Construct with the options, an Authenticator, a FeedRunner and a clock."""

    TITLE = "voki-tui"
    CSS_PATH = str(styles_dir() / "app.tcss")
    COMMANDS = App.COMMANDS | {VokiCommands}
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
    ]

    def __init__(
        self,
        options: Settings,
        auth: Authenticator,
        feed: FeedRunner,
        clock: Clock = system_clock,
        *,
        notices: tuple[str, ...] = (),
    ) -> None:
        i18n.set_language(choose(options.lang))
        super().__init__()
        translate_bindings(self)  # after App.__init__, which adds the palette's key
        self.options = options
        self.auth = auth
        self.feed = feed
        self.clock = clock
        self.notices = notices  # from before the app started (no log file, say)
        self.user: UserInfo | None = None
        self.choices = DepartmentList(())
        self.watched: tuple[Department, ...] = ()
        self.wallboard_ids: tuple[str, ...] = ()
        self.current_department: str | None = None
        self.snapshot: FeedSnapshot | None = None
        self.stale = False
        self.session_ended: str | None = None  # why, while only a person can log in again
        self.bell_policy = BellPolicy()
        self.toasts = RateLimiter()
        self.statuses = StatusLog()  # every agent's statuses since start (presence panels)
        self.call_names: OrderedDict[str, str | None] = OrderedDict()  # REST lookups by call
        self._lookups: list[str] = []  # call ids to look up, in order
        self.members: dict[str, tuple[Member, ...] | None] = {}  # by department, once each
        self._rng = random.Random()  # retry jitter, not security
        self._remove_signal_handlers: list[object] = []
        self.register_theme(themes.HIGH_CONTRAST)
        self.theme = themes.resolve(options.theme)

    def compose(self) -> ComposeResult:
        yield Static(tr("Starting…"), id="starting")

    def on_mount(self) -> None:
        self._remove_signal_handlers = [install_exit_handlers(self)]
        watchdog = start_tty_watchdog(self)
        if watchdog is not None:
            self._remove_signal_handlers.append(watchdog)
        self.set_interval(1.0, self._tick, name="clock")
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
            translate_bindings(self)
            self.refresh_bindings()

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Textual's own palette entries, in the user's language."""
        for command in super().get_system_commands(screen):
            yield command._replace(title=tr(command.title), help=tr(command.help))

    def action_command_palette(self) -> None:
        if self.use_command_palette and not CommandPalette.is_open(self):  # type: ignore[arg-type]
            self.push_screen(
                CommandPalette(id="--command-palette", placeholder=tr("Search for commands…"))
            )

    # ----------------------------------------------------------------- auth

    @work(exclusive=True, group="auth", exit_on_error=False, description="sign in")
    async def _sign_in(self) -> None:
        """Sign in by itself when it can (stored session, password source), through any
        outage, on the connecting screen; the login form only when a person is needed."""
        last = self.auth.last()
        if last is None or not self.auth.can_resume():
            await self._go(LoginScreen(self.auth, self.clock))
            return
        await self._go(self._connecting_screen())
        try:
            user = await self.auth.resume(self._show_retrying)
        except VokiError as error:  # only a person can log in now
            await self._go(LoginScreen(self.auth, self.clock, reason=error.message))
            return
        if user is None:
            await self._go(LoginScreen(self.auth, self.clock))
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
        await self._go(LoginScreen(self.auth, self.clock, reason=self.session_ended))

    async def _logged_in(self, user: UserInfo) -> None:
        """Pick the language, list the departments, start the feed and show the first screen."""
        self.user = user
        self.session_ended = None
        self.refresh_bindings()
        self._set_language(choose(self.options.lang, user.locale))
        try:
            self.choices = await self.auth.departments(self._show_retrying)
        except VokiError as error:
            reason = tr("Could not list departments: {detail}").format(detail=error.message)
            await self._go(LoginScreen(self.auth, self.clock, reason=reason))
            return
        self.watched = tuple(
            with_rules(d, self.options.thresholds) if d.rules is None else d
            for d in self._select(self.choices.departments, self.options.departments)
        )
        self.choices = replace(self.choices, departments=self.watched)
        self.wallboard_ids = tuple(d.id for d in self.watched)
        self.current_department = self.watched[0].id if self.watched else None
        self._run_feed(self.watched)
        if self.is_screen_installed("departments"):
            if self.get_screen("departments") in self.screen_stack:
                await self._go(self._connecting_screen())  # the old list may not stay up
            self.uninstall_screen("departments")
        self.install_screen(DepartmentsScreen(self.choices, user), "departments")
        if self.options.wallboard:
            await self._show_wallboard()
        elif len(self.watched) == 1:
            await self._go(self._queue_screen(self.watched[0].id))
        else:
            await self._go("departments")

    @staticmethod
    def _select(visible: Sequence[Department], wanted: Sequence[str]) -> tuple[Department, ...]:
        """The departments to watch: ``--department`` ids in order, else all visible ones.

        An id given on the command line that the list does not contain is kept (by id): an
        attendant may not be allowed to list departments but still watch their own.
        """
        if not wanted:
            return tuple(visible)
        by_id = {d.id: d for d in visible}
        return tuple(by_id.get(dep_id, Department(id=dep_id, name=dep_id)) for dep_id in wanted)

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
        if snapshot.connection.state is LinkState.AUTH_FAILED and self.session_ended is None:
            self._session_over(snapshot.connection.detail)
        self.statuses.note(snapshot.departments, now)
        self._render_active()
        self._name_calls()

    # ----------------------------------------------------------------- lookups (presence)

    def _presence(self) -> PresenceScreen | None:
        return next((s for s in self._shown() if isinstance(s, PresenceScreen)), None)

    def _name_calls(self) -> None:
        """Look up, once each, the customers of the calls the presence screen cannot name."""
        screen = self._presence()
        if screen is None:
            return
        for call_id in screen.unknown_calls():
            if call_id in self.call_names:
                name = self.call_names[call_id]
                if name:
                    screen.learn_call(call_id, name)
            elif call_id not in self._lookups:
                self._lookups.append(call_id)
        if self._lookups:
            self._look_up_calls()

    @work(exclusive=False, group="lookups", exit_on_error=False, description="call lookups")
    async def _look_up_calls(self) -> None:
        while self._lookups:
            call_id = self._lookups[0]
            name = await self.auth.customer_of(call_id)
            self._lookups.remove(call_id)
            self.call_names[call_id] = name
            while len(self.call_names) > CALL_NAMES_KEPT:
                self.call_names.popitem(last=False)
            screen = self._presence()
            if name and screen is not None:
                screen.learn_call(call_id, name)

    @work(group="lookups", exit_on_error=False, description="department members")
    async def _load_members(self, screen: PresenceScreen) -> None:
        """A supervisor sees the department's offline members; asked once per department."""
        dep_id = screen.department_id
        if dep_id not in self.members:
            self.members[dep_id] = None
            self.members[dep_id] = await self.auth.members(dep_id)
        members = self.members[dep_id]
        if members:
            screen.show_members(members)

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
        return True

    async def action_log_in(self) -> None:
        self.post_message(LoginWanted())

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

    # ----------------------------------------------------------------- rendering

    def _snapshot_for(self, screen: Screen[Any]) -> FeedSnapshot | None:
        """What ``screen`` should see: the wallboard only the chosen departments, in order."""
        snapshot = self.snapshot
        if snapshot is None or screen.__class__.__name__ != "WallboardScreen":
            return snapshot
        views = {v.department.id: v for v in snapshot.departments}
        chosen = tuple(views[i] for i in self.wallboard_ids if i in views)
        return replace(snapshot, departments=chosen)

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
        with self.batch_update():
            for screen in self._shown():
                snapshot = self._snapshot_for(screen)
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
            bar.read_only = self.options.read_only
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

    # ----------------------------------------------------------------- navigation

    async def _go(self, screen: Screen[Any] | str) -> None:
        """Make ``screen`` the main screen (closing whatever is above the current one: help,
        too-small, a question, the connecting screen), rendering the current snapshot before
        its first paint: no dashes, no previous visit's numbers."""
        target = self.get_screen(screen) if isinstance(screen, str) else screen
        if isinstance(target, LiveScreen):
            snapshot = self._snapshot_for(target)
            if snapshot is not None:
                target.show_snapshot(snapshot)
            target.tick(self._now())
        while len(self.screen_stack) > 2:
            await self.pop_screen()
        if len(self.screen_stack) <= 1:
            await self.push_screen(screen)
        else:
            await self.switch_screen(screen)
        self._render_active()
        self._check_size()
        self._name_calls()

    def _queue_screen(self, department_id: str) -> Screen[Any]:
        from voki_tui.ui.screens.queue import QueueScreen

        self.current_department = department_id
        return QueueScreen(department_id, show_contact=self.options.show_contact)

    def _presence_screen(self, department_id: str) -> Screen[Any]:
        self.current_department = department_id
        screen = PresenceScreen(department_id, self.statuses)
        for call_id, name in self.call_names.items():
            if name:
                screen.learn_call(call_id, name)
        if self.user is not None and self.user.role != "attendant":
            self._load_members(screen)
        return screen

    async def _show_wallboard(self) -> None:
        from voki_tui.ui.screens.wallboard import WallboardScreen

        if not self.is_screen_installed("wallboard"):
            self.install_screen(
                WallboardScreen(show_inactive=self.options.show_inactive), "wallboard"
            )
        await self._go("wallboard")

    def _logged_in_or_say(self) -> bool:
        if self.user is None:
            self.notify(tr("Log in first."), markup=False, severity="warning")
            return False
        return True

    def _department_for_keys(self) -> str | None:
        screen = self.screen
        if isinstance(screen, DepartmentsScreen):
            highlighted = screen.highlighted_department()
            if highlighted is not None:
                return highlighted
        return self.current_department

    async def action_departments(self) -> None:
        if self._logged_in_or_say():
            await self._go("departments")

    async def action_queue(self) -> None:
        if not self._logged_in_or_say():
            return
        dep_id = self._department_for_keys()
        if dep_id is None:
            self.notify(tr("No department to show."), markup=False, severity="warning")
            return
        await self._go(self._queue_screen(dep_id))

    async def action_presence(self) -> None:
        if not self._logged_in_or_say():
            return
        dep_id = self._department_for_keys()
        if dep_id is None:
            self.notify(tr("No department to show."), markup=False, severity="warning")
            return
        await self._go(self._presence_screen(dep_id))

    def action_wallboard(self) -> None:
        """Toggle: to the wallboard, or back to the departments when already there."""
        if not self._logged_in_or_say():
            return
        on_wall = self.screen.__class__.__name__ == "WallboardScreen"
        if on_wall and not self.options.wallboard:
            self.run_worker(self._go("departments"), group="navigation")
        else:
            self.run_worker(self._show_wallboard(), group="navigation")

    async def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen | TooSmallScreen):
            return
        counters = self.snapshot.counters if self.snapshot else Counters()
        views = self.snapshot.departments if self.snapshot else ()
        screen = HelpScreen(
            counters, self.options.stale_after_s, self.toasts.dropped, self._notices(), views
        )
        await self.push_screen(screen, callback=lambda _: self._render_active())

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
        await self._go(LoginScreen(self.auth, self.clock))

    @on(GoBack)
    async def _go_back(self) -> None:
        """``escape`` on a board: back to the department list (never off a wall)."""
        on_list = isinstance(self.screen, DepartmentsScreen)
        if self.user is not None and not self.options.wallboard and not on_list:
            await self._go("departments")

    @on(OpenQueue)
    async def _open_queue(self, message: OpenQueue) -> None:
        await self._go(self._queue_screen(message.department_id))

    @on(OpenPresence)
    async def _open_presence(self, message: OpenPresence) -> None:
        await self._go(self._presence_screen(message.department_id))

    @on(OpenWallboard)
    async def _open_wallboard(self, message: OpenWallboard) -> None:
        self.wallboard_ids = message.department_ids or tuple(d.id for d in self.watched)
        await self._show_wallboard()

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
