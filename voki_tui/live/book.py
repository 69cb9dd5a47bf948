"""Everything the feed keeps about one department, and the ``DepartmentView`` it publishes.

A ``DepartmentBook`` ties the queue reducer (waiting list and finished-call outcomes), the agent
roster and the waiting-count history together. It is pure: the feed hands it parsed events,
REST results, presence states and the current time, and calls ``view(now)`` when it publishes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from voki_tui.live.agents import AgentRoster
from voki_tui.live.events import CallRecord, CustomerJoined, QueueEvent
from voki_tui.live.history import WaitingHistory
from voki_tui.live.metrics import compute_metrics
from voki_tui.live.queue import MAX_FINISHED, QueueReducer, SnapshotToken
from voki_tui.live.state import Department, DepartmentView, Source
from voki_tui.live.window import OutcomeWindow


def waited(record: CallRecord) -> tuple[datetime, datetime | None] | None:
    """When a past call waited: from ``queued_at`` to its answer, or ``queued_at + wait_s``,
    or its end (missed, cancelled); None as the end while it still waits; None without a start."""
    start = record.queued_at
    if start is None:
        return None
    if record.assigned_at is not None:
        return start, record.assigned_at
    if record.wait_s is not None:
        return start, start + timedelta(seconds=record.wait_s)
    if record.status == "queued":
        return start, None
    if record.ended_at is not None:
        return start, record.ended_at
    return None


class DepartmentBook:
    """Queue, agents and history of one department; metrics use ``department.sla_threshold_s``."""

    def __init__(
        self,
        department: Department,
        *,
        window_s: int = 3600,
        history_minutes: int = 60,
        max_finished: int = MAX_FINISHED,
        max_buffered: int = 100_000,
    ) -> None:
        self.department = department
        self.window_s = window_s
        self.queue = QueueReducer(
            department.id,
            window=OutcomeWindow(window_s=window_s, threshold_s=department.sla_threshold_s),
            max_finished=max_finished,
            max_buffered=max_buffered,
        )
        self.agents = AgentRoster()
        self.history = WaitingHistory(history_minutes)

    def apply(self, event: QueueEvent, now: datetime) -> bool:
        """One live queue event; True if the waiting list changed."""
        changed = self.queue.apply(event, now)
        if changed:
            self.history.note(now, len(self.queue))
        return changed

    def begin_snapshot(self) -> SnapshotToken:
        """Call just before requesting ``GET /api/v1/calls?status=queued&department_id=...``."""
        return self.queue.begin_snapshot()

    def abort_snapshot(self, token: SnapshotToken) -> None:
        self.queue.abort_snapshot(token)

    def reconcile(
        self,
        snapshot: Iterable[CustomerJoined],
        as_of: datetime,
        *,
        token: SnapshotToken | None = None,
    ) -> bool:
        """Take the REST snapshot as the truth (see ``QueueReducer.reconcile``)."""
        applied = self.queue.reconcile(snapshot, as_of, token=token)
        if applied:
            self.history.note(as_of, len(self.queue))
        return applied

    def backfill(self, records: Iterable[CallRecord], now: datetime | None = None) -> int:
        """Count the window's finished REST calls (idempotent with live events by call id);
        with ``now``, also rebuild the waiting history of the hour before the first live
        minute from the same calls, so "last hour" means the last hour."""
        records = list(records)
        if now is not None:
            self.history.backfill(
                (wait for record in records if (wait := waited(record)) is not None), now
            )
        return self.queue.backfill(records)

    def set_presence(self, state: Mapping[str, object]) -> None:
        """A whole presence state (after ``presence_state``)."""
        self.agents.replace(state)

    def update_presence(self, state: Mapping[str, object], keys: Iterable[str]) -> None:
        """The synced state after a diff, and the keys that diff touched."""
        self.agents.update(state, keys)

    def view(
        self,
        now: datetime,
        *,
        queue_source: Source | None = None,
        presence_source: Source | None = None,
        history_source: Source | None = None,
    ) -> DepartmentView:
        """The department as of ``now``; the sources are the feed's freshness bookkeeping."""
        waiting = self.queue.waiting()
        agents = self.agents.agents()
        metrics = compute_metrics(
            waiting=waiting,
            agents=agents,
            totals=self.queue.outcomes.totals(now),
            now=now,
            threshold_s=self.department.sla_threshold_s,
            window_s=self.window_s,
        )
        return DepartmentView(
            department=self.department,
            waiting=waiting,
            agents=agents,
            metrics=metrics,
            queue=queue_source if queue_source is not None else Source(),
            presence=presence_source if presence_source is not None else Source(),
            waiting_history=self.history.series(now),
            history=history_source if history_source is not None else Source(),
        )
