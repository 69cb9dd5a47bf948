"""How levels look (CSS classes, held on the wall) and the "new arrival" rule.

The levels themselves, their glyphs and every threshold rule live in the figure table
(``voki_tui.live.figures``); this module only says how a level is styled and how long the
wallboard keeps one after it got better.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from voki_tui.live.figures import Level

NEW_FOR_S = 30.0
"""A customer first seen less than this many seconds ago is marked as a new arrival."""

LEVEL_HOLD = timedelta(seconds=5)
"""How long a wallboard tile keeps a level after it got better (see ``held``)."""

LEVEL_CLASSES = ("-ok", "-warn", "-alert")
"""The CSS class of each ``Level``, by its value."""


def css_class(level: Level) -> str:
    return LEVEL_CLASSES[level]


def is_new(first_seen: datetime | None, queued_at: datetime, now: datetime) -> bool:
    """Whether a customer is a recent arrival: seen live, less than ``NEW_FOR_S`` ago.

    Both clocks must agree. ``first_seen`` alone would flag everyone already waiting when the
    client connected (they are first seen then); ``queued_at`` alone would trust the server's
    clock. A customer learned of long after joining (at start-up, after a gap) is not new.
    """
    if first_seen is None:
        return False
    seen_for = (now - first_seen).total_seconds()
    learned_after = (first_seen - queued_at).total_seconds()
    return 0 <= seen_for < NEW_FOR_S and learned_after < NEW_FOR_S


def held(
    shown: Level, actual: Level, better_since: datetime | None, now: datetime
) -> tuple[Level, datetime | None]:
    """The level a tile shows, and since when ``actual`` has been better than it.

    A level rises at once and falls only once it has been lower for ``LEVEL_HOLD``. A queue
    at its limit under load flips full/not full many times a second; without the hold a
    wallboard tile flashed red and yellow, and every flip of its frame repainted the whole
    tile (of a figure, the whole figure).
    """
    if actual >= shown:
        return actual, None
    if better_since is None:
        better_since = now
    if now - better_since >= LEVEL_HOLD:
        return actual, None
    return shown, better_since


@dataclass
class LevelHold:
    """One held level (a tile's frame or one of its figures); ``update`` it as values come."""

    shown: Level = Level.OK
    better_since: datetime | None = None

    def update(self, actual: Level, now: datetime) -> Level:
        self.shown, self.better_since = held(self.shown, actual, self.better_since, now)
        return self.shown

    def reset(self) -> None:
        """Forget the held level: the slot now shows another department."""
        self.shown, self.better_since = Level.OK, None


def level_classes(level: Level) -> dict[str, bool]:
    """For ``update_classes``: one atomic swap, so one style pass instead of two."""
    return {name: name == css_class(level) for name in LEVEL_CLASSES}
