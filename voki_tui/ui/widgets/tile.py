"""One department on the wallboard: waiting, longest wait, agents available, service level.

A tile is a slot: the wallboard keeps a fixed set of tiles for the current page and hands each
one a department (or none). Every part compares before repainting, so a tick repaints only the
longest-wait figure of tiles with someone waiting. ``big`` tiles show waiting and longest wait
in ``BigDigits`` (only the changed glyphs repaint); compact ones (80x24) show plain one-line
figures. The frame and the waiting and longest-wait figures show their level held for
``LEVEL_HOLD`` after it got better: a change of frame repaints the whole tile (of a figure's
colour, the whole figure), so they must not follow every flip of a queue at its limit.
"""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical

from voki_tui.live.state import DepartmentView, SourceState
from voki_tui.ui.i18n import register, tr
from voki_tui.ui.text import clean, format_age, format_percent
from voki_tui.ui.widgets.big_digits import BigDigits
from voki_tui.ui.widgets.figure import Figure
from voki_tui.ui.widgets.levels import (
    Level,
    LevelHold,
    department_level,
    level_classes,
    longest_wait_s,
    size_level,
    wait_level,
)
from voki_tui.ui.widgets.source_notice import FAILED, STALE_GLYPH
from voki_tui.ui.widgets.title_line import TitleLine

register(
    "pt-BR",
    {
        "Waiting": "Aguardando",
        "Longest": "Maior espera",
        "Agents free": "Livres",
        "SL": "NS",
        "no access": "sem acesso",
    },
)


class BigFigure(Vertical):
    """A label over a ``BigDigits`` value, which repaints only the glyphs that changed."""

    DEFAULT_CSS = """
    BigFigure { width: 1fr; height: 4; }
    BigFigure > Figure { height: 1; }
    BigFigure.-warn > BigDigits { color: $warning; }
    BigFigure.-alert > BigDigits { color: $error; }
    """

    def __init__(self, label: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.label = label
        self.value = ""
        self.level = Level.OK

    def compose(self) -> ComposeResult:
        yield Figure(self.label, inline=True, value="")
        yield BigDigits("")

    def show(self, value: str, level: Level) -> None:
        if level != self.level:
            self.level = level
            self.update_classes(level_classes(level))
            # the glyph sits in the label line, so the level reads without colour
            self.query_one(Figure).show("", level)
        if value != self.value:
            self.value = value
            self.query_one(BigDigits).update(value)


class DepartmentTile(Vertical):
    """A wallboard tile; ``show(view, now)`` assigns a department, ``tick(now)`` ages it."""

    DEFAULT_CSS = """
    DepartmentTile { border: round $primary; height: 1fr; padding: 0 1; }
    DepartmentTile.-warn { border: round $warning; }
    DepartmentTile.-alert { border: heavy $error; }
    DepartmentTile.-empty { visibility: hidden; }
    DepartmentTile.-big { align: left middle; }
    DepartmentTile > Horizontal { height: auto; }
    """

    def __init__(self, *, big: bool, id: str | None = None) -> None:
        super().__init__(id=id)
        self.big = big
        self.view: DepartmentView | None = None
        self.level = Level.OK
        """The level the frame shows."""
        self._holds = {name: LevelHold() for name in ("frame", "#tile-waiting", "#tile-longest")}
        self.add_class("-big" if big else "-compact", "-empty")

    def compose(self) -> ComposeResult:
        yield TitleLine(classes="tile-name")
        if self.big:
            with Horizontal(classes="tile-digits"):
                yield BigFigure("Waiting", id="tile-waiting")
                yield BigFigure("Longest", id="tile-longest")
            with Horizontal(classes="tile-small"):
                yield Figure("Agents free", inline=True, id="tile-agents")
                yield Figure("SL", inline=True, id="tile-sl")
        else:
            yield Figure("Waiting", inline=True, id="tile-waiting")
            yield Figure("Longest", inline=True, id="tile-longest")
            yield Figure("Agents free", inline=True, id="tile-agents")
            yield Figure("SL", inline=True, id="tile-sl")

    def show(self, view: DepartmentView | None, now: datetime) -> None:
        if view is None or self.view is None or view.department.id != self.view.department.id:
            for hold in self._holds.values():  # another department: its own levels
                hold.reset()
        self.view = view
        self.set_class(view is None, "-empty")
        if view is None:
            return
        self.set_class(view.queue.state is SourceState.STALE, "-source-stale")
        name = Text(clean(view.department.name, 60))
        if view.queue.state is SourceState.STALE:
            name.append(f" {STALE_GLYPH} {tr('stale')}")
        elif view.queue.state in FAILED:
            name.append(f" {STALE_GLYPH} {tr('no access')}")
        self.query_one(TitleLine).show(name)
        metrics = view.metrics
        agents = "—" if metrics is None else str(metrics.agents_available)
        self._show("#tile-agents", agents, Level.OK)
        if metrics is None:
            sl = "—"
        else:
            total = metrics.answered + metrics.abandoned_after_threshold
            sl = f"{format_percent(metrics.service_level)} {metrics.answered_within}/{total}"
        self._show("#tile-sl", sl, Level.OK)
        self.tick(now)

    def tick(self, now: datetime) -> None:
        """Age the longest wait, and let held levels fall once they have been better long."""
        view = self.view
        if view is None:
            return
        dep = view.department
        waiting = len(view.waiting)
        limit = "" if self.big or not dep.max_queue_size else f"/{dep.max_queue_size}"
        if view.metrics is None:  # not read yet, or refused: no figure, not a zero
            self._show("#tile-waiting", "-" if self.big else "—", Level.OK)
        else:
            size = self._holds["#tile-waiting"].update(size_level(waiting, dep.max_queue_size), now)
            self._show("#tile-waiting", f"{waiting}{limit}", size)
        longest = longest_wait_s(view, now)
        value = format_age(longest) if longest is not None else ("-" if self.big else "—")
        wait = self._holds["#tile-longest"].update(wait_level(longest, dep.max_wait_time), now)
        self._show("#tile-longest", value, wait)
        level = self._holds["frame"].update(department_level(view, now), now)
        if level != self.level:
            self.level = level
            self.update_classes(level_classes(level))

    def _show(self, selector: str, value: str, level: Level) -> None:
        widget = self.query_one(selector)
        if isinstance(widget, (Figure, BigFigure)):
            widget.show(value, level)
