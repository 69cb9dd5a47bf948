"""The always-visible status line: is the data live, how old is it, and who is watching.

Every screen composes one ``StatusBar`` (the wallboard a ``compact`` one); the app feeds it with
``show_snapshot`` and ``tick`` and also sets ``-stale`` on the screen when :func:`is_stale` says
so, which is what dims the figures. The clock only rewrites the left part (state and age), and
only when its text changed, so an idle live board writes nothing to the terminal.

Every state has its own glyph so it never depends on colour (``NO_COLOR``, monochrome links).
"""

from __future__ import annotations

from datetime import datetime

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from voki_tui.api.servertime import FAR_OFF_S
from voki_tui.language import N_
from voki_tui.live.state import Connection, FeedSnapshot, LinkState, UserInfo
from voki_tui.ui.i18n import tr
from voki_tui.ui.text import clean, format_age, local_time

GLYPHS: dict[LinkState, str] = {
    LinkState.LIVE: "●",
    LinkState.CONNECTING: "○",
    LinkState.SYNCING: "◐",
    LinkState.RECONNECTING: "↻",
    LinkState.OFFLINE: "✕",
    LinkState.AUTH_FAILED: "⚠",
}
STATE_WORDS = {
    LinkState.CONNECTING: N_("connecting"),
    LinkState.SYNCING: N_("syncing"),
    LinkState.LIVE: N_("live"),
}
NARROW = 100
"""Status bars narrower than this leave out the user's name (tenant and role stay)."""
LINK_DOWN = frozenset({LinkState.RECONNECTING, LinkState.OFFLINE, LinkState.AUTH_FAILED})


def is_stale(connection: Connection, now: datetime, limit_s: float) -> bool:
    """True when the figures must be dimmed: link down, or not live and older than the limit."""
    if connection.state is LinkState.LIVE:
        return False
    if connection.state in LINK_DOWN:
        return True
    age = connection.data_age_s(now)
    return age is not None and age > limit_s


def _age(seconds: float) -> str:
    return f"{int(seconds)} s" if seconds < 60 else format_age(seconds)


def describe_link(connection: Connection, now: datetime) -> str:
    """The state part of the status line, e.g. ``↻ reconnecting in 4 s (attempt 3)``."""
    state = connection.state
    glyph = GLYPHS.get(state, "?")
    if state is LinkState.RECONNECTING:
        if connection.retry_at is not None:
            wait = max(0, round((connection.retry_at - now).total_seconds()))
            text = tr("reconnecting in {n} s").format(n=wait)
        else:
            text = tr("reconnecting")
        if connection.attempt > 1:
            text += " (" + tr("attempt {n}").format(n=connection.attempt) + ")"
        if connection.detail:  # why: "connection lost (code 1006)", "… refused (HTTP 403)"
            text += f" · {clean(connection.detail, 60)}"
    elif state is LinkState.OFFLINE:
        text = (
            tr("offline since {t}").format(t=local_time(connection.since))
            if connection.since
            else tr("offline")
        )
    elif state is LinkState.AUTH_FAILED:
        text = tr("session ended — press Enter to log in")
    else:
        text = tr(STATE_WORDS.get(state, state.value))
        if state is LinkState.SYNCING and connection.detail:  # "148 of 150 departments live"
            text += f" · {clean(connection.detail, 60)}"
    return f"{glyph} {text}"


def describe_age(connection: Connection, now: datetime) -> str:
    """``data 12 s old`` when not live; nothing while live (live data has no age)."""
    if connection.state is LinkState.LIVE:
        return ""
    age = connection.data_age_s(now)
    if age is None:
        return tr("no data yet")
    return tr("data {age} old").format(age=_age(age))


ROLES = {"attendant": N_("attendant"), "supervisor": N_("supervisor"), "manager": N_("manager")}


def role_word(role: str) -> str:
    """A known Voki role in the user's language; another one verbatim (cleaned)."""
    return tr(ROLES[role]) if role in ROLES else clean(role, 20)


