"""How the app hands live data to its screens.

The app owns the latest ``FeedSnapshot`` and the clock. A screen that shows live data derives
from ``LiveScreen``: the app calls ``show_snapshot`` when a new snapshot arrives (coalesced: at
most one call per repaint) and ``tick`` once a second so ages can move. Screens render from these
two calls only; they never talk to the network. Intents go up as messages to the app.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from textual.screen import Screen

from voki_tui.live.state import FeedSnapshot
from voki_tui.ui.bindings import translate_bindings

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


class LiveScreen(Screen[None]):
    """A screen that renders ``FeedSnapshot``s and ticks with the clock."""

    def __init__(self) -> None:
        super().__init__()
        translate_bindings(self)  # the footer speaks the language chosen before this screen

    def show_snapshot(self, snapshot: FeedSnapshot) -> None:
        """Render ``snapshot``. Called on the active screen and on a screen as it is shown."""

    def tick(self, now: datetime) -> None:
        """Move whatever shows an age to ``now``; repaint nothing else."""
