"""A one-line heading built from safe pieces; repainted only when its text changes."""

from __future__ import annotations

from rich.text import Text
from textual.app import RenderResult
from textual.widget import Widget


class TitleLine(Widget):
    """Shows a ``rich.text.Text`` (never markup); ``show`` ignores an identical text."""

    DEFAULT_CSS = """
    TitleLine { height: 1; width: 1fr; text-style: bold; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.text = Text()

    def show(self, text: Text) -> None:
        if text == self.text:
            return
        self.text = text
        self.refresh()

    def render(self) -> RenderResult:
        shown = self.text.copy()
        shown.no_wrap = True
        shown.overflow = "ellipsis"
        return shown
