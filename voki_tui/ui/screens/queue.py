"""The queue of one department: its figures, the last hour, and who is waiting.

Every update is a diff: figures repaint only when their text changes, the table repaints only
the rows/cells that changed, and the one-second tick moves only the ages (the wait cells and
the longest-wait figure). When the queue cannot be read (unauthorized, not found) the screen
says so in words instead of showing an empty table.
"""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Footer, Static

from voki_tui.live.state import DepartmentView, FeedSnapshot
from voki_tui.resources import styles_dir
from voki_tui.ui.contract import LiveScreen
from voki_tui.ui.i18n import register, tr
from voki_tui.ui.text import clean, format_age, format_percent
from voki_tui.ui.widgets.figure import Figure
from voki_tui.ui.widgets.levels import Level, longest_wait_s, size_level, wait_level
from voki_tui.ui.widgets.queue_table import QueueTable
from voki_tui.ui.widgets.source_notice import failure_text, stale_marker
from voki_tui.ui.widgets.status_bar import StatusBar
from voki_tui.ui.widgets.title_line import TitleLine
from voki_tui.ui.widgets.trend import WaitingTrend

register(
    "pt-BR",
    {
        "Queue": "Fila",
        "Waiting": "Aguardando",
        "Longest wait": "Maior espera",
        "ASA": "TME",
        "Service lvl": "Nív. serviço",
        "Abandoned": "Abandono",
        "Agents free": "Livres",
        "No one waiting": "Ninguém aguardando",
    },
)


def view_of(snapshot: FeedSnapshot | None, department_id: str) -> DepartmentView | None:
    """The department's view in ``snapshot``, if the snapshot has it."""
    if snapshot is None:
        return None
    return next((v for v in snapshot.departments if v.department.id == department_id), None)


def heading(kind: str, view: DepartmentView | None, department_id: str) -> Text:
    """``Queue · Vendas ⚠ stale since 14:29:10`` with the name shown literally."""
    name = clean(view.department.name, 60) if view is not None else clean(department_id, 60)
    text = Text(f" {tr(kind)} · {name}")
    if view is not None:
        text.append_text(stale_marker(view.queue if kind == "Queue" else view.presence))
    return text


class QueueScreen(LiveScreen):
    """The waiting customers and figures of ``department_id``."""

    CSS_PATH = str(styles_dir() / "queue.tcss")

    def __init__(self, department_id: str) -> None:
        super().__init__()
        self.department_id = department_id
        self._snapshot: FeedSnapshot | None = None
        self._view: DepartmentView | None = None
        self._now: datetime | None = None

    def compose(self) -> ComposeResult:
        yield TitleLine(id="queue-title")
        with Horizontal(id="queue-figures"):
            yield Figure("Waiting", id="fig-waiting")
            yield Figure("Longest wait", id="fig-longest")
            yield Figure("ASA", id="fig-asa")
            yield Figure("Service lvl", id="fig-sl")
            yield Figure("Abandoned", id="fig-abandoned")
            yield Figure("Agents free", id="fig-available")
        yield WaitingTrend(id="queue-trend")
        yield Static("", id="queue-notice", markup=False)
        yield QueueTable(id="queue-table")
        yield Footer()
        yield StatusBar()

    def on_mount(self) -> None:
        self.query_one(QueueTable).focus()
        self._redraw()

    # -- the contract ------------------------------------------------------------------------

    def show_snapshot(self, snapshot: FeedSnapshot) -> None:
        self._snapshot = snapshot
        self._view = view_of(snapshot, self.department_id)
        if self._now is None or snapshot.taken_at > self._now:
            self._now = snapshot.taken_at
        if self.is_mounted:
            self._redraw()

    def tick(self, now: datetime) -> None:
        self._now = now
        if not self.is_mounted or self._view is None:
            return
        self.query_one(QueueTable).tick(now)
        self._show_longest(self._view, now)

    # -- rendering ---------------------------------------------------------------------------

    def _redraw(self) -> None:
        view, now = self._view, self._now
        self.query_one(TitleLine).show(heading("Queue", view, self.department_id))
        failure = failure_text(view.queue, "queue") if view is not None else None
        self.set_class(failure is not None, "-failed")
        self.set_class(view is not None and view.queue.state == "stale", "-source-stale")
        notice = self.query_one("#queue-notice", Static)
        if failure is not None:
            notice.update(Text(failure))
        if view is None or now is None:
            return
        table = self.query_one(QueueTable)
        # A queue not read yet is not an empty one.
        table.set_placeholder(tr("No one waiting") if view.queue.as_of else tr("Loading…"))
        customers = () if failure is not None else view.waiting
        table.show_customers(customers, view.department.max_wait_time, now)
        self._show_figures(view, now)
        self.query_one(WaitingTrend).show(view.waiting_history, view.department.max_queue_size)

    def _show_figures(self, view: DepartmentView, now: datetime) -> None:
        metrics = view.metrics
        dep = view.department
        waiting = len(view.waiting)
        limit = f"/{dep.max_queue_size}" if dep.max_queue_size else ""
        self._show_longest(view, now)
        if metrics is None:  # not read yet, or refused: no figure, not a zero
            for fig in ("fig-waiting", "fig-asa", "fig-sl", "fig-abandoned", "fig-available"):
                self._figure(fig, "—")
            return
        self._figure("fig-waiting", f"{waiting}{limit}", size_level(waiting, dep.max_queue_size))
        self._figure("fig-asa", format_age(metrics.asa_s))
        sl_total = metrics.answered + metrics.abandoned_after_threshold
        self._figure(
            "fig-sl",
            f"{format_percent(metrics.service_level)} {metrics.answered_within}/{sl_total}",
        )
        ab_total = metrics.answered + metrics.abandoned
        self._figure(
            "fig-abandoned",
            f"{format_percent(metrics.abandonment_rate)} {metrics.abandoned}/{ab_total}",
        )
        available = metrics.agents_available
        self._figure(
            "fig-available",
            f"{available}/{metrics.agents_present}",
            Level.ALERT if waiting and not available else Level.OK,
        )

    def _show_longest(self, view: DepartmentView, now: datetime) -> None:
        longest = longest_wait_s(view, now)
        self._figure(
            "fig-longest", format_age(longest), wait_level(longest, view.department.max_wait_time)
        )

    def _figure(self, fig_id: str, value: str, level: Level = Level.OK) -> None:
        self.query_one(f"#{fig_id}", Figure).show(value, level)
