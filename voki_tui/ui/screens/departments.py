"""Pick the departments to watch: a filterable, sortable table of each one's figures.

The rows come from the Authenticator's role-aware department list (so a department with no
data yet still appears) merged with the latest snapshot. Each figure cell is the figure
table's (``voki_tui.live.figures``): the same text and glyph as the queue header, the tiles and
the JSON. ``space`` marks several for the wallboard, ``enter`` opens the queue of the
highlighted one, or the wallboard of the marked ones when any are marked. It is a
``LiveTable``, so the clock repaints only the "longest wait" cells whose text changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, Static

from voki_tui.live import figures
from voki_tui.live.figures import Level, Reading
from voki_tui.live.state import Department, DepartmentView, FeedSnapshot, UserInfo
from voki_tui.ports import DepartmentList
from voki_tui.resources import styles_dir
from voki_tui.ui.contract import LiveScreen
from voki_tui.ui.i18n import ntr, tr
from voki_tui.ui.messages import OpenQueue, OpenWallboard
from voki_tui.ui.text import clean
from voki_tui.ui.widgets.filter_bar import FilterBar
from voki_tui.ui.widgets.live_table import NAME_WIDTH, Cell, Column, LiveTable, Sort
from voki_tui.ui.widgets.status_bar import StatusBar, role_word

MARKED = "☑"
UNMARKED = "☐"
BEFORE_ANY_DATA = datetime.fromtimestamp(0, UTC)
"""The time rows are drawn at before the first snapshot (no figure is shown then)."""
LEVEL_STYLES = {Level.OK: "", Level.WARN: "warn", Level.ALERT: "alert"}


@dataclass(frozen=True, slots=True)
class DepartmentRow:
    department: Department
    view: DepartmentView | None
    marked: bool


def figure_cell(reading: Reading) -> Cell:
    """A figure as a cell: its glyph, its value and what stands behind it, its level's style."""
    return Cell(f"{reading.glyph} {reading.display}", LEVEL_STYLES[reading.level])


class DepartmentTable(LiveTable[DepartmentRow]):
    """One row per department; the longest wait ticks (it is the first figure column)."""

    columns = (
        Column(" ", 1),
        Column("Longest wait", 12, align="right"),
        Column("Department", 16, flex=1, most=NAME_WIDTH),
        Column("Waiting", 11, align="right"),
        Column("Free", 7, align="right"),
        Column("SL", 12, align="right"),
    )
    sorts = (
        Sort(1, lambda row, now: _value(row, now, "longest_wait_s"), reverse=True),
        Sort(2, lambda row, now: row.department.name.casefold()),
        Sort(3, lambda row, now: _value(row, now, "waiting"), reverse=True),
    )

    def row_key(self, row: DepartmentRow) -> str:
        return row.department.id

    def row_text(self, row: DepartmentRow) -> str:
        return f"{row.department.name} {row.department.id}"

    def row_cells(self, row: DepartmentRow, index: int, now: datetime) -> tuple[Cell, ...]:
        name = clean(row.department.name, 60)
        if not row.department.active:
            name += " (" + tr("inactive") + ")"
        mark = Cell(MARKED if row.marked else UNMARKED)
        if row.view is None:
            dash = Cell(figures.NO_VALUE)
            return (mark, dash, Cell(name), dash, dash, dash)
        view = row.view
        return (
            mark,
            figure_cell(figures.read("longest_wait_s", view, now)),
            Cell(name),
            figure_cell(figures.read("waiting", view, now)),
            figure_cell(figures.read("agents_available", view, now)),
            figure_cell(figures.read("service_level", view, now)),
        )


def _value(row: DepartmentRow, now: datetime, key: str) -> float:
    if row.view is None:
        return -1.0
    value = figures.read(key, row.view, now).value
    return -1.0 if value is None else float(value)


