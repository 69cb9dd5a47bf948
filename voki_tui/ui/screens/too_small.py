"""Shown instead of a squashed layout when the terminal is below 80x24."""

from __future__ import annotations

import textwrap
from datetime import datetime

from textual.app import ComposeResult
from textual.widgets import Static

from voki_tui.live.state import FeedSnapshot
from voki_tui.ui.contract import LiveScreen
from voki_tui.ui.i18n import tr

MIN_WIDTH = 80
MIN_HEIGHT = 24


def fits(width: int, height: int) -> bool:
    return width >= MIN_WIDTH and height >= MIN_HEIGHT


def too_small_lines(width: int, height: int) -> list[str]:
    """The notice, wrapped between words to ``width`` (a word longer than that is the only
    thing ever broken), so a narrow terminal never shows half a word."""
    sentences = (
        "⚠ " + tr("Terminal too small"),
        tr("{w}x{h} now, {min_w}x{min_h} needed.").format(
            w=width, h=height, min_w=MIN_WIDTH, min_h=MIN_HEIGHT
        ),
        tr("Enlarge the window or reduce the font size."),
    )
    room = max(1, width)
    return [line for sentence in sentences for line in textwrap.wrap(sentence, room) or [""]]


class TooSmallScreen(LiveScreen):
    """A notice that says what size is needed; the app removes it once the terminal grows."""

    DEFAULT_CSS = """
    TooSmallScreen { align: center middle; }
    TooSmallScreen > Static { width: auto; height: auto; text-align: center; }
    """

    def compose(self) -> ComposeResult:
        yield Static("", markup=False)

    def on_mount(self) -> None:
        self.show_size(self.app.size.width, self.app.size.height)

    def show_size(self, width: int, height: int) -> None:
        self.query_one(Static).update("\n".join(too_small_lines(width, height)))

    def show_snapshot(self, snapshot: FeedSnapshot) -> None:
        """Nothing to render: the notice hides the data until the terminal is big enough."""

    def tick(self, now: datetime) -> None:
        """No ages shown here."""
