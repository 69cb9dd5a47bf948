"""``t`` in a replay: jump to a time of the recording, typed as the board shows times.

``10:15``, ``10:15:30`` (the local time of day, on the recording's day) or an ISO date and time;
what cannot be a moment of the recording is said under the field, and the replay stays where
it is until ``enter`` gives one that can (``escape`` closes it).
"""

from __future__ import annotations

from datetime import datetime

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Static

from voki_tui.ports import ReplayControl
from voki_tui.ui.bindings import LocalisedModal
from voki_tui.ui.i18n import tr


class JumpScreen(LocalisedModal[datetime | None]):
    """Asks for a time; dismisses with the moment, or None on escape."""

    DEFAULT_CSS = """
    JumpScreen { align: center middle; }
    JumpScreen > #jump-box {
        width: 50;
        max-width: 100%;
        height: auto;
        border: round $accent;
        background: $surface;
        padding: 0 1;
    }
    JumpScreen #jump-error { color: $error; height: auto; }
    JumpScreen #jump-keys { color: $text-muted; }
    """
    BINDINGS = [Binding("escape", "close", "Close", show=False)]

    def __init__(self, control: ReplayControl, shown: str) -> None:
        super().__init__()
        self.control = control
        self.shown = shown  # the time shown now, to edit

    def compose(self) -> ComposeResult:
        with Vertical(id="jump-box") as box:
            box.border_title = tr("Jump to a time")
            yield Input(self.shown, placeholder="10:15:00", id="jump-time")
            yield Static("", id="jump-error", markup=False)
            yield Static(tr("enter: go · escape: close"), id="jump-keys", markup=False)

    @on(Input.Submitted)
    def _go(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            moment = self.control.moment(event.value)
        except ValueError as exc:
            self.query_one("#jump-error", Static).update(str(exc))
            return
        self.dismiss(moment)

    def action_close(self) -> None:
        self.dismiss(None)