class DepartmentsScreen(LiveScreen):
    """The department picker."""

    CSS_PATH = str(styles_dir() / "departments.tcss")
    BINDINGS = [Binding("space", "toggle_mark", "Mark")]

    def __init__(self, choices: DepartmentList, user: UserInfo | None) -> None:
        super().__init__()
        self.choices = choices
        self.user = user
        self.marked: set[str] = set()
        self.views: dict[str, DepartmentView] = {}
        self.now: datetime | None = None
        self._note = ""

    def compose(self) -> ComposeResult:
        yield Static(self._heading(), id="departments-heading", markup=False)
        yield FilterBar(id="departments-filter")
        yield DepartmentTable(id="departments-table")
        yield Static("", id="departments-note", markup=False)
        yield Footer()
        yield StatusBar()

    def on_mount(self) -> None:
        self._rebuild()
        self.query_one(DepartmentTable).focus()

    def _heading(self) -> str:
        count = len(self.choices.departments)
        if self.choices.total is not None and self.choices.total != count:
            parts = [
                ntr(
                    "{n} of {total} department", "{n} of {total} departments", self.choices.total
                ).format(n=count, total=self.choices.total)
            ]
        else:
            parts = [ntr("{n} department", "{n} departments", count).format(n=count)]
        if self.user is not None:
            parts.append(tr("role {role}").format(role=role_word(self.user.role)))
        if self.choices.note:
            parts.append(clean(self.choices.note, 60))
        return tr("Departments") + " — " + " · ".join(parts)

    # ----------------------------------------------------------------- rendering

    def show_snapshot(self, snapshot: FeedSnapshot) -> None:
        self.views = {v.department.id: v for v in snapshot.departments}
        self.now = snapshot.taken_at
        if self.is_mounted:
            self._rebuild()

    def tick(self, now: datetime) -> None:
        self.now = now
        table = self._table()
        if table is not None:
            table.tick(now)

    def _table(self) -> DepartmentTable | None:
        """The table, or None while the screen is torn down (a snapshot can still arrive)."""
        return next(iter(self.query(DepartmentTable).results()), None)

    def _rows(self) -> list[DepartmentRow]:
        return [
            DepartmentRow(d, self.views.get(d.id), d.id in self.marked)
            for d in self.choices.departments
        ]

    def _rebuild(self) -> None:
        table = self._table()
        if table is None:
            return
        table.update_rows(self._rows(), self.now or BEFORE_ANY_DATA)
        self._update_note()

    def _update_note(self) -> None:
        table = self._table()
        note = ""
        if not self.choices.departments:
            note = tr("No department is visible to this user.")
        elif table is not None and not table.keys:
            note = tr("No department matches the filter.")
        elif self.marked:
            note = ntr(
                "{n} marked: enter opens its wallboard",
                "{n} marked: enter opens their wallboard",
                len(self.marked),
            ).format(n=len(self.marked))
        if note != self._note:
            # one line, full width (departments.tcss): a repaint, never a layout pass
            self._note = note
            self.query_one("#departments-note", Static).update(note, layout=False)

    # ----------------------------------------------------------------- interaction

    def highlighted_department(self) -> str | None:
        """The department under the cursor (what ``u`` and ``p`` open)."""
        table = self._table()
        return table.cursor_key if table is not None else None

    def action_toggle_mark(self) -> None:
        dep_id = self.highlighted_department()
        if dep_id is None:
            return
        self.marked ^= {dep_id}
        self._rebuild()

    def action_back(self) -> None:
        """``escape`` clears a filter; there is nothing to go back to from here."""
        bar = self.query_one(FilterBar)
        if bar.has_focus or bar.value:
            super().action_back()
            self._update_note()

    @on(FilterBar.Changed)
    def _note_after_filter(self) -> None:
        self.call_after_refresh(self._update_note)

    @on(LiveTable.RowSelected)
    def _open(self, event: LiveTable.RowSelected) -> None:
        event.stop()
        if self.marked:
            order = [d.id for d in self.choices.departments if d.id in self.marked]
            self.post_message(OpenWallboard(tuple(order)))
        else:
            self.post_message(OpenQueue(event.key))
