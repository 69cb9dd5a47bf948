"""The queue of one department: its figures, the last hour, and who is waiting.

Every update is a diff: figures repaint only when their text changes, the table repaints only
the rows/cells that changed, and the one-second tick moves only the ages (the wait cells and
the longest-wait figure). When the queue cannot be read (unauthorized, not found) the screen
says so in words instead of showing an empty table.
"""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Footer, Static

from voki_tui.language import N_
from voki_tui.live import figures
from voki_tui.live.state import DepartmentView, FeedSnapshot
from voki_tui.resources import styles_dir
from voki_tui.ui.contract import LiveScreen
from voki_tui.ui.i18n import tr
from voki_tui.ui.screens.detail import customer_panel
from voki_tui.ui.text import clean
from voki_tui.ui.widgets.figure import Figure
from voki_tui.ui.widgets.filter_bar import FilterBar
from voki_tui.ui.widgets.live_table import LiveTable
from voki_tui.ui.widgets.queue_table import QueueTable
from voki_tui.ui.widgets.source_notice import failure_text, stale_marker
from voki_tui.ui.widgets.status_bar import StatusBar
from voki_tui.ui.widgets.title_line import TitleLine
from voki_tui.ui.widgets.trend import WaitingTrend

HEADER = (
    "waiting",
    "longest_wait_s",
    "asa_s",
    "service_level",
    "abandonment_rate",
    "agents_available",
)
"""The figures of the queue's header, as keys of the figure table."""


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

    def __init__(self, department_id: str, *, show_contact: bool = False) -> None:
        super().__init__()
        self.department_id = department_id
        self.show_contact = show_contact
        self._view: DepartmentView | None = None
        self._now: datetime | None = None

    def compose(self) -> ComposeResult:
        yield TitleLine(id="queue-title")
        with Horizontal(id="queue-figures"):
            for key in HEADER:
                yield Figure(figures.BY_KEY[key].label, id=f"fig-{key}")
        yield WaitingTrend(id="queue-trend")
        yield Static("", id="queue-notice", markup=False)
        yield FilterBar(id="queue-filter")
        yield QueueTable(id="queue-table")
        yield Footer()
        yield StatusBar()

    def on_mount(self) -> None:
        self.query_one(QueueTable).focus()
        self._redraw()

    # -- the contract ------------------------------------------------------------------------

    def show_snapshot(self, snapshot: FeedSnapshot) -> None:
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

    @on(LiveTable.RowSelected)
    def _open_customer(self, event: LiveTable.RowSelected) -> None:
        """``enter`` on a customer: the detail panel."""
        event.stop()
        found = self.query_one(QueueTable).customer(event.key)
        if found is not None and self._now is not None:
            customer, position = found
            panel = customer_panel(customer, position, self._now, show_contact=self.show_contact)
            self.app.push_screen(panel)

    # -- rendering ---------------------------------------------------------------------------

    def _redraw(self) -> None:
        view, now = self._view, self._now
        self.query_one(TitleLine).show(heading(N_("Queue"), view, self.department_id))
        failure = failure_text(view.queue, N_("queue")) if view is not None else None
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
        table.show_customers(customers, figures.rules_of(view).max_wait_s.value, now)
        self._show_figures(view, now)
        self.query_one(WaitingTrend).show(
            view.waiting_history, figures.rules_of(view).max_queue.value
        )

    def _show_figures(self, view: DepartmentView, now: datetime) -> None:
        """The header, straight from the figure table (the same text and glyph everywhere)."""
        for key in HEADER:
            self._figure(figures.read(key, view, now))

    def _show_longest(self, view: DepartmentView, now: datetime) -> None:
        self._figure(figures.read("longest_wait_s", view, now))

    def _figure(self, reading: figures.Reading) -> None:
        self.query_one(f"#fig-{reading.key}", Figure).show(reading.display, reading.level)
