"""One department on the wallboard, readable from across the room.

A tile is a slot: the wallboard keeps a fixed set of tiles for the current page and hands each
one a department (or none). It shows, from the figure table (``voki_tui.live.figures``, so the
same text and glyph as every other screen): waiting and longest wait, as big as the tile
allows (:func:`big_layout`: side by side or stacked, one digit scale for both); agents free /
in call / away; the service level against its goal; abandonment. Compact tiles (80x24) show the
same figures as plain lines.

Every part compares before repainting, so a tick repaints only the longest-wait glyphs of tiles
with someone waiting. The frame and the waiting and longest-wait figures show their level held
for ``LEVEL_HOLD`` after it got better: a change of frame repaints the whole tile, so it must
not follow every flip of a queue at its limit.
"""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Container, Vertical

from voki_tui.language import N_
from voki_tui.live import figures
from voki_tui.live.figures import Level, Reading, department_level
from voki_tui.live.state import DepartmentView, SourceState
from voki_tui.ui.i18n import tr
from voki_tui.ui.text import clean
from voki_tui.ui.widgets.big_digits import BigDigits, fit_scale, rows_for
from voki_tui.ui.widgets.figure import Figure
from voki_tui.ui.widgets.levels import LevelHold, level_classes
from voki_tui.ui.widgets.source_notice import FAILED, STALE_GLYPH
from voki_tui.ui.widgets.title_line import TitleLine

WAITING_TEMPLATE = "000"
"""The widest waiting count the big digits are sized for (a wider one shrinks to fit)."""
LONGEST_TEMPLATE = "00:00"
SMALL_LINES = 3  # agents, service level, abandonment
GAP = 2  # columns between the two big figures side by side
SECONDS_SCALE = 2
"""The longest wait's seconds grow no taller than this (five rows): the minutes carry the
figure across the room, and the seconds are what repaints every second: the cells a tick
rewrites grow with the square of the scale."""


