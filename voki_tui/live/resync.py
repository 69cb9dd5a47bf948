"""When to re-read a department's truth while the link is up: a drift guard.

A live board can be wrong while it says "live": Phoenix PubSub between the nodes of a cluster
is at most once, so an event can be lost without the socket closing, and nothing in the
protocol says so. Two things catch it:

- **periodically**: every department's queue is re-read over REST and its presence channel
  joined again (a fresh ``presence_state``) every ``interval_s``, jittered, the departments
  spread over the period so that they do not all go at once;
- **on a sign of a gap**: an event that does not fit (the end of a call never seen to join,
  a queue position that disagrees with the count, a presence leave for someone not there)
  asks for a re-read soon, at most once per ``gap_debounce_s`` per department, so a stream
  of odd events costs one request, not one each.

Pure: the feed passes monotonic time in and does the reading itself.
"""

from __future__ import annotations

import random

from voki_tui.retry import Backoff

#: Re-read every department's truth this often while live (seconds, jittered); the default
#: of the ``resync_s`` setting.
RESYNC_EVERY_S = 180.0
#: After a sign of a gap, re-read within this, at most once per this per department.
GAP_DEBOUNCE_S = 30.0


class ResyncPlanner:
    """Due times of the next re-read of each department (monotonic seconds)."""

    def __init__(
        self,
        interval_s: float = RESYNC_EVERY_S,
        *,
        gap_debounce_s: float = GAP_DEBOUNCE_S,
        rng: random.Random | None = None,
    ) -> None:
        self.interval = Backoff(steps=(), maximum=interval_s)
        self.gap_debounce_s = gap_debounce_s
        self._rng = rng or random.Random()  # jitter, not security
        self._due: dict[str, float] = {}
        self._last_gap: dict[str, float] = {}
        self._reasons: dict[str, str] = {}

    def add(self, ident: str, now: float) -> None:
        """Watch ``ident``; its first periodic re-read falls anywhere in the next period."""
        self._due[ident] = now + self.interval.maximum * self._rng.uniform(0.5, 1.0)
        self._reasons[ident] = "periodic"

    def remove(self, ident: str) -> None:
        """Stop watching ``ident``."""
        self._due.pop(ident, None)
        self._last_gap.pop(ident, None)
        self._reasons.pop(ident, None)

    def gap(self, ident: str, now: float) -> bool:
        """A sign of a gap in ``ident``; True if this moved its re-read earlier."""
        if ident not in self._due:
            return False
        last = self._last_gap.get(ident)
        at = now if last is None else max(now, last + self.gap_debounce_s)
        if at >= self._due[ident]:
            return False
        self._due[ident] = at
        self._last_gap[ident] = at
        self._reasons[ident] = "gap"
        return True

    def next_at(self) -> float | None:
        return min(self._due.values(), default=None)

    def due(self, now: float) -> list[tuple[str, str]]:
        """The departments due at ``now`` with why ("periodic" or "gap"); each is scheduled
        again one (jittered) period later."""
        ready = [ident for ident, at in self._due.items() if at <= now]
        found = [(ident, self._reasons[ident]) for ident in sorted(ready)]
        for ident in ready:
            self._due[ident] = now + self.interval.delay(0, self._rng)
            self._reasons[ident] = "periodic"
        return found
