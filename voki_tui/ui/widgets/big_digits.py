"""Three-row digits whose update repaints only the glyph columns that changed, never the layout.

Textual's ``Digits`` repaints its whole width on every update and asks for a layout pass when
the text changes width ("9" -> "10"), even in a fixed-size box. On a wallboard at 100 events/s
the figures change many times a second, so ``BigDigits`` keeps a fixed size (set by the
stylesheet) and marks dirty only the columns between the first and the last glyph that differ:
"3:05" -> "3:06" repaints one glyph, three cells wide.
"""

from __future__ import annotations

from typing import NamedTuple

from rich.align import Align
from textual.app import RenderResult
from textual.geometry import Region
from textual.renderables.digits import Digits as DigitsRenderable
from textual.widget import Widget

ROWS = 3


class ColumnSpan(NamedTuple):
    """Columns ``start`` (inclusive) to ``end`` (exclusive) of left-aligned glyphs."""

    start: int
    end: int


def glyph_columns(text: str) -> list[int]:
    """The starting column of each character of ``text``, plus the total width at the end."""
    columns = [0]
    for character in text:
        columns.append(columns[-1] + DigitsRenderable.get_width(character))
    return columns


def changed_span(old: str, new: str) -> ColumnSpan | None:
    """The columns that differ between ``old`` and ``new`` drawn left-aligned; None if equal.

    Characters before the first difference sit in the same columns in both. After it, a
    common tail keeps its columns only when both texts are equally wide; otherwise everything
    to the end of the wider one moved (or appeared, or must be blanked).
    """
    if old == new:
        return None
    prefix = 0
    while prefix < min(len(old), len(new)) and old[prefix] == new[prefix]:
        prefix += 1
    old_columns, new_columns = glyph_columns(old), glyph_columns(new)
    start = old_columns[prefix]
    end = max(old_columns[-1], new_columns[-1])
    if old_columns[-1] == new_columns[-1]:
        suffix = 0
        while suffix < min(len(old), len(new)) - prefix and old[-1 - suffix] == new[-1 - suffix]:
            suffix += 1
        end = new_columns[len(new) - suffix]
    return ColumnSpan(start, end)


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
        span = changed_span(self.value, value)
        if span is None:
            return
        self.value = value
        self.refresh(Region(span.start, 0, span.end - span.start, ROWS))

    def render(self) -> RenderResult:
        style = self.rich_style
        return Align(DigitsRenderable(self.value, style), "left", style)
