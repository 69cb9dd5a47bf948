"""The rolling window of call outcomes (answered / abandoned) behind ASA, service level and
abandonment.

Outcomes are aggregated into one bucket per second of their time (``assigned_at`` for an
answer, the leave time for an abandon), so memory is bounded by the window length (at most
``window_s + slack_s`` buckets) whatever the call rate, and adding an outcome is O(log n) in
the number of buckets. The per-second resolution is the price: an outcome belongs to the window
at ``now`` when its second ``s`` satisfies ``s > floor(now) - window_s``. Waits are summed in
integer milliseconds so removing a bucket never leaves floating-point drift in the totals.

Deduplication by call id is not done here: the queue reducer counts each call at most once
before it reaches the window.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum


class Outcome(IntEnum):
    """How a call stopped waiting, as far as the metrics care."""

    ANSWERED = 0
    ABANDONED = 1
    NEUTRAL = 2  # cancelled or an unknown reason: it left the queue but counts nowhere


@dataclass(frozen=True, slots=True)
class WindowTotals:
    """Sums over the window; ``compute_metrics`` turns them into rates."""

    answered: int = 0
    answered_within: int = 0
    wait_ms_sum: int = 0  # total wait of the answered calls
    abandoned: int = 0
    abandoned_after_threshold: int = 0


# Indices into a bucket / the running totals list (a list is the cheapest mutable record).
_ANSWERED, _WITHIN, _WAIT_MS, _ABANDONED, _AFTER = range(5)


class OutcomeWindow:
    """Outcomes of the last ``window_s`` seconds for one department and its threshold.

    ``threshold_s`` is fixed for the window's lifetime because each outcome is classified
    (within / after the threshold) when it is added; a new threshold needs a new window.
    ``slack_s`` keeps that many seconds beyond the window when pruning by the newest outcome
    time, so a server clock slightly ahead of ours does not drop outcomes early.
    """

    __slots__ = (
        "_buckets",
        "_cutoff",
        "_heap",
        "_newest",
        "_slack_s",
        "_threshold_ms",
        "_totals",
        "threshold_s",
        "too_old",
        "window_s",
    )

    def __init__(self, *, window_s: int = 3600, threshold_s: int = 60, slack_s: int = 60) -> None:
        if window_s <= 0:
            raise ValueError("window_s must be positive")
        self.window_s = window_s
        self.threshold_s = threshold_s
        self._threshold_ms = threshold_s * 1000
        self._slack_s = slack_s
        self._buckets: dict[int, list[int]] = {}
        self._heap: list[int] = []  # bucket seconds, oldest on top
        self._totals = [0, 0, 0, 0, 0]
        self._cutoff = -math.inf  # buckets at or before this second are gone for good
        self._newest = -math.inf
        self.too_old = 0  # outcomes refused because they were already out of the window

    def add(self, outcome: Outcome, at: datetime, wait_s: float) -> bool:
        """Count one outcome; False when it is NEUTRAL or already older than the window."""
        if outcome is Outcome.NEUTRAL:
            return False
        second = math.floor(at.timestamp())
        if second <= self._cutoff:
            self.too_old += 1
            return False
        bucket = self._buckets.get(second)
        if bucket is None:
            bucket = self._buckets[second] = [0, 0, 0, 0, 0]
            heapq.heappush(self._heap, second)
        wait_ms = max(0, round(wait_s * 1000))
        totals = self._totals
        if outcome is Outcome.ANSWERED:
            within = 1 if wait_ms <= self._threshold_ms else 0
            bucket[_ANSWERED] += 1
            bucket[_WITHIN] += within
            bucket[_WAIT_MS] += wait_ms
            totals[_ANSWERED] += 1
            totals[_WITHIN] += within
            totals[_WAIT_MS] += wait_ms
        else:
            after = 1 if wait_ms > self._threshold_ms else 0
            bucket[_ABANDONED] += 1
            bucket[_AFTER] += after
            totals[_ABANDONED] += 1
            totals[_AFTER] += after
        if second > self._newest:
            self._newest = second
            self._prune(second - self.window_s - self._slack_s)
        return True

    def totals(self, now: datetime) -> WindowTotals:
        """The sums as of ``now`` (expected not to go backwards between calls)."""
        self._prune(math.floor(now.timestamp()) - self.window_s)
        return WindowTotals(*self._totals)

    def __len__(self) -> int:
        """Number of live buckets (for memory checks)."""
        return len(self._buckets)

    def _prune(self, cutoff: float) -> None:
        if cutoff <= self._cutoff:
            return
        self._cutoff = cutoff
        heap, buckets, totals = self._heap, self._buckets, self._totals
        while heap and heap[0] <= cutoff:
            bucket = buckets.pop(heapq.heappop(heap))
            for i in range(5):
                totals[i] -= bucket[i]
