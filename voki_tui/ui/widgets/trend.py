"""Waiting over the last hour as a sparkline, repainted only when the history changes.

``Sparkline`` repaints its full width on every assignment (1.5-3 KB, textual-notes §2.5), and
the history gains a point once a minute, so the widget compares before assigning.
"""

from __future__ import annotations

from datetime import datetime

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Sparkline

from voki_tui.ui.i18n import register
from voki_tui.ui.widgets.figure import Figure

register("pt-BR", {"Last hour": "Última hora"})


class WaitingTrend(Horizontal):
    """A "Last hour: max N" figure beside a sparkline of waiting per minute."""

    DEFAULT_CSS = """
    WaitingTrend { height: 2; }
    WaitingTrend > Figure { width: 14; }
    WaitingTrend > Sparkline { width: 1fr; height: 2; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._history: tuple[tuple[datetime, int], ...] | None = None
        self.updates = 0

    def compose(self) -> ComposeResult:
        yield Figure("Last hour", id="trend-figure")
        yield Sparkline([], id="trend-sparkline")

    def show(self, history: tuple[tuple[datetime, int], ...]) -> None:
        if history == self._history:
            return
        self._history = history
        self.updates += 1
        values = [float(count) for _, count in history]
        self.query_one(Sparkline).data = values
        peak = max((count for _, count in history), default=None)
        self.query_one(Figure).show("—" if peak is None else f"max {peak}")
