"""Threshold levels (ok / warn / alert), their glyphs, and the "new arrival" rule.

State must never depend on colour alone (NO_COLOR terminals, colour-blind viewers), so every
level has a glyph as well as a CSS class. The rules live here, without Textual, so the queue
table, the figures and the wallboard tiles agree and tests can check them directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import IntEnum

from voki_tui.live.state import DepartmentView

NEW_FOR_S = 30.0
"""A customer first seen less than this many seconds ago is marked as a new arrival."""

WARN_RATIO = 0.5
"""A wait at or past this share of ``max_wait_time`` is a warning."""

LEVEL_HOLD = timedelta(seconds=5)
"""How long a wallboard tile keeps a level after it got better (see ``held``)."""


class Level(IntEnum):
    """How bad a figure is; ordered so that ``max`` gives the worst."""

    OK = 0
    WARN = 1
    ALERT = 2

    @property
    def css_class(self) -> str:
        return ("-ok", "-warn", "-alert")[self]

    @property
    def glyph(self) -> str:
        return GLYPHS[self]


GLYPHS = {Level.OK: " ", Level.WARN: "▲", Level.ALERT: "‼"}
LEVEL_CLASSES = tuple(level.css_class for level in Level)


def wait_level(seconds: float | None, max_wait_s: int | None) -> Level:
    """A single wait against the department's ``max_wait_time``: warn at 50 %, alert past it."""
    if seconds is None or not max_wait_s or max_wait_s <= 0:
        return Level.OK
    if seconds > max_wait_s:
        return Level.ALERT
    if seconds >= max_wait_s * WARN_RATIO:
        return Level.WARN
    return Level.OK


def size_level(waiting: int, max_queue_size: int | None) -> Level:
    """The queue length against ``max_queue_size``: warn at 50 %, alert when full."""
    if not max_queue_size or max_queue_size <= 0:
        return Level.OK
    if waiting >= max_queue_size:
        return Level.ALERT
    if waiting >= max_queue_size * WARN_RATIO:
        return Level.WARN
    return Level.OK


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


def longest_wait_s(view: DepartmentView, now: datetime) -> float | None:
    """The age of the oldest waiting customer at ``now`` (ticks between snapshots)."""
    if view.waiting:
        return max(0.0, (now - view.waiting[0].queued_at).total_seconds())
    return None


def department_level(view: DepartmentView, now: datetime) -> Level:
    """The worst of the department's longest wait and queue length."""
    waiting = len(view.waiting)
    dep = view.department
    return max(
        wait_level(longest_wait_s(view, now), dep.max_wait_time),
        size_level(waiting, dep.max_queue_size),
    )


def worst_first_key(view: DepartmentView, now: datetime) -> tuple[int, float, int, str, str]:
    """Sort key putting breaches first, then the longest wait, then the longest queue."""
    longest = longest_wait_s(view, now) or 0.0
    level = department_level(view, now)
    return (-int(level), -longest, -len(view.waiting), view.department.name, view.department.id)


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
    return {css_class: css_class == level.css_class for css_class in LEVEL_CLASSES}
