"""Messages between the feed worker, the screens and the app.

``SnapshotArrived`` replaces any older one still queued (``can_replace``), so a burst of feed
events becomes a single repaint. Screens express intents (open a department, the wallboard) as
messages that bubble up to the app, which owns navigation; screens never switch each other.
"""

from __future__ import annotations

from textual.message import Message

from voki_tui.live.state import FeedSnapshot, Notification, UserInfo


class SnapshotArrived(Message):
    """The feed published a new state of the world."""

    def __init__(self, snapshot: FeedSnapshot) -> None:
        super().__init__()
        self.snapshot = snapshot

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, SnapshotArrived)


class FeedFailed(Message):
    """The live feed failed unexpectedly; the app starts it again in ``retry_in_s``."""

    def __init__(self, detail: str, retry_in_s: float) -> None:
        super().__init__()
        self.detail = detail
        self.retry_in_s = retry_in_s


class NotificationArrived(Message):
    """A notification from ``notification:{user_id}``, to show as a toast."""

    def __init__(self, notification: Notification) -> None:
        super().__init__()
        self.notification = notification


class OpenQueue(Message):
    """Show the queue of one department."""

    def __init__(self, department_id: str) -> None:
        super().__init__()
        self.department_id = department_id


class OpenPresence(Message):
    """Show the agents of one department."""

    def __init__(self, department_id: str) -> None:
        super().__init__()
        self.department_id = department_id


class OpenWallboard(Message):
    """Show the wallboard of ``department_ids`` (empty: every watched department)."""

    def __init__(self, department_ids: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.department_ids = department_ids


class LoggedIn(Message):
    """The login screen (or a restored session) produced a user."""

    def __init__(self, user: UserInfo) -> None:
        super().__init__()
        self.user = user


class LoginWanted(Message):
    """A person wants the login form (from the connecting screen, or a session that ended)."""


class GoBack(Message):
    """``escape`` on a board with nothing to close: back to the department list."""
