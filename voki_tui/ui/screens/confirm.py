"""A yes/no question before anything that cannot be undone from the keyboard (logging out).

One stray key must not log a wall monitor out: ``l`` asks first, ``y`` confirms, and anything
that means "no" (``n``, ``escape``) closes the question with nothing done.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Static

from voki_tui.ui.bindings import LocalisedModal
from voki_tui.ui.i18n import tr


class ConfirmScreen(LocalisedModal[bool]):
    """Asks ``question``; dismisses with True only on ``y``."""

    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > #confirm-box {
        width: 60;
        max-width: 100%;
        height: auto;
        border: round $warning;
        background: $surface;
        padding: 0 1;
    }
    ConfirmScreen #confirm-keys { margin-top: 1; color: $text-muted; }
    """
    BINDINGS = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n", "answer(False)", "No"),
        Binding("escape", "answer(False)", "No", show=False),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Static(self.question, markup=False)
            yield Static(tr("y: yes · n or escape: no"), id="confirm-keys", markup=False)

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
