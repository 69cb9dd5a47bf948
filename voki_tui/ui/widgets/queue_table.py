"""The waiting customers of one department, oldest first, with ticking, coloured waits."""

from __future__ import annotations

from datetime import datetime

from voki_tui.live.figures import Level, wait_level
from voki_tui.live.state import WaitingCustomer
from voki_tui.ui.i18n import tr
from voki_tui.ui.text import clean, format_age
from voki_tui.ui.widgets.levels import is_new
from voki_tui.ui.widgets.live_table import NAME_WIDTH, Cell, Column, LiveTable, Sort

REASON_WIDTH = 40
"""The widest the reason column grows on a wide screen."""


class QueueTable(LiveTable[WaitingCustomer]):
    """Position, name, reason and waiting time of each customer, keyed by ``call_id``.

    The wait is drawn against ``max_wait_s`` (the department's ``max_wait_time``) with a glyph
    and a level class; customers first seen less than 30 s ago carry a "new" mark. A tick only
    changes wait cells (and a "new" mark once, when it expires).
    """

    # The ticking wait comes first: Textual repaints a line from the widget's left edge to the
    # end of the changed cell, so a left-most age column makes a tick cost only that cell.
    columns = (
        Column("Wait", 9, align="right"),
        Column("#", 3, align="right"),
        Column("Customer", 14, flex=3, most=NAME_WIDTH),
        Column("Reason", 10, flex=2, most=REASON_WIDTH),
        Column(" ", 5),
    )
    sorts = (
        Sort(2, lambda row, now: row.customer_name.casefold()),
        Sort(3, lambda row, now: (row.reason or "").casefold()),
    )

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.max_wait_s: float | None = None

    def row_key(self, row: WaitingCustomer) -> str:
        return row.call_id

    def row_text(self, row: WaitingCustomer) -> str:
        return f"{row.customer_name} {row.reason or ''}"

    def customer(self, key: str) -> tuple[WaitingCustomer, int] | None:
        """The customer of row ``key`` and their position in the queue (1-based)."""
        rows = {self.row_key(row): index for index, row in enumerate(self.given)}
        if key not in rows:
            return None
        return self.given[rows[key]], rows[key] + 1

    def show_customers(
        self, customers: tuple[WaitingCustomer, ...], max_wait_s: float | None, now: datetime
    ) -> None:
        self.max_wait_s = max_wait_s  # every wait cell is re-judged by update_rows
        self.update_rows(customers, now)

    def row_cells(self, row: WaitingCustomer, index: int, now: datetime) -> tuple[Cell, ...]:
        waited = max(0.0, (now - row.queued_at).total_seconds())
        level = wait_level(waited, self.max_wait_s)
        style = "" if level is Level.OK else ("warn" if level is Level.WARN else "alert")
        return (
            Cell(f"{level.glyph} {format_age(waited)}", style),
            Cell(str(index + 1)),
            Cell(clean(row.customer_name)),
            Cell(clean(row.reason) if row.reason else "—", "" if row.reason else "dim"),
            Cell("★" + tr("new") if is_new(row.first_seen, row.queued_at, now) else "", "new"),
        )