def big_layout(width: int, height: int) -> tuple[bool, int]:
    """(stacked, scale) for the big figures in a tile's inner ``width`` x ``height``.

    The lines around them take the name, a label per figure row and ``SMALL_LINES``. Side by
    side needs one label row, stacked two; whichever gives the larger digits wins (side by
    side on a tie). Scale 0: no room for big digits at all.
    """
    spare = height - 1 - SMALL_LINES
    side_w = width - GAP
    side = min(
        fit_scale(WAITING_TEMPLATE + LONGEST_TEMPLATE, side_w, spare - 1),
        fit_scale(LONGEST_TEMPLATE, side_w * 3 // 5, spare - 1),
        fit_scale(WAITING_TEMPLATE, side_w * 2 // 5, spare - 1),
    )
    stacked = fit_scale(LONGEST_TEMPLATE, width, (spare - 2) // 2)
    return (stacked > side, max(stacked, side))


def limit_note(reading: Reading) -> str:
    """``limit 10`` / ``limit 2:00`` beside a big figure's label; nothing without a limit."""
    if reading.limit is None or reading.limit.value is None:
        return ""
    key = "max_queue" if reading.key == "waiting" else "max_wait_s"
    return tr("limit {n}").format(n=figures.format_limit(key, reading.limit.value))


class BigFigure(Vertical):
    """A label (with the level's glyph) over a ``BigDigits`` value."""

    DEFAULT_CSS = """
    BigFigure { width: 1fr; height: 1fr; }
    BigFigure > Figure { height: 1; }
    BigFigure.-warn > BigDigits { color: $warning; }
    BigFigure.-alert > BigDigits { color: $error; }
    """

    def __init__(
        self, label: str, *, seconds_scale: int | None = None, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self.label = label
        self.seconds_scale = seconds_scale
        self.value = ""
        self.level = Level.OK

    def compose(self) -> ComposeResult:
        yield Figure(self.label, inline=True, value="")
        yield BigDigits(self.value, seconds_scale=self.seconds_scale)

    def show(self, value: str, level: Level, note: str = "") -> None:
        """``value`` in big digits; the label line carries the level's glyph (so the level
        reads without colour) and ``note``, the limit the value is judged against."""
        if level != self.level:
            self.level = level
            self.update_classes(level_classes(level))
        self.query_one(Figure).show(note, level)
        if value != self.value:
            self.value = value
            self.query_one(BigDigits).update(value)

    def set_scale(self, scale: int) -> None:
        digits = self.query_one(BigDigits)
        digits.set_scale(scale)
        digits.styles.height = rows_for(scale)


class DepartmentTile(Vertical):
    """A wallboard tile; ``show(view, now)`` assigns a department, ``tick(now)`` ages it."""

    DEFAULT_CSS = """
    DepartmentTile { border: round $primary; height: 1fr; padding: 0 1; }
    DepartmentTile.-warn { border: round $warning; }
    DepartmentTile.-alert { border: heavy $error; }
    DepartmentTile.-empty { visibility: hidden; }
    DepartmentTile > .tile-digits { height: 1fr; layout: horizontal; }
    DepartmentTile > .tile-digits.-stacked { layout: vertical; }
    DepartmentTile > .tile-digits > #tile-waiting { width: 2fr; }
    DepartmentTile > .tile-digits > #tile-longest { width: 3fr; margin-left: 2; }
    DepartmentTile > .tile-digits.-stacked > BigFigure { width: 1fr; margin-left: 0; }
    DepartmentTile > Figure { height: 1; }
    """

    def __init__(self, *, big: bool, id: str | None = None) -> None:
        super().__init__(id=id)
        self.big = big
        self.view: DepartmentView | None = None
        self.level = Level.OK
        """The level the frame shows."""
        self.scale = 1
        self._now: datetime | None = None
        self._composed = False
        self._holds = {name: LevelHold() for name in ("frame", "waiting", "longest_wait_s")}
        self.add_class("-big" if big else "-compact", "-empty")

    def compose(self) -> ComposeResult:
        yield TitleLine(classes="tile-name")
        if self.big:
            with Container(classes="tile-digits"):
                yield BigFigure(N_("Waiting"), id="tile-waiting")
                yield BigFigure(
                    N_("Longest"), seconds_scale=SECONDS_SCALE, id="tile-longest_wait_s"
                )
        else:
            yield Figure(N_("Waiting"), inline=True, id="tile-waiting")
            yield Figure(N_("Longest"), inline=True, id="tile-longest_wait_s")
        yield Figure(N_("Free"), inline=True, id="tile-agents")
        yield Figure(N_("SL"), inline=True, id="tile-sl")
        if self.big:
            yield Figure(N_("Aband."), inline=True, id="tile-abandoned")

    def on_mount(self) -> None:
        """A department handed over before the tile was mounted shows from its first paint."""
        self._composed = True
        if self._now is not None:
            self.show(self.view, self._now)

    def on_resize(self, event: events.Resize) -> None:
        if not self.big:
            return
        inner = self.content_size
        stacked, scale = big_layout(inner.width, inner.height)
        self.scale = max(1, scale)
        self.query_one(".tile-digits").set_class(stacked, "-stacked")
        for figure in self.query(BigFigure):
            figure.set_scale(self.scale)

    def show(self, view: DepartmentView | None, now: datetime) -> None:
        if view is None or self.view is None or view.department.id != self.view.department.id:
            for hold in self._holds.values():  # another department: its own levels
                hold.reset()
        self.view, self._now = view, now
        self.set_class(view is None, "-empty")
        if view is None or not self._composed:
            return
        self.set_class(view.queue.state is SourceState.STALE, "-source-stale")
        self.tick(now)

    def tick(self, now: datetime) -> None:
        """Age the longest wait, and let held levels fall once they have been better long."""
        view = self.view
        if view is None:
            return
        read = figures.readings(view, now)
        for key in ("waiting", "longest_wait_s"):
            reading = read[key]
            level = self._holds[key].update(reading.level, now)
            if self.big:
                self.query_one(f"#tile-{key}", BigFigure).show(
                    reading.text, level, limit_note(reading)
                )
            else:
                self._show(f"#tile-{key}", reading.display, level)
        level = self._holds["frame"].update(department_level(view, now), now)
        self._title(view, level)
        if level != self.level:
            self.level = level
            self.update_classes(level_classes(level))
        self._show("#tile-agents", self._agents(read), read["agents_available"].level)
        self._show("#tile-sl", self._service_level(read), read["service_level"].level)
        if self.big:
            self._show("#tile-abandoned", read["abandonment_rate"].display, Level.OK)

    def _title(self, view: DepartmentView, level: Level) -> None:
        name = Text(f"{level.glyph} " if level is not Level.OK else "")
        name.append(clean(view.department.name, 60))
        if view.queue.state is SourceState.STALE:
            name.append(f" {STALE_GLYPH} " + tr("stale"))
        elif view.queue.state in FAILED:
            name.append(f" {STALE_GLYPH} " + tr("no access"))
        self.query_one(TitleLine).show(name)

    def _agents(self, read: dict[str, Reading]) -> str:
        """``1/3 · In call 1 · Away 1``."""
        free = read["agents_available"].display
        return (
            f"{free} · "
            + tr("In call")
            + f" {read['agents_in_call'].text} · "
            + tr("Away")
            + f" {read['agents_away'].text}"
        )

    def _service_level(self, read: dict[str, Reading]) -> str:
        """``75% 9/12 · goal 80%`` (compact: ``75% · goal 80% · Aband. 14%``)."""
        sl = read["service_level"]
        target = sl.limit.value if sl.limit is not None else None
        goal = tr("goal {goal}").format(goal=figures.format_percent(target))
        if self.big:
            return f"{sl.display} · {goal}"
        return f"{sl.text} · {goal} · " + tr("Aband.") + f" {read['abandonment_rate'].text}"

    def _show(self, selector: str, value: str, level: Level) -> None:
        widget = self.query_one(selector)
        if isinstance(widget, (Figure, BigFigure)):
            widget.show(value, level)
