"""The agents of one department: status, time in status, devices, current call, and counts.

Statuses the client does not know are shown verbatim (sanitised) and counted under their own
name, so a new server status is visible rather than silently lumped in.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Footer, Static

from voki_tui.live.state import Agent, DepartmentView, FeedSnapshot
from voki_tui.resources import styles_dir
from voki_tui.ui.contract import LiveScreen
from voki_tui.ui.i18n import register, tr
from voki_tui.ui.screens.queue import heading, view_of
from voki_tui.ui.text import clean
from voki_tui.ui.widgets.agent_table import STATUS_WORDS, AgentTable, status_label
from voki_tui.ui.widgets.source_notice import failure_text
from voki_tui.ui.widgets.status_bar import StatusBar
from voki_tui.ui.widgets.title_line import TitleLine

register(
    "pt-BR",
    {
        "Agents": "Atendentes",
        "present": "presentes",
        "No agents present": "Nenhum atendente presente",
    },
)

ORDER = tuple(STATUS_WORDS)


def status_counts(agents: tuple[Agent, ...]) -> str:
    """``3 present · ✓ available 1 · ☎ in call 1 · ? lunch 1`` (known statuses first)."""
    counts = Counter(agent.status for agent in agents)
    known = [status for status in ORDER if counts[status]]
    unknown = sorted(status for status in counts if status not in STATUS_WORDS)
    parts = [f"{len(agents)} {tr('present')}"]
    parts += [f"{status_label(status)} {counts[status]}" for status in known + unknown]
    return " · ".join(parts)


class PresenceScreen(LiveScreen):
    """Who is present in ``department_id`` and since when."""

    CSS_PATH = str(styles_dir() / "presence.tcss")

    def __init__(self, department_id: str) -> None:
        super().__init__()
        self.department_id = department_id
        self._view: DepartmentView | None = None
        self._now: datetime | None = None
        self._counts = ""
        # made here, not in compose: it learns customers' names from snapshots before mounting
        self._table = AgentTable(id="presence-table")

    def compose(self) -> ComposeResult:
        yield TitleLine(id="presence-title")
        yield Static("", id="presence-counts", markup=False)
        yield Static("", id="presence-notice", markup=False)
        yield self._table
        yield Footer()
        yield StatusBar()

    def on_mount(self) -> None:
        self.query_one(AgentTable).focus()
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

    def _redraw(self) -> None:
        view, now = self._view, self._now
        self.query_one(TitleLine).show(heading("Agents", view, self.department_id))
        failure = failure_text(view.presence, "presence") if view is not None else None
        self.set_class(failure is not None, "-failed")
        self.set_class(view is not None and view.presence.state == "stale", "-source-stale")
        if failure is not None:
            self.query_one("#presence-notice", Static).update(Text(failure))
        if view is None or now is None:
            return
        agents = () if failure is not None else view.agents
        counts = " " + clean(status_counts(agents), 400)
        if counts != self._counts:
            self._counts = counts
            self.query_one("#presence-counts", Static).update(Text(counts), layout=False)
        table = self.query_one(AgentTable)
        table.set_placeholder(tr("No agents present"))
        table.update_rows(agents, now)
