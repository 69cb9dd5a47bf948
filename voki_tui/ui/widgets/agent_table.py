"""The present agents of one department: status, time in status (ticking), devices, call."""

from __future__ import annotations

from datetime import datetime

from voki_tui.live.state import Agent
from voki_tui.ui.i18n import register, tr
from voki_tui.ui.text import clean, format_age
from voki_tui.ui.widgets.live_table import Cell, Column, LiveTable

register(
    "pt-BR",
    {
        "Status": "Status",
        "Agent": "Atendente",
        "In status": "No status",
        "Devices": "Disp.",
        "Call": "Chamada",
        "available": "disponível",
        "in call": "em chamada",
        "away": "ausente",
        "paused": "em pausa",
    },
)

STATUS_GLYPHS = {"available": "✓", "in_call": "☎", "away": "◌", "paused": "‖"}
"""Known statuses have a glyph so the state reads without colour; others show "?"."""

STATUS_WORDS = {"available": "available", "in_call": "in call", "away": "away", "paused": "paused"}
STATUS_STYLES = {"available": "ok", "in_call": "busy", "away": "warn", "paused": "warn"}


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
        Column("Agent", 14, flex=3),
        Column("Devices", 7, align="right"),
        Column("Call", 10, flex=1),
    )

    def row_key(self, row: Agent) -> str:
        return row.user_id

    def row_cells(self, row: Agent, index: int, now: datetime) -> tuple[Cell, ...]:
        in_status = (now - row.since).total_seconds() if row.since is not None else None
        return (
            Cell(format_age(in_status)),
            Cell(status_label(row.status), STATUS_STYLES.get(row.status, "")),
            Cell(clean(row.name)),
            Cell(str(row.devices)),
            Cell(clean(row.call_id) if row.call_id else "—", "" if row.call_id else "dim"),
        )