def describe_who(user: UserInfo | None, tenant: str | None, *, compact: bool) -> str:
    """``acme · supervisor · Marina Souza``: cleaned (server text); the name goes first when cut."""
    parts: list[str] = []
    if tenant:
        parts.append(clean(tenant, 30))
    if user is not None:
        parts.append(role_word(user.role))
    if user is not None and not compact:
        parts.append(clean(user.name, 40))
    return " · ".join(parts)


class StatusBar(Horizontal):
    """Connection state, data age, user, tenant and role, on one line."""

    DEFAULT_CSS = """
    StatusBar {
        dock: bottom;
        height: 1;
        background: $panel;
        color: $text;
    }
    StatusBar > #status-link { width: 1fr; height: 1; }
    StatusBar > #status-who {
        width: auto;
        max-width: 45%;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    StatusBar.-stale > #status-link { background: $warning 40%; text-style: bold; }
    StatusBar.-down > #status-link { background: $error 40%; text-style: bold; }
    """

    def __init__(self, *, compact: bool = False, id: str | None = None) -> None:
        super().__init__(id=id)
        self.compact = compact
        self.insecure = False
        self.read_only = False
        self.notices: tuple[str, ...] = ()  # the first is shown; help lists them all
        self.replay: str | None = None  # "‖ REPLAY 10:15:03" in a replay: first, always
        self.clock_offset_s = 0.0  # the server's clock minus this box's
        self._connection: Connection | None = None
        self._line = ""
        self._who: tuple[UserInfo | None, str | None] | None = None
        self._who_text: str | None = None

    def on_resize(self) -> None:
        if self._who is not None:
            self.show_user(*self._who)

    def compose(self) -> ComposeResult:
        yield Static("", id="status-link", markup=False)
        yield Static("", id="status-who", markup=False)

    def show_user(self, user: UserInfo | None, tenant: str | None) -> None:
        """Who is logged in; called before the first snapshot and whenever it changes.

        Below ``NARROW`` columns the user's name is left out: the connection state comes first.
        The text is only replaced when it changed: ``#status-who`` is ``width: auto``, so every
        update asks for a layout pass of the whole screen (it was once per snapshot).
        """
        self._who = (user, tenant)
        compact = self.compact or 0 < self.size.width < NARROW
        who = describe_who(user, tenant, compact=compact)
        if self.read_only:
            who = tr("read-only") + f" · {who}"
        if abs(self.clock_offset_s) > FAR_OFF_S:
            text = (
                N_("this clock is {t} behind")
                if self.clock_offset_s > 0
                else N_("this clock is {t} ahead")
            )
            who = f"⚠ {tr(text).format(t=format_age(abs(self.clock_offset_s)))} · {who}"
        if self.notices:
            who = f"⚠ {clean(self.notices[0], 60)} · {who}"
        if self.insecure:
            who = "⚠ " + tr("TLS not verified") + f" · {who}"
        text = f" {who} "
        if text != self._who_text:
            self._who_text = text
            self.query_one("#status-who", Static).update(text)

    def show_snapshot(self, snapshot: FeedSnapshot, now: datetime, stale: bool) -> None:
        self._connection = snapshot.connection
        self.clock_offset_s = snapshot.clock_offset_s
        self.show_user(snapshot.user, snapshot.tenant)
        self.tick(now, stale)

    def tick(self, now: datetime, stale: bool) -> None:
        """Rewrite the state/age text if (and only if) it changed."""
        if self._connection is None:
            return
        parts = [describe_link(self._connection, now)]
        if self.replay:
            parts.insert(0, self.replay)
        age = describe_age(self._connection, now)
        if age:
            parts.append(age)
        if stale and self._connection.state is not LinkState.AUTH_FAILED:
            parts.append(tr("stale"))  # an ended session says more already
        line = " " + " · ".join(parts)
        self.set_class(stale, "-stale")
        self.set_class(self._connection.state in LINK_DOWN, "-down")
        if line != self._line:
            self._line = line
            # fixed size (1fr x 1): a new text needs a repaint, never a layout pass
            self.query_one("#status-link", Static).update(line, layout=False)

    @property
    def text(self) -> str:
        """The state/age text currently shown (for tests and the screenshot script)."""
        return self._line
