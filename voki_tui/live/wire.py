"""From channel payloads and REST items to the domain events the reducers understand.

Tolerance lives in ``voki_tui.api.models`` (``id`` for ``call_id``, a nested ``customer``, ints
or strings for ids); this module decides what a payload must carry to be usable at all. A
payload that is not usable raises ``InvalidPayload`` with a short reason: the feed counts it,
logs it, and carries on. The topic's department is authoritative: an event whose own
``department_id`` names another department is refused rather than filed in the wrong queue.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from voki_tui.api import models
from voki_tui.live.events import (
    CallAssigned,
    CallRecord,
    CustomerJoined,
    CustomerLeft,
    QueueEvent,
)
from voki_tui.live.state import Department, Notification

NOTIFICATION_EVENTS = ("new_notification", "appointment_reminder")
NO_NAME = "(no name)"


class InvalidPayload(ValueError):
    """A payload that cannot be used; the message says why (never quoting the payload)."""


#: A server time this far ahead of the server's own "now" (the nodes of a cluster drift a
#: little), or older than ``MAX_AGE``, cannot be a queue's: it is not believed. One
#: ``assigned_at`` of 9999-12-31 once wiped the metrics window until a restart.
MAX_AHEAD = timedelta(minutes=5)
MAX_AGE = timedelta(days=7)


def plausible(moment: datetime | None, now: datetime) -> datetime | None:
    """``moment`` if a queue could have it at ``now`` (the server's clock), else None."""
    if moment is None or not now - MAX_AGE <= moment <= now + MAX_AHEAD:
        return None
    return moment


def _call(payload: Mapping[str, Any], department_id: str) -> models.Call:
    try:
        call = models.Call.model_validate(payload)
    except PydanticValidationError as exc:
        fields = sorted({str(error["loc"][0]) for error in exc.errors() if error["loc"]})
        raise InvalidPayload(f"invalid fields: {', '.join(fields) or 'payload'}") from None
    if call.department_id is not None and call.department_id != department_id:
        raise InvalidPayload(f"department_id {call.department_id!r} on the wrong topic")
    return call


def customer_joined(
    payload: Mapping[str, Any], department_id: str, received_at: datetime
) -> CustomerJoined:
    """``customer_joined``: the same call item as a queued REST one."""
    return queued_item(_call(payload, department_id), department_id, received_at)


def customer_left(
    payload: Mapping[str, Any], department_id: str, received_at: datetime
) -> CustomerLeft:
    call = _call(payload, department_id)
    return CustomerLeft(
        call_id=call.call_id,
        department_id=department_id,
        reason=call.reason if call.reason is not None else "unknown",
        at=received_at,
    )


def call_assigned(
    payload: Mapping[str, Any], department_id: str, received_at: datetime
) -> CallAssigned:
    call = _call(payload, department_id)
    assigned_at = plausible(call.assigned_at, received_at)
    return CallAssigned(
        call_id=call.call_id,
        department_id=department_id,
        user_id=call.user_id,
        user_name=call.user_name,
        assigned_at=assigned_at if assigned_at is not None else received_at,
        suspect_time=assigned_at is None and call.assigned_at is not None,
    )


QUEUE_PARSERS: dict[str, Callable[[Mapping[str, Any], str, datetime], QueueEvent]] = {
    "customer_joined": customer_joined,
    "customer_left": customer_left,
    "call_assigned": call_assigned,
}


def call_record(call: models.Call, department_id: str, now: datetime) -> CallRecord:
    """One REST call of the metrics window, for backfill (implausible times dropped)."""
    given = (call.queued_at, call.assigned_at, call.completed_at)
    queued_at, assigned_at, ended_at = (plausible(moment, now) for moment in given)
    return CallRecord(
        call_id=call.call_id,
        department_id=call.department_id if call.department_id is not None else department_id,
        status=call.status or "unknown",
        queued_at=queued_at,
        assigned_at=assigned_at,
        ended_at=ended_at,
        wait_s=float(call.wait_time) if call.wait_time is not None else None,
        suspect_time=(queued_at, assigned_at, ended_at) != given,
    )


def queued_item(call: models.Call, department_id: str, as_of: datetime) -> CustomerJoined:
    """A waiting customer from a call item; with no (believable) queue time, we first saw it
    ``as_of``."""
    queued_at = plausible(call.queued_at, as_of)
    return CustomerJoined(
        call_id=call.call_id,
        department_id=department_id,
        customer_name=call.customer_name if call.customer_name is not None else NO_NAME,
        reason=call.reason,
        queued_at=queued_at if queued_at is not None else as_of,
        position=call.position,
        suspect_time=queued_at is None and call.queued_at is not None,
        customer_email=call.customer_email,
        customer_phone=call.customer_phone,
    )


def _text(payload: Mapping[str, Any], key: str) -> str:
    value = payload.get(key)
    return "" if value is None else str(value)


def notification(event: str, payload: Mapping[str, Any]) -> Notification:
    """``new_notification`` or ``appointment_reminder`` as one toast-able value."""
    if event == "appointment_reminder":
        if not payload.get("title") and payload.get("scheduled_at") in (None, ""):
            raise InvalidPayload("appointment reminder without title or time")
        return Notification(
            id=_text(payload, "appointment_id"),
            kind="appointment_reminder",
            title=_text(payload, "title"),
            body=_text(payload, "scheduled_at"),
            at=models.parse_timestamp(payload.get("scheduled_at")),
        )
    title = _text(payload, "title")
    if not title and not payload.get("body"):
        raise InvalidPayload("notification without title or body")
    return Notification(
        id=_text(payload, "id"),
        kind=_text(payload, "kind") or "info",
        title=title,
        body=_text(payload, "body"),
        at=models.parse_timestamp(payload.get("inserted_at")),
    )


def department(item: models.Department, sla_threshold_s: int = 60) -> Department:
    """A REST department as the screens know it."""
    return Department(
        id=item.id,
        name=item.name if item.name is not None else f"#{item.id}",
        max_queue_size=item.max_queue_size,
        max_wait_time=item.max_wait_time,
        sla_threshold_s=sla_threshold_s,
        active=item.active is not False,
    )
