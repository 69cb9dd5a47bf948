"""Retry schedules: how long to wait before trying again, in one place.

Everything that retries (the socket's reconnects and rejoins, the REST snapshot of a queue, the
unattended sign-in, the token refresh) waits by a :class:`Backoff`: a table of delays for the
first failures, then a ceiling, each delay jittered so that a hundred wall boxes that lost the
same server do not come back in step. Pure and clock-free: callers pass the number of failures
so far and a random source, and do their own sleeping on their own clock.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Backoff:
    """Wait ``steps[n - 1]`` after the ``n``-th failure in a row, ``maximum`` after more."""

    steps: tuple[float, ...]
    maximum: float
    jitter: float = 0.2  # each delay is multiplied by uniform(1 - jitter, 1 + jitter)

    def base(self, failures: int) -> float:
        """The un-jittered delay after ``failures`` consecutive failures (1 = the first)."""
        if 0 < failures <= len(self.steps):
            return self.steps[failures - 1]
        return self.maximum

    def delay(self, failures: int, rng: random.Random) -> float:
        """The delay after ``failures`` consecutive failures, jittered."""
        return self.spread(self.base(failures), rng)

    def spread(self, delay: float, rng: random.Random) -> float:
        """``delay`` jittered by this schedule's share."""
        if not self.jitter:
            return delay
        return delay * rng.uniform(1.0 - self.jitter, 1.0 + self.jitter)


#: Talking to a server that is down, restarting or overloaded (sign-in, a queue's REST
#: snapshot, a token refresh that did not reach the server): quick at first, for a blip, then
#: every few seconds, like phoenix.js's socket (at most 5 s), so a board is live again within
#: seconds of its server. A refused TCP connection costs the server nothing.
SERVER_DOWN = Backoff(steps=(0.5, 1.0, 2.0, 3.0), maximum=4.0)

#: Something that may stay broken for a while and is not urgent (a department's history for
#: the metrics window): retried every few minutes, not every few seconds.
HISTORY_RETRY = Backoff(steps=(30.0, 60.0, 120.0), maximum=300.0)
