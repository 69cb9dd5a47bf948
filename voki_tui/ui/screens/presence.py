"""The agents of one department: status, time in status, devices, current call, and counts.

Statuses the client does not know are shown verbatim (sanitised) and counted under their own
name, so a new server status is visible rather than silently lumped in. Customers the feed does
not name and a supervisor's offline members come from the ``Lookups`` the screen is made with.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.widgets import Footer, Static

from voki_tui.language import N_
from voki_tui.live.state import Agent, DepartmentView, FeedSnapshot
from voki_tui.live.timeline import StatusLog
from voki_tui.ports import Member
from voki_tui.resources import styles_dir
from voki_tui.ui.contract import LiveScreen
from voki_tui.ui.i18n import ntr, tr
from voki_tui.ui.lookups import Lookups
from voki_tui.ui.screens.detail import agent_panel
from voki_tui.ui.screens.queue import heading, view_of
from voki_tui.ui.text import clean
from voki_tui.ui.widgets.agent_table import OFFLINE, STATUS_WORDS, AgentTable, status_label
from voki_tui.ui.widgets.filter_bar import FilterBar
from voki_tui.ui.widgets.live_table import LiveTable
from voki_tui.ui.widgets.source_notice import failure_text
from voki_tui.ui.widgets.status_bar import StatusBar
from voki_tui.ui.widgets.title_line import TitleLine


def with_offline(agents: tuple[Agent, ...], members: tuple[Member, ...]) -> tuple[Agent, ...]:
    """The present agents, then the department's members who are not present, as offline."""
    present = {agent.user_id for agent in agents}
    offline = tuple(
        Agent(user_id=ident, name=name, status=OFFLINE, since=None, devices=0)
        for ident, name in sorted(members, key=lambda member: (member[1], member[0]))
        if ident not in present
    )
    return agents + offline


ORDER = tuple(STATUS_WORDS)


def status_counts(agents: tuple[Agent, ...]) -> str:
    """``3 present · ✓ available 1 · ☎ in call 1 · ? lunch 1`` (known statuses first)."""
    counts = Counter(agent.status for agent in agents)
    known = [status for status in ORDER if counts[status]]
    unknown = sorted(status for status in counts if status not in STATUS_WORDS)
    present = len(agents) - counts[OFFLINE]
    parts = [ntr("{n} present", "{n} present", present).format(n=present)]
    parts += [f"{status_label(status)} {counts[status]}" for status in known + unknown]
    return " · ".join(parts)


class PresenceScreen(LiveScreen):
    """Who is present in ``department_id`` and since when; with ``lookups``, the customers of
    calls by name and, ``with_members``, the department's members who are offline."""

    CSS_PATH = str(styles_dir() / "presence.tcss")

    def __init__(
        self,
        department_id: str,
        statuses: StatusLog | None = None,
        lookups: Lookups | None = None,
        *,
        with_members: bool = False,
    ) -> None:
        super().__init__()
        self.department_id = department_id
        self.statuses = statuses if statuses is not None else StatusLog()
        self.lookups = lookups
        self.with_members = with_members
        self.members: tuple[Member, ...] = ()
        self._asked: set[str] = set()  # call ids whose customer was asked of ``lookups``
        self._view: DepartmentView | None = None
        self._now: datetime | None = None
        self._counts = ""
        # made here, not in compose: it learns customers' names from snapshots before mounting
        self._table = AgentTable(id="presence-table")

    def compose(self) -> ComposeResult:
        yield TitleLine(id="presence-title")
        yield Static("", id="presence-counts", markup=False)
        yield Static("", id="presence-notice", markup=False)
        yield FilterBar(id="presence-filter")
        yield self._table
        yield Footer()
        yield StatusBar()

    def on_mount(self) -> None:
        self.query_one(AgentTable).focus()
        if self.lookups is not None and self.with_members:
            self.lookups.want_members(self.department_id, self.show_members)
        self._redraw()

    def show_snapshot(self, snapshot: FeedSnapshot) -> None:
        self._view = view_of(snapshot, self.department_id)
        self._table.learn_customers(item for view in snapshot.departments for item in view.waiting)
        if self._now is None or snapshot.taken_at > self._now:
            self._now = snapshot.taken_at
        if self.is_mounted:
            self._redraw()

    def tick(self, now: datetime) -> None:
        self._now = now
        if self.is_mounted and self._view is not None:
            self.query_one(AgentTable).tick(now)

    def show_members(self, members: tuple[Member, ...]) -> None:
        """The department's members (supervisors): those not present show as offline."""
        if members != self.members:
            self.members = members
            if self.is_mounted:
                self._redraw()

    def learn_call(self, call_id: str, name: str) -> None:
        """A customer's name looked up over REST for a call id."""
        self._table.learn_name(call_id, name)
        if self.is_mounted:
            self._redraw()

    def unknown_calls(self) -> list[str]:
        """Call ids of current calls whose customer this screen cannot name yet."""
        view = self._view
        if view is None:
            return []
        return [a.call_id for a in view.agents if a.call_id and not self._table.known(a.call_id)]

    @on(LiveTable.RowSelected)
    def _open_agent(self, event: LiveTable.RowSelected) -> None:
        """``enter`` on an agent: their status now and since the app started."""
        event.stop()
        table = self.query_one(AgentTable)
        agent = next((a for a in table.given if a.user_id == event.key), None)
        if agent is None or self._now is None:
            return
        call = table.call_label(agent.call_id) if agent.call_id else "—"
        history = self.statuses.of(self.department_id, agent.user_id)
        self.app.push_screen(agent_panel(agent, status_label, call, history, self._now))

    def _redraw(self) -> None:
        view, now = self._view, self._now
        self.query_one(TitleLine).show(heading(N_("Agents"), view, self.department_id))
        failure = failure_text(view.presence, N_("presence")) if view is not None else None
        self.set_class(failure is not None, "-failed")
        self.set_class(view is not None and view.presence.state == "stale", "-source-stale")
        if failure is not None:
            self.query_one("#presence-notice", Static).update(Text(failure))
        if view is None or now is None:
            return
        agents = () if failure is not None else with_offline(view.agents, self.members)
        counts = " " + clean(status_counts(agents), 400)
        if counts != self._counts:
            self._counts = counts
            self.query_one("#presence-counts", Static).update(Text(counts), layout=False)
        table = self.query_one(AgentTable)
        table.set_placeholder(tr("No agents present"))
        table.update_rows(agents, now)
        self._ask_names()

    def _ask_names(self) -> None:
        """Ask, once each, for the customers of the calls this screen cannot name (those
        already known are told at once, and redraw the table before this returns)."""
        unknown = self.unknown_calls()
        self._asked.intersection_update(unknown)  # bounded by the calls going on now
        missing = [call_id for call_id in unknown if call_id not in self._asked]
        if self.lookups is not None and missing:
            self._asked.update(missing)
            self.lookups.want_names(missing, self.learn_call)
