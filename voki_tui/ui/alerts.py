"""When to disturb people: the threshold bell and the toast rate limit, as pure logic.

A wall display runs for weeks; a flapping department must not ring the bell every few seconds
and a chatty notification channel must not bury the screen in toasts. Both policies take the
time as an argument so tests drive them with a frozen clock.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta

from voki_tui.live.figures import Level, department_level
from voki_tui.live.state import DepartmentView


class BellPolicy:
    """Ring when a department turns ALERT (the figure table's rule, the same ‼ every screen
    shows), at most once per ``min_gap``."""

    def __init__(self, min_gap: timedelta = timedelta(seconds=30)) -> None:
        self.min_gap = min_gap
        self._over: set[str] = set()
        self._last: datetime | None = None

    def should_ring(self, views: tuple[DepartmentView, ...], now: datetime) -> bool:
        over = {v.department.id for v in views if department_level(v, now) is Level.ALERT}
        crossed = bool(over - self._over)
        self._over = over
        if not crossed:
            return False
        if self._last is not None and now - self._last < self.min_gap:
            return False
        self._last = now
        return True


class RateLimiter:
    """Allow at most ``limit`` events per ``window``; counts what it refused."""

    def __init__(self, limit: int = 3, window: timedelta = timedelta(seconds=10)) -> None:
        self.limit = limit
        self.window = window
        self.dropped = 0
        self._times: deque[datetime] = deque()

    def allow(self, now: datetime) -> bool:
        while self._times and now - self._times[0] >= self.window:
            self._times.popleft()
        if len(self._times) >= self.limit:
            self.dropped += 1
            return False
        self._times.append(now)
        return True
