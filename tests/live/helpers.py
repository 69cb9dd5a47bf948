"""Small builders shared by the reducer tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from voki_tui.live.events import CallAssigned, CustomerJoined, CustomerLeft

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DEPT = "d1"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def joined(call_id: str, queued_s: float = 0.0, name: str = "Ann") -> CustomerJoined:
    return CustomerJoined(call_id, DEPT, name, "billing", at(queued_s), None)


def left(call_id: str, at_s: float, reason: str = "abandoned") -> CustomerLeft:
    return CustomerLeft(call_id, DEPT, reason, at(at_s))


def assigned(call_id: str, at_s: float) -> CallAssigned:
    return CallAssigned(call_id, DEPT, "u1", "Bob", at(at_s))
