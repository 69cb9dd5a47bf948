"""One labelled figure ("Waiting 4/10") that repaints only when its text or level changes.

A wall display ticks every second, and most figures do not change between ticks; ``Static``
would still re-render and re-layout on every ``update``. ``Figure`` compares first and then
refreshes only the columns of its value line that changed, never the layout (its size is fixed
by the stylesheet).
"""

from __future__ import annotations

from typing import ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual.app import RenderResult
from textual.geometry import Region
from textual.widget import Widget

from voki_tui.live.figures import Level
from voki_tui.ui.i18n import tr
from voki_tui.ui.widgets.levels import level_classes
from voki_tui.ui.widgets.spans import changed_span


class Figure(Widget):
    """A label and a value, stacked (two lines) or inline (one line, ``inline=True``)."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"figure--label", "figure--value"}
    DEFAULT_CSS = """
    Figure { height: 2; width: 1fr; }
    Figure.-inline { height: 1; }
    Figure > .figure--label { color: $text-muted; }
    Figure > .figure--value { text-style: bold; }
    Figure.-warn > .figure--value { color: $text-warning; }
    Figure.-alert > .figure--value { color: $text-error; }
    """

    def __init__(
        self,
        label: str,
        *,
        inline: bool = False,
        value: str = "—",
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.label = label
        self.inline = inline
        self.value = value
        self.level = Level.OK
        self.updates = 0
        """How many times the value actually changed (a cheap repaint counter for tests)."""
        self.set_class(inline, "-inline")

    def show(self, value: str, level: Level = Level.OK) -> None:
        """Display ``value`` (already safe text) at ``level``; nothing happens if unchanged."""
        if value == self.value and level == self.level:
            return
        self.updates += 1
        if level != self.level:  # new colours and glyph: the whole figure
            self.value, self.level = value, level
            self.update_classes(level_classes(level))
            self.refresh()
            return
        old = self._value_line()
        self.value = value
        new = self._value_line()
        span = changed_span(old, new, cell_len)
        if span is None or max(cell_len(old), cell_len(new)) > self.size.width:
            self.refresh()  # truncated with an ellipsis (or not laid out yet): all of it
            return
        self.refresh(Region(span.start, 0 if self.inline else 1, span.end - span.start, 1))

    def _value_line(self) -> str:
        """The plain text of the line that shows the value, as ``render`` draws it."""
        glyph = f"{self.level.glyph} " if self.level is not Level.OK else ""
        return f"{tr(self.label)} {glyph}{self.value}" if self.inline else glyph + self.value

    def render(self) -> RenderResult:
        width = max(1, self.size.width)
        label = Text(tr(self.label), style=self.get_component_rich_style("figure--label"))
        glyph = f"{self.level.glyph} " if self.level is not Level.OK else ""
        value = Text(glyph + self.value, style=self.get_component_rich_style("figure--value"))
        if self.inline:
            line = Text.assemble(label, " ", value)
            line.truncate(width, overflow="ellipsis")
            return line
        label.truncate(width, overflow="ellipsis")
        value.truncate(width, overflow="ellipsis")
        return Text.assemble(label, "\n", value)
