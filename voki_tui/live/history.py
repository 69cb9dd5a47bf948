"""Waiting count per minute over the last hour, for a department's sparkline.

Each minute keeps the peak waiting count seen in it (a burst between two samples is not lost)
and the last count, which carries into the following minutes that saw no change. Memory is
one small record per minute, at most ``minutes`` of them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from datetime import UTC, datetime

Series = tuple[tuple[datetime, int], ...]


class WaitingHistory:
    """Per-minute peaks of the waiting count; ``note`` is O(1) and called on every change.

    ``series`` is asked for every department on every snapshot (40 a second at 100 events/s):
    it is kept until a record changes or the minute turns. Made afresh each time, it was a
    fifth of the app's CPU with 200 departments (55 datetimes per department per snapshot).
    """

    __slots__ = ("_minutes", "_records", "_series")

    def __init__(self, minutes: int = 60) -> None:
        if minutes <= 0:
            raise ValueError("minutes must be positive")
        self._minutes = minutes
        # [minute index since the epoch, peak, last]
        self._records: deque[list[int]] = deque(maxlen=minutes)
        self._series: tuple[int, Series] | None = None  # (the minute it ends at, the series)

    def note(self, now: datetime, waiting: int) -> None:
        """Record the waiting count at ``now`` (a clock going backwards updates the last minute)."""
        minute = int(now.timestamp() // 60)
        records = self._records
        self._series = None
        if records and minute <= records[-1][0]:
            record = records[-1]
            if waiting > record[1]:
                record[1] = waiting
            record[2] = waiting
        else:
            records.append([minute, waiting, waiting])

    def backfill(self, waits: Iterable[tuple[datetime, datetime | None]], now: datetime) -> int:
        """Fill the minutes before the first live record from past waits (start, end; None:
        still waiting at ``now``), so "last hour" covers the hour, not the time since start.

        Each minute gets the most customers waiting at once in it (a sweep over the starts and
        ends) and the count at its end; minutes already recorded live keep their count (their
        peak takes the larger). Returns how many minutes were added.
        """
        end_minute = int(now.timestamp() // 60)
        first_live = self._records[0][0] if self._records else end_minute + 1
        start_minute = end_minute - self._minutes + 1
        changes: list[tuple[float, int]] = []
        for start, stop in waits:
            stop_at = now if stop is None else stop
            if stop_at <= start:
                continue
            changes.append((start.timestamp(), 1))
            changes.append((stop_at.timestamp(), -1))
        if not changes:
            return 0
        changes.sort()  # an end before a start at the same instant: -1 sorts first
        waiting = 0
        index = 0
        added: list[list[int]] = []
        for minute in range(start_minute, min(first_live, end_minute) + 1):
            minute_end = (minute + 1) * 60
            peak = waiting
            while index < len(changes) and changes[index][0] < minute_end:
                waiting += changes[index][1]
                peak = max(peak, waiting)
                index += 1
            if minute < first_live:
                added.append([minute, peak, waiting])
            elif self._records and minute == first_live:
                self._records[0][1] = max(self._records[0][1], peak)
        kept = [record for record in added if record[0] < first_live]
        self._series = None
        for record in reversed(kept):
            if len(self._records) == self._records.maxlen:
                break
            self._records.appendleft(record)
        return len(kept)

    def series(self, now: datetime) -> Series:
        """(minute start, value) for each minute of the last ``minutes`` up to ``now``'s minute.

        Minutes before the first record are left out; a minute with no record takes the last
        count of the minute before it.
        """
        if not self._records:
            return ()
        end = int(now.timestamp() // 60)
        if self._series is not None and self._series[0] == end:
            return self._series[1]
        points = self._make_series(end)
        self._series = (end, points)
        return points

    def _make_series(self, end: int) -> Series:
        start = end - self._minutes + 1
        recorded = {record[0]: record for record in self._records}
        first = self._records[0][0]
        carry: int | None = None
        for record in self._records:  # the last count before the visible range, if any
            if record[0] < start:
                carry = record[2]
        points: list[tuple[datetime, int]] = []
        for minute in range(max(start, first), end + 1):
            seen = recorded.get(minute)
            if seen is not None:
                points.append((_minute_start(minute), seen[1]))
                carry = seen[2]
            elif carry is not None:
                points.append((_minute_start(minute), carry))
        return tuple(points)


def _minute_start(minute: int) -> datetime:
    return datetime.fromtimestamp(minute * 60, tz=UTC)
