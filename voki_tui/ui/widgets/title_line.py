"""A one-line heading built from safe pieces; repainted only where its text changes."""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual.app import RenderResult
from textual.geometry import Region
from textual.widget import Widget

from voki_tui.ui.widgets.spans import changed_span


class TitleLine(Widget):
    """Shows a ``rich.text.Text`` (never markup); ``show`` ignores an identical text."""

    DEFAULT_CSS = """
    TitleLine { height: 1; width: 1fr; text-style: bold; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.text = Text()

    def show(self, text: Text) -> None:
        """Show ``text``; when only its characters changed (same styles), repaint only the
        columns that differ: a wallboard heading's total going from 4 to 5 is one cell."""
        if text == self.text:
            return
        old, self.text = self.text, text
        span = changed_span(old.plain, text.plain, cell_len)
        if span is None or old.spans != text.spans or cell_len(text.plain) > self.size.width:
            self.refresh()
            return
        self.refresh(Region(span.start, 0, span.end - span.start, 1))

    def render(self) -> RenderResult:
        shown = self.text.copy()
        shown.no_wrap = True
        shown.overflow = "ellipsis"
        return shown
