"""The waiting list of one department: a reducer over REST snapshots and queue events.

Rules, all idempotent by ``call_id``:

- ``CustomerJoined`` adds a customer unless that call already finished (a duplicate or late
  join must not resurrect it as a ghost). A repeated join of a waiting call refreshes its
  fields but keeps ``first_seen``.
- ``CustomerLeft`` / ``CallAssigned`` remove the call and remember it as finished, even when it
  was unknown (a leave that overtook its join), so the join arriving later is ignored.
- Each finished call is counted once in the metrics window, as soon as both its ``queued_at``
  and its end are known, whatever order they arrived in.
- ``reconcile`` makes the REST snapshot the truth. To account for events that raced the
  snapshot, call ``begin_snapshot()`` just before issuing the REST request: every event applied
  after that is buffered and, when the response comes, re-applied on top of the snapshot.
  Events received before the request were already known to the server when it answered; events
  received after it may or may not be in the snapshot, and re-applying them is harmless either
  way because every rule is idempotent. A waiting call absent from the snapshot (and not
  re-joined by a buffered event) is remembered as finished without an outcome, which a late
  leave event or a history backfill may still supply.

Memory stays bounded: the finished-id memory is a FIFO of ``max_finished`` ids (a counted call
keeps only its id: nothing more can be learned about it), the race buffer
holds at most ``max_buffered`` events (overflowing it invalidates the pending snapshots: their
``reconcile`` returns False and the feed takes a new one) and the metrics window is bounded by
time. The display tuple is built only when asked and cached until the waiting set changes.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Final

from voki_tui.live.events import CallAssigned, CallRecord, CustomerJoined, QueueEvent
from voki_tui.live.state import WaitingCustomer
from voki_tui.live.window import Outcome, OutcomeWindow

ABANDON_REASONS: Final = frozenset({"abandoned", "missed"})
"""``customer_left`` reasons counted as abandons; both end as a REST ``missed`` call.
``cancelled`` and unknown reasons take the call out of the queue without counting it."""

MAX_FINISHED: Final = 2_000
"""Finished calls remembered per department, oldest forgotten first. They stop a late or
repeated ``customer_joined`` from bringing a served customer back (a ghost) and pair an end
that arrives before its join. Late events come seconds late, not thousands of calls late;
anything older is healed by the next REST reconcile. A counted call is remembered by its id
alone (about 130 B with its dict and FIFO slots), so this is about 0.26 MB per department."""

SnapshotToken = int
"""Returned by ``begin_snapshot``: a unique, increasing id of one snapshot request."""


class _Finished:
    """What is known of a call that stopped waiting, until both halves are known and it is
    counted; then the queue keeps its id alone (mapped to None)."""

    __slots__ = ("at", "outcome", "queued_at")

    def __init__(
        self, queued_at: datetime | None, outcome: Outcome | None, at: datetime | None
    ) -> None:
        self.queued_at = queued_at
        self.outcome = outcome
        self.at = at


def _left_outcome(reason: str) -> Outcome:
    return Outcome.ABANDONED if reason in ABANDON_REASONS else Outcome.NEUTRAL


class QueueReducer:
    """Waiting customers and finished-call outcomes of one department."""

    def __init__(
        self,
        department_id: str,
        *,
        window: OutcomeWindow | None = None,
        max_finished: int = MAX_FINISHED,
        max_buffered: int = 100_000,
    ) -> None:
        self.department_id = department_id
        self.outcomes = window if window is not None else OutcomeWindow()
        self._max_finished = max_finished
        self._max_buffered = max_buffered
        self._waiting: dict[str, WaitingCustomer] = {}
        # Arrival numbers break ties between customers queued in the same second (server
        # timestamps are whole seconds): the one we heard of first is ahead, not the smaller id.
        self._arrival: dict[str, int] = {}
        self._arrivals = 0
        # call id -> what is still to learn, None once counted; _finished_order is its FIFO
        # (a dict plus a deque of ids costs half an OrderedDict per entry).
        self._finished: dict[str, _Finished | None] = {}
        self._finished_order: deque[str] = deque()
        self._seq = 0  # number of events applied so far
        self._next_token = 0
        self._pending: dict[SnapshotToken, int] = {}  # request -> events applied before it
        self._buffer: deque[tuple[int, QueueEvent]] = deque()
        self._version = 0
        self._cache: tuple[int, tuple[WaitingCustomer, ...]] = (0, ())
        # What was survived, for the counters / logs.
        self.duplicates = 0  # repeated joins or ends of a call
        self.late_joins = 0  # joins of a call already finished (ghosts prevented)
        self.unknown_ends = 0  # ends of a call never seen waiting: a sign of a lost join
        self.buffer_overflows = 0
        self.stale_snapshots = 0  # reconcile calls whose token was superseded or invalidated
        self.foreign_records = 0  # backfill records of another department
        self.counted = 0  # outcomes (answers, abandons) added to the metrics window

    # -- reading -----------------------------------------------------------------------------

    @property
    def version(self) -> int:
        """Changes whenever the waiting set (or any waiting customer's fields) changes."""
        return self._version

    def __len__(self) -> int:
        return len(self._waiting)

    def __contains__(self, call_id: object) -> bool:
        return call_id in self._waiting

    def waiting(self) -> tuple[WaitingCustomer, ...]:
        """Waiting customers, oldest ``queued_at`` first (ties in arrival order); cached."""
        version, snapshot = self._cache
        if version != self._version:
            arrival = self._arrival
            snapshot = tuple(
                sorted(self._waiting.values(), key=lambda c: (c.queued_at, arrival[c.call_id]))
            )
            self._cache = (self._version, snapshot)
        return snapshot

    def finished_count(self) -> int:
        """How many finished call ids are remembered (bounded by ``max_finished``)."""
        return len(self._finished)

    # -- events ------------------------------------------------------------------------------

    def apply(self, event: QueueEvent, now: datetime) -> bool:
        """Apply one live event; ``now`` stamps ``first_seen``. True if the waiting set changed."""
        self._seq += 1
        if self._pending:
            if len(self._buffer) >= self._max_buffered:
                self.buffer_overflows += 1
                self._pending.clear()
                self._buffer.clear()
            else:
                self._buffer.append((self._seq, event))
        return self._apply(event, now, None)

    def _apply(
        self, event: QueueEvent, now: datetime, seen: dict[str, WaitingCustomer] | None
    ) -> bool:
        if isinstance(event, CustomerJoined):
            return self._join(event, now, seen)
        if isinstance(event, CallAssigned):
            return self._finish(event.call_id, Outcome.ANSWERED, event.assigned_at, None)
        return self._finish(event.call_id, _left_outcome(event.reason), event.at, None)

    def _join(
        self, event: CustomerJoined, now: datetime, seen: dict[str, WaitingCustomer] | None
    ) -> bool:
        call_id = event.call_id
        if call_id in self._finished:
            self.late_joins += 1
            finished = self._finished[call_id]
            if finished is not None and finished.queued_at is None:
                finished.queued_at = event.queued_at
                self._count(call_id, finished)
            return False
        current = self._waiting.get(call_id)
        if current is not None:
            self.duplicates += 1
            first_seen = current.first_seen
        else:
            previous = seen.get(call_id) if seen is not None else None
            first_seen = previous.first_seen if previous is not None else now
        customer = WaitingCustomer(
            call_id,
            event.department_id,
            event.customer_name,
            event.reason,
            event.queued_at,
            event.position,
            first_seen,
            event.customer_email,
            event.customer_phone,
        )
        if customer == current:
            return False
        self._waiting[call_id] = customer
        self._number(call_id)
        self._version += 1
        return True

    def _number(self, call_id: str) -> None:
        """Give a newly waiting call the next arrival number (kept while it waits)."""
        if call_id not in self._arrival:
            self._arrivals += 1
            self._arrival[call_id] = self._arrivals

    def _finish(
        self, call_id: str, outcome: Outcome, at: datetime, queued_at: datetime | None
    ) -> bool:
        customer = self._waiting.pop(call_id, None)
        if customer is not None:
            del self._arrival[call_id]
            self._version += 1
            queued_at = customer.queued_at
        elif call_id not in self._finished:
            self.unknown_ends += 1
        if call_id not in self._finished:
            finished = _Finished(queued_at, outcome, at)
            self._remember(call_id, finished)
        else:
            known = self._finished[call_id]
            if known is None:  # already counted
                if customer is None:
                    self.duplicates += 1
                return customer is not None
            finished = known
            if finished.queued_at is None:
                finished.queued_at = queued_at
            if finished.outcome is None:
                finished.outcome, finished.at = outcome, at
            elif customer is None:
                self.duplicates += 1
        self._count(call_id, finished)
        return customer is not None

    def _count(self, call_id: str, finished: _Finished) -> None:
        """Count the call once both halves are known; from then on only its id is kept."""
        if finished.outcome is None or finished.queued_at is None:
            return
        assert finished.at is not None
        self._finished[call_id] = None
        wait_s = (finished.at - finished.queued_at).total_seconds()
        if self.outcomes.add(finished.outcome, finished.at, wait_s):
            self.counted += 1

    def _remember(self, call_id: str, finished: _Finished) -> None:
        self._finished[call_id] = finished
        self._finished_order.append(call_id)
        if len(self._finished_order) > self._max_finished:
            del self._finished[self._finished_order.popleft()]

    # -- REST snapshot -----------------------------------------------------------------------

    def begin_snapshot(self) -> SnapshotToken:
        """Call right before requesting the REST queue snapshot; pass the token to reconcile."""
        self._next_token += 1
        self._pending[self._next_token] = self._seq
        return self._next_token

    def abort_snapshot(self, token: SnapshotToken) -> None:
        """The snapshot request failed: stop buffering for it."""
        self._pending.pop(token, None)
        self._trim_buffer()

    def reconcile(
        self,
        snapshot: Iterable[CustomerJoined],
        as_of: datetime,
        *,
        token: SnapshotToken | None = None,
    ) -> bool:
        """Make ``snapshot`` the waiting set, then re-apply the events buffered since ``token``.

        Without a token the snapshot is taken as the truth as of now, with no event in flight.
        Returns False (and changes nothing) when the token is unknown, was aborted, was
        superseded or was invalidated by a buffer overflow. The first response to arrive
        retires every other request in flight, older or newer: the server may answer them in
        any order, so a later response can hold older data than the one just applied, and
        whatever a newer request would add arrives as live events anyway.
        ``first_seen`` is kept for calls already known and is ``as_of`` for new ones.
        """
        replay: list[QueueEvent] = []
        if token is not None:
            since = self._pending.get(token)
            if since is None:
                self.stale_snapshots += 1
                return False
            replay = [event for seq, event in self._buffer if seq > since]
            self._pending.clear()
            self._trim_buffer()
        previous = self._waiting
        rejoined = {e.call_id for e in replay if type(e) is CustomerJoined}
        self._waiting = {}
        for item in snapshot:
            known = previous.get(item.call_id)
            self._waiting[item.call_id] = WaitingCustomer(
                item.call_id,
                item.department_id,
                item.customer_name,
                item.reason,
                item.queued_at,
                item.position,
                known.first_seen if known is not None else as_of,
                item.customer_email,
                item.customer_phone,
            )
            self._number(item.call_id)  # known calls keep their place, new ones queue up
        for call_id, customer in previous.items():
            # Gone while we were not looking: how it ended is unknown (yet).
            gone = call_id not in self._waiting and call_id not in rejoined
            if gone and call_id not in self._finished:
                self._remember(call_id, _Finished(customer.queued_at, None, None))
        self._version += 1
        for event in replay:
            self._apply(event, as_of, previous)
        self._arrival = {call_id: self._arrival[call_id] for call_id in self._waiting}
        return True

    def _trim_buffer(self) -> None:
        if not self._pending:
            self._buffer.clear()
            return
        oldest = min(self._pending.values())
        buffer = self._buffer
        while buffer and buffer[0][0] <= oldest:
            buffer.popleft()

    # -- history backfill --------------------------------------------------------------------

    def backfill(self, records: Iterable[CallRecord]) -> int:
        """Count the finished calls of the window from REST; returns how many new answers and
        abandons reached the metrics window.

        A record with ``assigned_at`` was answered (wait = ``assigned_at - queued_at``, or
        ``wait_s``); ``missed`` is an abandon ending at ``ended_at`` (or ``queued_at + wait_s``);
        other finished statuses only mark the call finished; ``queued`` records are left to
        ``reconcile``. Calls already counted from live events are skipped, and vice versa.
        """
        counted_before = self.counted
        for record in records:
            if record.department_id != self.department_id:
                self.foreign_records += 1
                continue
            if record.status == "queued" and record.assigned_at is None:
                continue
            ending = _record_ending(record)
            if ending is None:
                continue
            outcome, at, queued_at = ending
            self._finish(record.call_id, outcome, at, queued_at)
        return self.counted - counted_before


def _record_ending(record: CallRecord) -> tuple[Outcome, datetime, datetime | None] | None:
    """(outcome, end time, queued_at) of a finished REST call, or None if it has no end time.

    Timestamps win over ``wait_s`` so backfilled waits match the ones live events give;
    ``wait_s`` only fills in a missing ``queued_at`` or end time.
    """
    queued_at, wait = record.queued_at, record.wait_s
    if record.assigned_at is not None:
        outcome, at = Outcome.ANSWERED, record.assigned_at
    else:
        outcome = Outcome.ABANDONED if record.status == "missed" else Outcome.NEUTRAL
        if record.ended_at is not None:
            at = record.ended_at
        elif queued_at is not None and wait is not None:
            at = queued_at + timedelta(seconds=wait)
        else:
            return None
    if queued_at is None and wait is not None:
        queued_at = at - timedelta(seconds=wait)
    return outcome, at, queued_at
