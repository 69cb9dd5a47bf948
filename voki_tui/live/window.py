"""The rolling window of call outcomes (answered / abandoned) behind ASA, service level and
abandonment.

Outcomes are aggregated into one bucket per second of their time (``assigned_at`` for an
answer, the leave time for an abandon), so memory is bounded by the window length (at most
``window_s + slack_s`` buckets) whatever the call rate, and adding an outcome is O(log n) in
the number of buckets. The per-second resolution is the price: an outcome belongs to the window
at ``now`` when its second ``s`` satisfies ``s > floor(now) - window_s``. Waits are summed in
integer milliseconds so removing a bucket never leaves floating-point drift in the totals.

A bucket is a single int with its five sums in bit fields (see ``_pack``): a full hour is 3,660
buckets per department, and a dict of ints costs about 125 B per bucket where a dict of
five-element lists cost 185 B. The totals are the same kind of int, so adding or removing a
bucket is one addition.

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


# Bit fields of a packed bucket: four counts of 32 bits (4 billion outcomes an hour per
# department is out of reach, so a field never carries into the next), the wait sum on top,
# unbounded. All fields are non-negative and a bucket is only ever subtracted after being added.
_BITS = 32
_MASK = (1 << _BITS) - 1
_ANSWERED, _WITHIN, _ABANDONED, _AFTER = (1 << (_BITS * i) for i in range(4))
_WAIT_SHIFT = 4 * _BITS


def _unpack(packed: int) -> WindowTotals:
    return WindowTotals(
        answered=packed & _MASK,
        answered_within=(packed >> _BITS) & _MASK,
        wait_ms_sum=packed >> _WAIT_SHIFT,
        abandoned=(packed >> (2 * _BITS)) & _MASK,
        abandoned_after_threshold=(packed >> (3 * _BITS)) & _MASK,
    )


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
        "window_s",
    )

    def __init__(self, *, window_s: int = 3600, threshold_s: int = 60, slack_s: int = 60) -> None:
        if window_s <= 0:
            raise ValueError("window_s must be positive")
        self.window_s = window_s
        self.threshold_s = threshold_s
        self._threshold_ms = threshold_s * 1000
        self._slack_s = slack_s
        self._buckets: dict[int, int] = {}  # second -> packed sums
        self._heap: list[int] = []  # bucket seconds, oldest on top
        self._totals = 0  # packed sums of every bucket
        self._cutoff = -math.inf  # buckets at or before this second are gone for good
        self._newest = -math.inf

    def add(self, outcome: Outcome, at: datetime, wait_s: float) -> bool:
        """Count one outcome; False when it is NEUTRAL or already older than the window."""
        if outcome is Outcome.NEUTRAL:
            return False
        second = math.floor(at.timestamp())
        if second <= self._cutoff:
            return False
        wait_ms = max(0, round(wait_s * 1000))
        if outcome is Outcome.ANSWERED:
            delta = _ANSWERED + (wait_ms << _WAIT_SHIFT)
            if wait_ms <= self._threshold_ms:
                delta += _WITHIN
        else:
            delta = _ABANDONED + (_AFTER if wait_ms > self._threshold_ms else 0)
        bucket = self._buckets.get(second)
        if bucket is None:
            heapq.heappush(self._heap, second)
            bucket = 0
        self._buckets[second] = bucket + delta
        self._totals += delta
        if second > self._newest:
            self._newest = second
            self._prune(second - self.window_s - self._slack_s)
        return True

    def totals(self, now: datetime) -> WindowTotals:
        """The sums as of ``now`` (expected not to go backwards between calls)."""
        self._prune(math.floor(now.timestamp()) - self.window_s)
        return _unpack(self._totals)

    def __len__(self) -> int:
        """Number of live buckets (for memory checks)."""
        return len(self._buckets)

    def _prune(self, cutoff: float) -> None:
        if cutoff <= self._cutoff:
            return
        self._cutoff = cutoff
        heap, buckets = self._heap, self._buckets
        while heap and heap[0] <= cutoff:
            self._totals -= buckets.pop(heapq.heappop(heap))
