"""The present agents of one department: status, time in status (ticking), devices, call."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from voki_tui.language import N_
from voki_tui.live.state import Agent, WaitingCustomer
from voki_tui.ui.i18n import tr
from voki_tui.ui.text import clean, format_age
from voki_tui.ui.widgets.live_table import NAME_WIDTH, Cell, Column, LiveTable, Sort

STATUS_GLYPHS = {"available": "✓", "in_call": "☎", "away": "◌", "paused": "‖", "offline": "○"}
"""Known statuses have a glyph so the state reads without colour; others show "?"."""

STATUS_WORDS = {
    "available": N_("available"),
    "in_call": N_("in call"),
    "away": N_("away"),
    "paused": N_("paused"),
    "offline": N_("offline"),
}
STATUS_STYLES = {
    "available": "ok",
    "in_call": "busy",
    "away": "warn",
    "paused": "warn",
    "offline": "dim",
}
OFFLINE = "offline"
"""The status of a department member who is not present (supervisors see them)."""
NAMES_KEPT = 2000
"""How many customers' names (by call id) the table remembers for the "Call" column."""
SHORT_ID = 9
"""Call ids are UUIDs (36 characters): an unknown one shows as its first 8 and an ellipsis."""


def status_label(status: str) -> str:
    """Glyph and translated word for a known status; unknown statuses verbatim (sanitised)."""
    glyph = STATUS_GLYPHS.get(status, "?")
    word = tr(STATUS_WORDS[status]) if status in STATUS_WORDS else clean(status, 40)
    return f"{glyph} {word}"


class AgentTable(LiveTable[Agent]):
    """One row per present agent, keyed by ``user_id``; a tick moves only "in status" cells."""

    # Time in status first: a tick then repaints only that cell (see ``QueueTable``).
    columns = (
        Column("In status", 9, align="right"),
        Column("Status", 18),
        Column("Agent", 14, flex=3, most=NAME_WIDTH),
        Column("Devices", 7, align="right"),
        Column("Call", 10, flex=1, most=NAME_WIDTH),
    )
    sorts = (
        Sort(
            1,
            lambda row, now: (
                list(STATUS_WORDS).index(row.status) if row.status in STATUS_WORDS else 9
            ),
        ),
        Sort(0, lambda row, now: row.since or now, reverse=False),
    )

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._names: dict[str, str] = {}

    def learn_name(self, call_id: str, name: str) -> None:
        """A customer's name looked up by call id (REST), for a call never seen waiting."""
        self._names.pop(call_id, None)
        self._names[call_id] = name
        for stale in list(self._names)[: max(0, len(self._names) - NAMES_KEPT)]:
            del self._names[stale]

    def known(self, call_id: str) -> bool:
        return call_id in self._names

    def learn_customers(self, customers: Iterable[WaitingCustomer]) -> None:
        """Remember who is behind each call id seen waiting; a call an agent picks up was a
        waiting customer a moment before, so its name is usually known by then. The oldest
        names go first past ``NAMES_KEPT``."""
        names = self._names
        for item in customers:
            names.pop(item.call_id, None)
            names[item.call_id] = item.customer_name
        for stale in list(names)[: max(0, len(names) - NAMES_KEPT)]:
            del names[stale]

    def call_label(self, call_id: str) -> str:
        """The customer's name when known, else a short form of the call id (both cleaned)."""
        name = self._names.get(call_id)
        return clean(name) if name else clean(call_id, SHORT_ID)

    def row_key(self, row: Agent) -> str:
        return row.user_id

    def row_text(self, row: Agent) -> str:
        call = self.call_label(row.call_id) if row.call_id else ""
        return f"{row.name} {status_label(row.status)} {row.reason or ''} {call}"

    def row_cells(self, row: Agent, index: int, now: datetime) -> tuple[Cell, ...]:
        in_status = (now - row.since).total_seconds() if row.since is not None else None
        status = status_label(row.status)
        if row.reason:
            status += f" · {clean(row.reason, 40)}"
        return (
            Cell(format_age(in_status)),
            Cell(status, STATUS_STYLES.get(row.status, "")),
            Cell(clean(row.name)),
            Cell(str(row.devices) if row.status != OFFLINE else "—"),
            Cell(
                self.call_label(row.call_id) if row.call_id else "—", "" if row.call_id else "dim"
            ),
        )
