"""When to disturb people: the threshold bell and the toast rate limit, as pure logic.

A wall display runs for weeks; a flapping department must not ring the bell every few seconds
and a chatty notification channel must not bury the screen in toasts. Both policies take the
time as an argument so tests drive them with a frozen clock.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta

from voki_tui.live.state import DepartmentView


def over_threshold(view: DepartmentView) -> bool:
    """A department is in trouble when its queue is full or its longest wait is too long."""
    metrics, dep = view.metrics, view.department
    if metrics is None:
        return False
    if dep.max_queue_size is not None and metrics.waiting >= dep.max_queue_size:
        return True
    longest = metrics.longest_wait_s
    return dep.max_wait_time is not None and longest is not None and longest >= dep.max_wait_time


class BellPolicy:
    """Ring when a department crosses into trouble, at most once per ``min_gap``."""

    def __init__(self, min_gap: timedelta = timedelta(seconds=30)) -> None:
        self.min_gap = min_gap
        self._over: set[str] = set()
        self._last: datetime | None = None

    def should_ring(self, views: tuple[DepartmentView, ...], now: datetime) -> bool:
        over = {v.department.id for v in views if over_threshold(v)}
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
