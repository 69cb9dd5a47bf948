"""How the app hands live data to its screens.

The app owns the latest ``FeedSnapshot`` and the clock. A screen that shows live data derives
from ``LiveScreen``: the app calls ``show_snapshot`` when a new snapshot arrives (coalesced: at
most one call per repaint) and ``tick`` once a second so ages can move. Screens render from these
two calls and from what they were made with (``navigation`` makes them); they never talk to the
network (the agents' screen states the names it misses to the ``Lookups`` it was given, and
the app runs the lookups). Intents go up as messages to the app.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from textual import on
from textual.binding import Binding
from textual.widgets import Input

from voki_tui.live.state import FeedSnapshot
from voki_tui.ui.bindings import LocalisedKeys
from voki_tui.ui.messages import GoBack
from voki_tui.ui.widgets.filter_bar import FilterBar
from voki_tui.ui.widgets.live_table import LiveTable

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


class LiveScreen(LocalisedKeys[None]):
    """A screen that renders ``FeedSnapshot``s and ticks with the clock.

    The desk keys every list shares live here: ``/`` opens the screen's ``FilterBar`` (if it
    has one) and filters its ``LiveTable`` as you type; ``escape`` clears a filter, else goes
    back to the department list.
    """

    BINDINGS = [
        # Here as well as on the app: the footer lists the focused widget's keys, then the
        # screen's, then the app's, and at 80 columns the app's are cut off; help must stay.
        Binding("question_mark", "app.help", "Help"),
        Binding("slash", "filter", "Filter"),
        Binding("escape", "back", "Back", show=False),
    ]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "filter":
            return bool(self.query(FilterBar))
        return True

    def _list(self) -> LiveTable[object] | None:
        return next(iter(self.query(LiveTable).results()), None)

    def action_filter(self) -> None:
        bar = next(iter(self.query(FilterBar).results()), None)
        if bar is not None:
            bar.open()

    def action_back(self) -> None:
        bar = next(iter(self.query(FilterBar).results()), None)
        table = self._list()
        if bar is not None and (bar.has_focus or bar.value):
            bar.close()
            if table is not None:
                table.set_filter("")
                table.focus()
            return
        self.app.post_message(GoBack())

    @on(Input.Changed)
    def _filter_changed(self, event: Input.Changed) -> None:
        table = self._list()
        if isinstance(event.input, FilterBar) and table is not None:
            table.set_filter(event.value)

    @on(Input.Submitted)
    def _filter_done(self, event: Input.Submitted) -> None:
        table = self._list()
        if isinstance(event.input, FilterBar) and table is not None:
            table.focus()

    def highlighted_department(self) -> str | None:
        """The department a key such as ``u`` or ``p`` opens from here, when this screen points
        at one (the department list: the row under the cursor)."""
        return None

    def show_snapshot(self, snapshot: FeedSnapshot) -> None:
        """Render ``snapshot``. Called on the active screen and on a screen as it is shown."""

    def tick(self, now: datetime) -> None:
        """Move whatever shows an age to ``now``; repaint nothing else."""
