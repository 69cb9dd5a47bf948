"""The ``/`` filter of a list: one line, shown while it is in use.

Every list screen (departments, queue, presence) composes one ``FilterBar`` above its
``LiveTable``; ``/`` opens it, typing filters the table as you type, ``enter`` goes back to
the table keeping the filter, ``escape`` clears it (see ``LiveScreen.action_back``). The text
typed is the user's own and only ever compared, never shown as markup.
"""

from __future__ import annotations

from textual.widgets import Input

from voki_tui.ui.i18n import tr


class FilterBar(Input):
    """An ``Input`` hidden while empty and unfocused."""

    DEFAULT_CSS = """
    FilterBar { height: 1; border: none; padding: 0 1; background: $boost; display: none; }
    FilterBar.-open { display: block; }
    FilterBar:focus { border: none; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(placeholder=tr("Filter (/); escape clears"), id=id)
        self.cursor_blink = False  # a blinking cursor repaints twice a second, forever

    def open(self) -> None:
        self.add_class("-open")
        self.focus()

    def close(self) -> None:
        """Clear the filter and hide the bar."""
        self.value = ""
        self.remove_class("-open")

    def on_blur(self) -> None:
        if not self.value:
            self.remove_class("-open")
