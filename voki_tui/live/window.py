"""The rolling window of call outcomes (answered / abandoned) behind ASA, service level and
abandonment.

Outcomes are aggregated into one bucket per second of their time (``assigned_at`` for an
answer, the leave time for an abandon). The per-second resolution is the price: an outcome
belongs to the window at ``now`` when its second ``s`` satisfies ``s > floor(now) - window_s``.
Waits are summed in integer milliseconds so removing a bucket never leaves floating-point drift
in the totals.

The buckets are a ring of ``window_s + slack_s`` slots in two flat arrays, made when the first
outcome arrives: second ``s`` lives in slot ``s % size``, tagged with ``s``. Adding an outcome
and pruning are O(1) a second whatever the call rate, and a department's window is the same
size (187 KB for the hour, by tracemalloc) from its first minute to its thousandth. The dict of
packed buckets it replaced grew for the whole first hour, to 0.63 MB a department, which the
wallboard's four departments added to its RSS over its first hour (BENCHMARKS.md).

Deduplication by call id is not done here: the queue reducer counts each call at most once
before it reaches the window.
"""

from __future__ import annotations

import math
from array import array
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


_SUMS = 5  # per bucket, in the order of WindowTotals' fields
_ANSWERED, _WITHIN, _WAIT, _ABANDONED, _AFTER = range(_SUMS)
_EMPTY = -(2**63)  # the tag of a slot that holds no second
_MAX_WAIT_MS = 10**12
"""A wait is counted as at most 31 years, so that a bucket's sum (a signed 64-bit slot) cannot
overflow from any timestamps a server sends."""


class OutcomeWindow:
    """Outcomes of the last ``window_s`` seconds for one department and its threshold.

    ``threshold_s`` is fixed for the window's lifetime because each outcome is classified
    (within / after the threshold) when it is added; a new threshold needs a new window.
    ``slack_s`` keeps that many seconds beyond the window when pruning by the newest outcome
    time, so a server clock slightly ahead of ours does not drop outcomes early.
    """

    __slots__ = (
        "_cutoff",
        "_live",
        "_newest",
        "_slack_s",
        "_sums",
        "_tags",
        "_threshold_ms",
        "_totals",
        "threshold_s",
        "window_s",
    )

    def __init__(self, *, window_s: int = 3600, threshold_s: int = 60, slack_s: int = 60) -> None:
        if window_s <= 0 or slack_s < 0:
            raise ValueError("window_s must be positive and slack_s not negative")
        self.window_s = window_s
        self.threshold_s = threshold_s
        self._threshold_ms = threshold_s * 1000
        self._slack_s = slack_s
        self._tags = array("q")  # per slot: the second it holds, or _EMPTY (made on first use)
        self._sums = array("q")  # per slot: _SUMS sums
        self._totals = [0] * _SUMS  # over every live slot
        self._live = 0  # slots that hold a second
        self._cutoff: float = -math.inf  # seconds at or before this are gone for good
        self._newest: float = -math.inf

    def add(self, outcome: Outcome, at: datetime, wait_s: float) -> bool:
        """Count one outcome; False when it is NEUTRAL or already older than the window."""
        if outcome is Outcome.NEUTRAL:
            return False
        second = math.floor(at.timestamp())
        if second <= self._cutoff:
            return False
        if second > self._newest:
            self._newest = second
            # Before writing: the slot may still hold the second one ring's length ago.
            self._prune(second - self.window_s - self._slack_s)
        if not self._tags:
            size = self.window_s + self._slack_s
            self._tags = array("q", [_EMPTY]) * size
            self._sums = array("q", bytes(8 * _SUMS * size))
        slot = second % len(self._tags)
        if self._tags[slot] != second:  # empty: a second it held is gone (at or before the cutoff)
            self._tags[slot] = second
            self._live += 1
        wait_ms = min(max(0, round(wait_s * 1000)), _MAX_WAIT_MS)
        fields: tuple[tuple[int, int], ...]
        if outcome is Outcome.ANSWERED:
            within = int(wait_ms <= self._threshold_ms)
            fields = ((_ANSWERED, 1), (_WAIT, wait_ms), (_WITHIN, within))
        else:
            fields = ((_ABANDONED, 1), (_AFTER, int(wait_ms > self._threshold_ms)))
        sums, totals, base = self._sums, self._totals, slot * _SUMS
        for field, amount in fields:
            sums[base + field] += amount
            totals[field] += amount
        return True

    def totals(self, now: datetime) -> WindowTotals:
        """The sums as of ``now`` (expected not to go backwards between calls)."""
        self._prune(math.floor(now.timestamp()) - self.window_s)
        return WindowTotals(*self._totals)

    def __len__(self) -> int:
        """Number of live buckets (for memory checks)."""
        return self._live

    def _prune(self, cutoff: float) -> None:
        old = self._cutoff
        if cutoff <= old:
            return
        self._cutoff = cutoff
        tags, size = self._tags, len(self._tags)
        if not self._live:
            return
        if old == -math.inf or cutoff - old >= size:
            slots: range | list[int] = range(size)  # every slot may hold a second now gone
        else:
            slots = [second % size for second in range(int(old) + 1, int(cutoff) + 1)]
        for slot in slots:
            if tags[slot] != _EMPTY and tags[slot] <= cutoff:
                self._drop(slot)

    def _drop(self, slot: int) -> None:
        self._tags[slot] = _EMPTY
        self._live -= 1
        base = slot * _SUMS
        for field in range(_SUMS):
            self._totals[field] -= self._sums[base + field]
            self._sums[base + field] = 0
