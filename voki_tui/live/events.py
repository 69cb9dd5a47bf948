"""Domain events of a department's queue, already parsed from the wire or from REST.

The feed turns ``queue:{department_id}`` payloads and ``GET /api/v1/calls`` items into these
small frozen values, so the reducers never see JSON and can be tested without any I/O. Every
time is a timezone-aware UTC ``datetime``; a time the server gave that cannot be true (days in
the future, years in the past) is replaced or dropped at parsing, and the event says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class CustomerJoined:
    """``customer_joined``, or one item of a REST queue snapshot (``status=queued``)."""

    call_id: str
    department_id: str
    customer_name: str
    reason: str | None
    queued_at: datetime
    position: int | None = None
    suspect_time: bool = False  # the server's time was implausible; ``queued_at`` is ours
    customer_email: str | None = None
    customer_phone: str | None = None


@dataclass(frozen=True, slots=True)
class CustomerLeft:
    """``customer_left``. ``reason`` is kept verbatim (abandoned, cancelled, missed, ...).

    The wire payload carries no time, so ``at`` is when the feed received it (its clock).
    """

    call_id: str
    department_id: str
    reason: str
    at: datetime


@dataclass(frozen=True, slots=True)
class CallAssigned:
    """``call_assigned``: an agent took the call, so the customer stops waiting."""

    call_id: str
    department_id: str
    user_id: str | None
    user_name: str | None
    assigned_at: datetime
    suspect_time: bool = False  # the server's time was implausible; ``assigned_at`` is ours


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One call of the window from ``GET /api/v1/calls``, used to backfill the metrics.

    ``ended_at`` is when the call stopped waiting without being answered, or finished
    (the REST item's ``completed_at``); ``wait_s`` is the server's ``wait_time`` when given.
    """

    call_id: str
    department_id: str
    status: str
    queued_at: datetime | None
    assigned_at: datetime | None = None
    ended_at: datetime | None = None
    wait_s: float | None = None
    suspect_time: bool = False  # an implausible time of the server's was dropped (None)


QueueEvent = CustomerJoined | CustomerLeft | CallAssigned
