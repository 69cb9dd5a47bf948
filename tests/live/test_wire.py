"""``voki_tui.live.wire``: every payload variation of voki-api.md section 5, and refusals."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voki_tui.api import models
from voki_tui.live import wire
from voki_tui.live.events import CallAssigned, CustomerJoined, CustomerLeft

RECEIVED = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
QUEUED = datetime(2026, 3, 2, 9, 28, 4, tzinfo=UTC)

JOINED: dict[str, Any] = {
    "call_id": "c-1",
    "department_id": 42,
    "customer_name": "Ana Souza",
    "customer_email": "ana@example.com",
    "customer_phone": "+55 11 99999-0000",
    "reason": "Segunda via de boleto",
    "position": 3,
    "queued_at": "2026-03-02T09:28:04Z",
    "estimated_wait_time": 120,
}


# -- customer_joined ------------------------------------------------------------------------


def test_customer_joined_as_voki_sim_sends_it() -> None:
    event = wire.customer_joined(JOINED, "42", RECEIVED)
    assert event == CustomerJoined(
        "c-1",
        "42",
        "Ana Souza",
        "Segunda via de boleto",
        QUEUED,
        3,
        customer_email="ana@example.com",
        customer_phone="+55 11 99999-0000",
    )


@pytest.mark.parametrize(
    "variation",
    [
        {"id": "c-1", "call_id": None},  # ``id`` for ``call_id``
        {"call_id": None, "id": "c-1"},
        {"customer_name": None, "customer": {"name": "Ana Souza", "email": "a@b.c"}},
        {"department_id": "42"},  # string id
        {"department_id": None},  # absent department: the topic decides
        {"extra": {"nested": [1, 2]}, "status": "queued"},  # unknown fields ignored
        {"queued_at": None, "inserted_at": "2026-03-02T09:28:04Z"},  # REST spelling
        {"queued_at": "2026-03-02T06:28:04-03:00"},  # an offset instead of Z
    ],
)
def test_customer_joined_tolerates_documented_variations(variation: dict[str, Any]) -> None:
    payload = {k: v for k, v in {**JOINED, **variation}.items() if v is not None}
    event = wire.customer_joined(payload, "42", RECEIVED)
    assert (event.call_id, event.department_id, event.customer_name) == ("c-1", "42", "Ana Souza")
    assert event.queued_at == QUEUED


def test_customer_joined_int_call_id_becomes_text() -> None:
    assert wire.customer_joined({**JOINED, "call_id": 7}, "42", RECEIVED).call_id == "7"


def test_customer_joined_without_time_or_name_uses_receipt_time_and_a_placeholder() -> None:
    event = wire.customer_joined({"call_id": "c-2"}, "42", RECEIVED)
    assert event == CustomerJoined("c-2", "42", wire.NO_NAME, None, RECEIVED, None)


def test_customer_joined_with_a_bad_timestamp_or_position_degrades_not_fails() -> None:
    event = wire.customer_joined(
        {**JOINED, "queued_at": "yesterday-ish", "position": "first"}, "42", RECEIVED
    )
    assert event.queued_at == RECEIVED
    assert event.position is None


def test_unknown_reason_is_kept_verbatim() -> None:
    event = wire.customer_joined({**JOINED, "reason": "🚀 weird reason"}, "42", RECEIVED)
    assert event.reason == "🚀 weird reason"


@pytest.mark.parametrize(
    "payload",
    [
        {},  # no id at all
        {"customer_name": "No id"},
        {"call_id": ""},
        {"call_id": None, "id": None},
        {"call_id": {"nested": 1}},
        {"call_id": True},
        {"call_id": [1]},
        {**JOINED, "department_id": 7},  # filed on the wrong topic
    ],
)
@pytest.mark.parametrize("parser", list(wire.QUEUE_PARSERS.values()))
def test_unusable_queue_payloads_raise_invalid_payload(
    payload: dict[str, Any], parser: Any
) -> None:
    with pytest.raises(wire.InvalidPayload) as caught:
        parser(payload, "42", RECEIVED)
    assert "No id" not in str(caught.value)  # the message never quotes the payload


# -- customer_left and call_assigned ----------------------------------------------------------


@pytest.mark.parametrize("reason", ["abandoned", "cancelled", "missed", "transferred-elsewhere"])
def test_customer_left_keeps_the_reason(reason: str) -> None:
    payload = {"call_id": "c-1", "department_id": 42, "reason": reason}
    assert wire.customer_left(payload, "42", RECEIVED) == CustomerLeft(
        "c-1", "42", reason, RECEIVED
    )


def test_customer_left_without_reason_is_unknown_and_accepts_id() -> None:
    event = wire.customer_left({"id": 9}, "42", RECEIVED)
    assert (event.call_id, event.reason, event.at) == ("9", "unknown", RECEIVED)


def test_call_assigned_as_voki_sim_sends_it() -> None:
    payload = {
        "call_id": "c-1",
        "department_id": 42,
        "user_id": 17,
        "user_name": "Bruno Lima",
        "assigned_at": "2026-03-02T09:29:00Z",
    }
    assert wire.call_assigned(payload, "42", RECEIVED) == CallAssigned(
        "c-1", "42", "17", "Bruno Lima", datetime(2026, 3, 2, 9, 29, tzinfo=UTC)
    )


def test_call_assigned_without_agent_or_time() -> None:
    event = wire.call_assigned({"call_id": "c-1"}, "42", RECEIVED)
    assert (event.user_id, event.user_name, event.assigned_at) == (None, None, RECEIVED)


@given(
    st.dictionaries(
        st.sampled_from(["call_id", "id", "department_id", "customer_name", "queued_at", "reason"]),
        st.one_of(st.none(), st.integers(), st.text(max_size=8), st.booleans(), st.floats()),
    ),
    st.sampled_from(sorted(wire.QUEUE_PARSERS)),
)
def test_any_payload_parses_or_raises_invalid_payload_only(
    payload: dict[str, Any], event: str
) -> None:
    """Bad input is counted, never a crash: the only exception allowed is InvalidPayload."""
    try:
        parsed = wire.QUEUE_PARSERS[event](payload, "42", RECEIVED)
    except wire.InvalidPayload:
        return
    assert parsed.call_id and parsed.department_id == "42"


# -- REST items --------------------------------------------------------------------------------


def test_queued_item_from_a_rest_call() -> None:
    call = models.Call.model_validate(
        {
            "id": 5,
            "status": "queued",
            "department_id": 42,
            "customer": {"name": "Caio"},
            "inserted_at": "2026-03-02T09:28:04Z",
        }
    )
    assert wire.queued_item(call, "42", RECEIVED) == CustomerJoined(
        "5", "42", "Caio", None, QUEUED, None
    )


def test_queued_item_without_time_or_name() -> None:
    call = models.Call.model_validate({"id": "c"})
    item = wire.queued_item(call, "42", RECEIVED)
    assert (item.customer_name, item.queued_at) == (wire.NO_NAME, RECEIVED)


def test_call_record_for_backfill() -> None:
    call = models.Call.model_validate(
        {
            "id": "c",
            "status": "completed",
            "inserted_at": "2026-03-02T09:28:04Z",
            "assigned_at": "2026-03-02T09:29:00Z",
            "completed_at": "2026-03-02T09:40:00Z",
            "wait_time": 56,
        }
    )
    record = wire.call_record(call, "42", LATER)
    assert (record.department_id, record.status, record.queued_at, record.wait_s) == (
        "42",
        "completed",
        QUEUED,
        56.0,
    )
    assert record.ended_at == datetime(2026, 3, 2, 9, 40, tzinfo=UTC)
    assert (
        wire.call_record(models.Call.model_validate({"id": "d"}), "42", LATER).status == "unknown"
    )


def test_department_from_rest() -> None:
    item = models.Department.model_validate(
        {"id": 3, "name": "Suporte", "max_queue_size": 10, "max_wait_time": 300}
    )
    department = wire.department(item, sla_threshold_s=30)
    assert (department.id, department.name, department.max_wait_time) == ("3", "Suporte", 300)
    assert department.sla_threshold_s == 30
    assert wire.department(models.Department.model_validate({"id": 4})).name == "#4"


# -- notifications -----------------------------------------------------------------------------


def test_new_notification() -> None:
    note = wire.notification(
        "new_notification",
        {
            "id": 1,
            "title": "Hi",
            "body": "There",
            "kind": "alert",
            "inserted_at": "2026-03-02T09:28:04Z",
        },
    )
    assert (note.id, note.kind, note.title, note.body, note.at) == (
        "1",
        "alert",
        "Hi",
        "There",
        QUEUED,
    )


def test_new_notification_defaults_and_refusal() -> None:
    assert wire.notification("new_notification", {"body": "only a body"}).kind == "info"
    with pytest.raises(wire.InvalidPayload):
        wire.notification("new_notification", {"id": 1, "kind": "alert"})


def test_appointment_reminder() -> None:
    note = wire.notification(
        "appointment_reminder",
        {
            "appointment_id": 8,
            "title": "Retorno",
            "scheduled_at": "2026-03-02T09:28:04Z",
            "department_id": 42,
        },
    )
    assert (note.id, note.kind, note.title, note.at) == (
        "8",
        "appointment_reminder",
        "Retorno",
        QUEUED,
    )


def test_an_empty_appointment_reminder_is_refused() -> None:
    with pytest.raises(wire.InvalidPayload):
        wire.notification("appointment_reminder", {"department_id": 42})
    assert wire.notification("appointment_reminder", {"title": "Retorno"}).at is None


LATER = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "stamp",
    [
        "9999-12-31T23:59:59Z",
        "0001-01-01T00:00:00Z",
        "2026-03-02T11:00:00Z",
        "2025-01-01T00:00:00Z",
    ],
)
def test_implausible_server_times_are_not_believed(stamp: str) -> None:
    """Seen: one assigned_at of 9999-12-31 wiped the metrics window until a restart, and one
    queued_at at the edge of the datetime range hid a whole queue. Such a time is replaced
    (queue) or dropped (history), and the event says so for the counters."""
    joined = wire.customer_joined(
        {"call_id": "c", "customer_name": "Ana", "queued_at": stamp}, "42", RECEIVED
    )
    assert joined.queued_at == RECEIVED and joined.suspect_time
    assigned = wire.call_assigned({"call_id": "c", "assigned_at": stamp}, "42", RECEIVED)
    assert assigned.assigned_at == RECEIVED and assigned.suspect_time
    record = wire.call_record(
        models.Call.model_validate({"id": "c", "assigned_at": stamp}), "42", RECEIVED
    )
    assert record.assigned_at is None and record.suspect_time


def test_plausible_times_are_kept_as_given() -> None:
    joined = wire.customer_joined(
        {"call_id": "c", "customer_name": "Ana", "queued_at": "2026-03-02T09:28:04Z"},
        "42",
        RECEIVED,
    )
    assert joined.queued_at == QUEUED and not joined.suspect_time
