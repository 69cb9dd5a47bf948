"""Pick the departments to watch: a filterable table with each one's waiting count and wait.

The rows come from the Authenticator's role-aware department list (so a department with no
data yet still appears) merged with the latest snapshot. ``space`` marks several for the
wallboard, ``enter`` opens the queue of the highlighted one, or the wallboard of the marked
ones when any are marked. The clock only rewrites "longest wait" cells whose text changed.
"""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Input, Static

from voki_tui.live.state import DepartmentView, FeedSnapshot, UserInfo
from voki_tui.ports import DepartmentList
from voki_tui.resources import styles_dir
from voki_tui.ui.contract import LiveScreen
from voki_tui.ui.i18n import register, tr
from voki_tui.ui.messages import OpenQueue, OpenWallboard
from voki_tui.ui.text import clean, format_age, literal
from voki_tui.ui.widgets.cell_table import CellTable
from voki_tui.ui.widgets.status_bar import StatusBar

register(
    "pt-BR",
    {
        "Departments": "Departamentos",
        "Department": "Departamento",
        "Waiting": "Aguardando",
        "Longest wait": "Maior espera",
        "Agents available": "Atendentes livres",
        "Filter departments (/)": "Filtrar departamentos (/)",
        "{n} departments": "{n} departamentos",
        "{n} of {total} departments": "{n} de {total} departamentos",
        "role {role}": "papel {role}",
        "{n} marked: enter opens their wallboard": "{n} marcados: enter abre o painel deles",
        "Mark": "Marcar",
        "Open": "Abrir",
        "Filter": "Filtrar",
        "No department matches the filter.": "Nenhum departamento corresponde ao filtro.",
        "No department is visible to this user.": "Nenhum departamento visível para este usuário.",
    },
)

COLUMNS = ("mark", "name", "waiting", "longest", "available")
MARKED = "☑"
UNMARKED = "☐"


