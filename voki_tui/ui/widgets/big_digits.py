"""Three-row digits whose update repaints only the glyph columns that changed, never the layout.

Textual's ``Digits`` repaints its whole width on every update and asks for a layout pass when
the text changes width ("9" -> "10"), even in a fixed-size box. On a wallboard at 100 events/s
the figures change many times a second, so ``BigDigits`` keeps a fixed size (set by the
stylesheet) and marks dirty only the columns between the first and the last glyph that differ:
"3:05" -> "3:06" repaints one glyph, three cells wide.
"""

from __future__ import annotations

from rich.align import Align
from textual.app import RenderResult
from textual.geometry import Region
from textual.renderables.digits import Digits as DigitsRenderable
from textual.widget import Widget

from voki_tui.ui.widgets.spans import changed_span

ROWS = 3


def glyph_width(character: str) -> int:
    """Columns one character takes in big digits: 3 for a glyph, 1 for anything else."""
    return DigitsRenderable.get_width(character)


class BigDigits(Widget):
    """Like ``textual.widgets.Digits`` (left-aligned), but its size never follows its text."""

    DEFAULT_CSS = """
    BigDigits { width: 1fr; height: 3; }
    """

    def __init__(self, value: str = "", *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.value = value

    def update(self, value: str) -> None:
        """Show ``value``; repaint only the columns whose glyphs changed."""
        span = changed_span(self.value, value, glyph_width)
        if span is None:
            return
        self.value = value
        self.refresh(Region(span.start, 0, span.end - span.start, ROWS))

    def render(self) -> RenderResult:
        style = self.rich_style
        return Align(DigitsRenderable(self.value, style), "left", style)
