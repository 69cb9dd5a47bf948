"""Waiting over the last hour as a two-row bar chart, repainted only when the history changes.

Textual's ``Sparkline`` was wrong for this: it scales from the series' minimum to its maximum
(so a flat queue of 1 drew two rows of full blocks, and 2 beside 5 drew the lowest bar) and it
stretches however many points exist over the full width (one minute of data looked like an
hour). ``HourChart`` instead has a fixed time axis — the last 60 minutes, now at the right,
minutes before the client started left blank — and a fixed scale from zero to the department's
``max_queue_size`` (or the peak, if larger or unknown), so a bar's height means the same thing
on every screen. A minute with nobody waiting is a dim dot on the baseline, distinct from a
minute with no data. Beside it, the scale says what it is: "peak 3 of limit 10", "peak 11 over
limit 10" (the bars then top out at the peak), "peak 3, no limit".
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from voki_tui.language import N_
from voki_tui.live.figures import Level, queue_level
from voki_tui.ui.i18n import tr
from voki_tui.ui.widgets.figure import Figure


def scale_note(peak: int, limit: float | None) -> str:
    """What the bars are measured against: the queue limit, or the peak when there is none
    or the peak went over it (then the bars top out at the peak and say so)."""
    if limit is None:
        return tr("peak {peak}, no limit").format(peak=peak)
    if peak > limit:
        return tr("peak {peak} over limit {limit}").format(peak=peak, limit=int(limit))
    return tr("peak {peak} of limit {limit}").format(peak=peak, limit=int(limit))


MINUTES = 60
ROWS = 2
EIGHTHS = " ▁▂▃▄▅▆▇█"

Points = Sequence[tuple[datetime, int]]
Bar = tuple[tuple[str, ...], Level | None]
"""One chart column: its characters, top row first, and its level (None: a zero minute)."""


def buckets(history: Points, width: int, minutes: int = MINUTES) -> list[int | None]:
    """The value of each of ``width`` columns covering the last ``minutes`` (None: no data).

    The last point's minute is "now" and sits in the right-most column. When the chart is wider
    than the hour each minute gets ``width // minutes`` columns (right-aligned, blank padding
    on the left); when narrower, each column shows the peak of the minutes it covers.
    """
    if width <= 0:
        return []
    if not history:
        return [None] * width
    end = history[-1][0].replace(second=0, microsecond=0)
    by_minute: dict[int, int] = {}
    for moment, value in history:
        age = int((end - moment.replace(second=0, microsecond=0)) / timedelta(minutes=1))
        if 0 <= age < minutes:
            slot = minutes - 1 - age
            by_minute[slot] = max(value, by_minute.get(slot, value))
    if width >= minutes:
        per = width // minutes
        columns: list[int | None] = [None] * (width - per * minutes)
        for slot in range(minutes):
            columns.extend([by_minute.get(slot)] * per)
        return columns
    span = -(-minutes // width)  # minutes per column, rounded up
    count = -(-minutes // span)
    columns = [None] * (width - count)
    for column in range(count):
        first = minutes - (count - column) * span
        seen = [by_minute[s] for s in range(max(0, first), first + span) if s in by_minute]
        columns.append(max(seen) if seen else None)
    return columns


def scale_top(history: Points, max_queue_size: float | None) -> int:
    """The value drawn as a full bar: the queue limit, or the peak when larger or no limit."""
    peak = max((value for _, value in history), default=0)
    return max(1, peak, int(max_queue_size or 0))


def bar_cells(value: int | None, top: int, rows: int = ROWS) -> list[str]:
    """The characters of one column, top row first (``value`` 0 is a baseline dot)."""
    if value is None:
        return [" "] * rows
    if value <= 0:
        return [" "] * (rows - 1) + ["·"]
    eighths = max(1, round(min(value, top) / top * rows * 8))
    cells = []
    for row in range(rows - 1, -1, -1):  # top row first
        filled = min(8, max(0, eighths - row * 8))
        cells.append(EIGHTHS[filled])
    return cells


class HourChart(Widget):
    """The bars of :func:`buckets`; two rows high, fixed scale, drawn with the Line API."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "hour-chart--bar",
        "hour-chart--warn",
        "hour-chart--alert",
        "hour-chart--zero",
    }
    DEFAULT_CSS = """
    HourChart { height: 2; width: 1fr; }
    HourChart > .hour-chart--bar { color: $primary; }
    HourChart > .hour-chart--warn { color: $warning; }
    HourChart > .hour-chart--alert { color: $error; }
    HourChart > .hour-chart--zero { color: $text-muted; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.history: tuple[tuple[datetime, int], ...] = ()
        self.max_queue_size: float | None = None
        self._columns: tuple[int, list[Bar]] = (-1, [])

    def show(self, history: tuple[tuple[datetime, int], ...], max_queue_size: float | None) -> None:
        """Draw ``history``; repaint only the columns whose bar changed.

        Within a minute only the right-most bar moves; when the minute turns every bar shifts
        left and the whole chart is redrawn.
        """
        width = self.size.width
        old = self._bars(width)
        self.history = history
        self.max_queue_size = max_queue_size
        self._columns = (-1, [])
        new = self._bars(width)
        changed = [x for x, (a, b) in enumerate(zip(old, new, strict=True)) if a != b]
        if changed:
            self.refresh(Region(changed[0], 0, changed[-1] - changed[0] + 1, ROWS))

    def _bars(self, width: int) -> list[Bar]:
        """Each column's characters (top first) and level, computed once per data and width."""
        if self._columns[0] != width:
            top = scale_top(self.history, self.max_queue_size)
            bars = [
                (
                    tuple(bar_cells(value, top)),
                    None if value == 0 else queue_level(value, self.max_queue_size),
                )
                for value in buckets(self.history, width)
            ]
            self._columns = (width, bars)
        return self._columns[1]

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        styles = {
            Level.OK: self.get_component_rich_style("hour-chart--bar", partial=True),
            Level.WARN: self.get_component_rich_style("hour-chart--warn", partial=True),
            Level.ALERT: self.get_component_rich_style("hour-chart--alert", partial=True),
            None: self.get_component_rich_style("hour-chart--zero", partial=True),
        }
        segments: list[Segment] = []
        run_text, run_style = "", Style()
        for cells, level in self._bars(width):
            char = cells[y] if y < ROWS else " "
            style = styles[level]
            if style != run_style and run_text:
                segments.append(Segment(run_text, run_style))
                run_text = ""
            run_text, run_style = run_text + char, style
        if run_text:
            segments.append(Segment(run_text, run_style))
        return Strip(segments, width).apply_style(self.rich_style)


class WaitingTrend(Horizontal):
    """A "Last hour · max N of M" figure beside the hour chart of waiting per minute."""

    DEFAULT_CSS = """
    WaitingTrend { height: 2; }
    WaitingTrend > Figure { width: 26; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._shown: tuple[tuple[tuple[datetime, int], ...], float | None] | None = None
        self.updates = 0

    def compose(self) -> ComposeResult:
        yield Figure(N_("Last hour"), id="trend-figure")
        yield HourChart(id="trend-chart")

    def show(self, history: tuple[tuple[datetime, int], ...], max_queue_size: float | None) -> None:
        if (history, max_queue_size) == self._shown:
            return
        self._shown = (history, max_queue_size)
        self.updates += 1
        self.query_one(HourChart).show(history, max_queue_size)
        if not history:
            self.query_one(Figure).show("—")
            return
        peak = max(count for _, count in history)
        self.query_one(Figure).show(scale_note(peak, max_queue_size))