class DepartmentsScreen(LiveScreen):
    """The department picker."""

    CSS_PATH = str(styles_dir() / "departments.tcss")
    BINDINGS = [
        Binding("space", "toggle_mark", "Mark"),
        Binding("slash", "filter", "Filter"),
        Binding("escape", "leave_filter", show=False),
    ]

    def __init__(self, choices: DepartmentList, user: UserInfo | None) -> None:
        super().__init__()
        self.choices = choices
        self.user = user
        self.marked: set[str] = set()
        self.filter_text = ""
        self.views: dict[str, DepartmentView] = {}
        self.now: datetime | None = None
        self._shown: list[str] = []
        self._note = ""

    def compose(self) -> ComposeResult:
        yield Static(self._heading(), id="departments-heading", markup=False)
        search = Input(placeholder=tr("Filter departments (/)"), id="departments-filter")
        search.cursor_blink = False  # a blinking cursor repaints twice a second, forever
        yield search
        table = CellTable(id="departments-table", cursor_type="row")
        yield table
        yield Static("", id="departments-note", markup=False)
        yield Footer()
        yield StatusBar()

    def on_mount(self) -> None:
        table = self.query_one(CellTable)
        table.add_column(" ", key="mark", width=1)
        table.add_column(tr("Department"), key="name")
        table.add_column(tr("Waiting"), key="waiting")
        table.add_column(tr("Longest wait"), key="longest")
        table.add_column(tr("Agents available"), key="available")
        self._rebuild()
        table.focus()

    def _heading(self) -> str:
        count = len(self.choices.departments)
        if self.choices.total is not None and self.choices.total != count:
            parts = [tr("{n} of {total} departments").format(n=count, total=self.choices.total)]
        else:
            parts = [tr("{n} departments").format(n=count)]
        if self.user is not None:
            parts.append(tr("role {role}").format(role=clean(self.user.role, 20)))
        if self.choices.note:
            parts.append(clean(self.choices.note, 60))
        return f"{tr('Departments')} — " + " · ".join(parts)

    # ----------------------------------------------------------------- rendering

    def show_snapshot(self, snapshot: FeedSnapshot) -> None:
        self.views = {v.department.id: v for v in snapshot.departments}
        self.now = snapshot.taken_at
        if self.is_mounted:
            self._rebuild()

    def tick(self, now: datetime) -> None:
        self.now = now
        table = self._table()
        if table is None:
            return
        for dep_id in self._shown:
            self._set(table, dep_id, "longest", self._longest(dep_id))

    def _table(self) -> CellTable | None:
        """The table, or None while the screen is torn down (a snapshot can still arrive)."""
        return next(iter(self.query(CellTable)), None)

    def _visible_ids(self) -> list[str]:
        needle = self.filter_text.casefold()
        return [
            d.id
            for d in self.choices.departments
            if not needle or needle in d.name.casefold() or needle in d.id.casefold()
        ]

    def _rebuild(self) -> None:
        """Re-list the rows when the set changes; otherwise update changed cells only."""
        table = self._table()
        if table is None:
            return
        wanted = self._visible_ids()
        if wanted != self._shown:
            selected = self._highlighted()
            table.clear()
            names = {d.id: d.name for d in self.choices.departments}
            for dep_id in wanted:
                table.add_row(*self._cells(dep_id, names[dep_id]), key=dep_id)
            self._shown = wanted
            if selected in wanted:
                table.move_cursor(row=wanted.index(selected))
        else:
            for dep_id in wanted:
                self._set(table, dep_id, "mark", self._mark(dep_id))
                self._set(table, dep_id, "waiting", self._waiting(dep_id))
                self._set(table, dep_id, "longest", self._longest(dep_id))
                self._set(table, dep_id, "available", self._available(dep_id))
        self._update_note()

    def _update_note(self) -> None:
        note = ""
        if not self.choices.departments:
            note = tr("No department is visible to this user.")
        elif not self._shown:
            note = tr("No department matches the filter.")
        elif self.marked:
            note = tr("{n} marked: enter opens their wallboard").format(n=len(self.marked))
        if note != self._note:
            # one line, full width (departments.tcss): a repaint, never a layout pass
            self._note = note
            self.query_one("#departments-note", Static).update(note, layout=False)

    @staticmethod
    def _set(table: CellTable, row: str, column: str, value: Text) -> None:
        if table.get_cell(row, column).plain != value.plain:
            table.set_cell(row, column, value)

    def _cells(self, dep_id: str, name: str) -> tuple[Text, ...]:
        return (
            self._mark(dep_id),
            literal(name, max_len=60),
            self._waiting(dep_id),
            self._longest(dep_id),
            self._available(dep_id),
        )

    def _mark(self, dep_id: str) -> Text:
        return Text(MARKED if dep_id in self.marked else UNMARKED)

    def _waiting(self, dep_id: str) -> Text:
        view = self.views.get(dep_id)
        if view is None or view.metrics is None:
            return Text("—", justify="right")
        limit = view.department.max_queue_size
        text = f"{view.metrics.waiting}" + (f"/{limit}" if limit else "")
        full = limit is not None and view.metrics.waiting >= limit
        return Text(("▲ " if full else "") + text, justify="right", style="bold" if full else "")

    def _longest(self, dep_id: str) -> Text:
        view = self.views.get(dep_id)
        if view is None or not view.waiting or self.now is None:
            return Text("—", justify="right")
        seconds = (self.now - view.waiting[0].queued_at).total_seconds()
        limit = view.department.max_wait_time
        over = limit is not None and seconds >= limit
        label = ("▲ " if over else "") + format_age(seconds)
        return Text(label, justify="right", style="bold" if over else "")

    def _available(self, dep_id: str) -> Text:
        view = self.views.get(dep_id)
        if view is None or view.metrics is None:
            return Text("—", justify="right")
        return Text(str(view.metrics.agents_available), justify="right")

    # ----------------------------------------------------------------- interaction

    def _highlighted(self) -> str | None:
        table = self.query_one(CellTable)
        if not self._shown or table.cursor_row >= len(self._shown):
            return None
        return self._shown[table.cursor_row]

    def highlighted_department(self) -> str | None:
        """The department under the cursor (what ``u`` and ``p`` open)."""
        return self._highlighted()

    def action_filter(self) -> None:
        self.query_one("#departments-filter", Input).focus()

    def action_leave_filter(self) -> None:
        self.query_one(CellTable).focus()

    @on(Input.Changed, "#departments-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value.strip()
        self._rebuild()

    @on(Input.Submitted, "#departments-filter")
    def _filter_done(self) -> None:
        self.query_one(CellTable).focus()

    def action_toggle_mark(self) -> None:
        dep_id = self._highlighted()
        if dep_id is None:
            return
        self.marked ^= {dep_id}
        self._set(self.query_one(CellTable), dep_id, "mark", self._mark(dep_id))
        self._update_note()

    @on(DataTable.RowSelected)
    def _open(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if self.marked:
            order = [d.id for d in self.choices.departments if d.id in self.marked]
            self.post_message(OpenWallboard(tuple(order)))
        elif event.row_key.value is not None:
            self.post_message(OpenQueue(event.row_key.value))
