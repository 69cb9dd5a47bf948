"""Shown while the app signs in by itself and the server cannot be reached (yet).

A wall box that boots before its network, or whose server is restarting, must not park on the
login form: with a stored session or a password source it shows this screen, says what it is
trying and what went wrong, counts down to the next attempt, and goes live on its own when the
server answers. ``enter`` opens the login form for a person who wants another account.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Static

from voki_tui.ports import Retrying
from voki_tui.settings import mask_url
from voki_tui.ui.contract import Clock, LiveScreen
from voki_tui.ui.i18n import tr
from voki_tui.ui.messages import LoginWanted
from voki_tui.ui.text import clean


class ConnectingScreen(LiveScreen):
    """What the unattended sign-in is doing; ticks down to its next attempt."""

    DEFAULT_CSS = """
    ConnectingScreen { align: center middle; }
    ConnectingScreen > #connecting-box {
        width: 76;
        max-width: 100%;
        height: auto;
        border: round $primary;
        padding: 0 1;
    }
    ConnectingScreen #connecting-target { text-style: bold; }
    ConnectingScreen #connecting-state { margin-top: 1; }
    ConnectingScreen #connecting-hint { margin-top: 1; color: $text-muted; }
    """
    BINDINGS = [Binding("enter", "login", "Log in with another account")]

    def __init__(self, server: str, tenant: str, email: str, clock: Clock) -> None:
        super().__init__()
        self.server, self.tenant, self.email = server, tenant, email
        self.clock = clock
        self.step = tr("Signing in…")
        self.attempt: Retrying | None = None
        self.retry_at: datetime | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="connecting-box"):
            target = tr("Connecting to {server}").format(server=clean(mask_url(self.server), 60))
            yield Static(target, id="connecting-target", markup=False)
            who = tr("as {email} ({tenant})").format(
                email=clean(self.email, 60), tenant=clean(self.tenant, 30)
            )
            yield Static(who, markup=False)
            yield Static(self.step, id="connecting-state", markup=False)
            yield Static(
                tr("It will go live by itself when the server answers."),
                id="connecting-hint",
                markup=False,
            )

    def on_mount(self) -> None:
        self._render_state(self.clock())

    def show_attempt(self, attempt: Retrying, now: datetime) -> None:
        """A failed attempt: why, and when the next one is."""
        self.attempt = attempt
        self.retry_at = now + timedelta(seconds=attempt.retry_in_s)
        self._render_state(now)

    def tick(self, now: datetime) -> None:
        if self.attempt is not None:
            self._render_state(now)

    def _render_state(self, now: datetime) -> None:
        if not self.is_mounted:
            return  # on_mount renders what is known by then
        attempt = self.attempt
        if attempt is None or self.retry_at is None:
            text = self.step
        else:
            wait = max(0, round((self.retry_at - now).total_seconds()))
            when = (
                tr("retrying in {n} s (attempt {k})").format(n=wait, k=attempt.failures)
                if wait
                else tr("retrying now (attempt {k})").format(k=attempt.failures)
            )
            text = f"↻ {clean(attempt.detail, 200)}\n  {when}"
        self.query_one("#connecting-state", Static).update(text)

    def action_login(self) -> None:
        self.post_message(LoginWanted())
