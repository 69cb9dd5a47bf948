"""The tolerant models: both documented shapes, the listed variations, and garbage."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pydantic
import pytest
from hypothesis import given
from hypothesis import strategies as st

from voki_tui.api.models import (
    AccessLink,
    Call,
    Department,
    LoginTokens,
    MFAChallenge,
    PageMeta,
    User,
    parse_timestamp,
)

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def test_rest_call_item_with_id_inserted_at_and_nested_customer() -> None:
    call = Call.model_validate(
        {
            "id": 42,
            "status": "queued",
            "department_id": 3,
            "department_name": "Sales",
            "user_id": None,
            "customer": {"name": "Ana", "email": "ana@x.test", "phone": 5511999},
            "reason": "billing",
            "inserted_at": "2026-03-01T12:00:00Z",
            "wait_time": "17",
            "rating": 4.5,
            "unknown_field": {"deep": [1, 2]},
        }
    )
    assert call.call_id == "42"
    assert call.department_id == "3"
    assert call.user_id is None
    assert (call.customer_name, call.customer_email, call.customer_phone) == (
        "Ana",
        "ana@x.test",
        "5511999",
    )
    assert call.queued_at == T0
    assert call.wait_time == 17
    assert call.rating == 4.5


def test_channel_customer_joined_payload() -> None:
    call = Call.model_validate(
        {
            "call_id": "c-9",
            "department_id": "3",
            "customer_name": "Bruno",
            "customer_email": None,
            "customer_phone": None,
            "reason": "[b]x[/b]",
            "position": 2,
            "queued_at": "2026-03-01T14:00:00+02:00",
            "estimated_wait_time": 30,
        }
    )
    assert call.call_id == "c-9"
    assert call.queued_at == T0  # offset converted to UTC
    assert call.queued_at is not None and call.queued_at.tzinfo is UTC
    assert call.position == 2
    assert call.reason == "[b]x[/b]"  # untrusted text kept verbatim
    assert call.status is None


def test_flat_fields_and_call_id_win_over_alternatives() -> None:
    call = Call.model_validate(
        {"call_id": "a", "id": "b", "customer_name": "Flat", "customer": {"name": "Nested"}}
    )
    assert (call.call_id, call.customer_name) == ("a", "Flat")


def test_unparseable_queue_time_falls_back_then_becomes_none() -> None:
    fallback = Call.model_validate(
        {"id": 1, "queued_at": "yesterday", "inserted_at": "2026-03-01T12:00:00Z"}
    )
    assert fallback.queued_at == T0
    nothing = Call.model_validate(
        {"id": 1, "queued_at": "yesterday", "assigned_at": [1], "completed_at": "x"}
    )
    assert nothing.queued_at is None and nothing.assigned_at is None
    assert nothing.completed_at is None


def test_unknown_status_and_odd_scalars_are_kept_or_dropped_not_fatal() -> None:
    call = Call.model_validate(
        {"id": "7", "status": "on_hold_v2", "customer_name": {"x": 1}, "duration": "long"}
    )
    assert call.status == "on_hold_v2"
    assert call.customer_name is None
    assert call.duration is None


@pytest.mark.parametrize(
    "garbage",
    [None, [], "call", 5, {}, {"customer_name": "no id"}, {"id": True}, {"id": ""}, {"id": [1]}],
)
def test_call_without_a_usable_id_is_rejected(garbage: Any) -> None:
    with pytest.raises(pydantic.ValidationError):
        Call.model_validate(garbage)


def test_user_with_departments_in_several_shapes() -> None:
    user = User.model_validate(
        {
            "id": 3,
            "name": "Júlia",
            "role": "attendant",
            "active": True,
            "mfa_enabled": False,
            "departments": [1, "2", {"id": 3, "name": "Support"}, None, {"name": "no id"}],
            "inserted_at": "2026-03-01T12:00:00Z",
        }
    )
    assert user.id == "3"
    assert user.departments is not None
    assert [(d.id, d.name) for d in user.departments] == [
        ("1", None),
        ("2", None),
        ("3", "Support"),
    ]
    assert User.model_validate({"id": 1, "departments": "all"}).departments is None
    assert User.model_validate({"id": 1}).departments is None


def test_login_answer_with_a_bad_user_still_gives_the_tokens() -> None:
    tokens = LoginTokens.model_validate(
        {"access_token": "a.b.c", "refresh_token": "r", "user": {"name": "no id"}}
    )
    assert tokens.user is None
    assert "a.b.c" not in repr(tokens) and "'r'" not in repr(tokens)
    with pytest.raises(pydantic.ValidationError):
        LoginTokens.model_validate({"access_token": "", "refresh_token": "r"})


def test_mfa_challenge_hides_its_token() -> None:
    challenge = MFAChallenge.model_validate({"mfa_required": True, "mfa_token": "secret-mfa"})
    assert challenge.mfa_token == "secret-mfa"
    assert "secret-mfa" not in repr(challenge)


def test_department_and_access_link_and_meta() -> None:
    dept = Department.model_validate(
        {"id": 5, "name": "Sales", "sector_id": 2, "max_wait_time": 120, "max_queue_size": "x"}
    )
    assert (dept.id, dept.sector_id, dept.max_wait_time, dept.max_queue_size) == (
        "5",
        "2",
        120,
        None,
    )
    link = AccessLink.model_validate(
        {"id": 1, "token": "tok-123", "url": "https://x/c/tok-123", "expires_at": "bad"}
    )
    assert link.expires_at is None
    assert "tok-123" not in repr(link)
    meta = PageMeta.model_validate({"current_page": 1, "total_pages": "3", "extra": 1})
    assert (meta.current_page, meta.total_pages, meta.total_count) == (1, 3, None)


def test_parse_timestamp_forms() -> None:
    assert parse_timestamp("2026-03-01T12:00:00Z") == T0
    assert parse_timestamp("2026-03-01T12:00:00") == T0  # naive taken as UTC
    assert parse_timestamp(T0.timestamp()) == T0
    bad: object
    for bad in ("", "  ", "2026-13-01", None, True, {}, float("inf")):
        assert parse_timestamp(bad) is None


@given(
    st.dictionaries(
        st.text(max_size=12),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
            lambda inner: (
                st.lists(inner, max_size=3)
                | st.dictionaries(st.text(max_size=5), inner, max_size=3)
            ),
            max_leaves=8,
        ),
        max_size=8,
    )
)
def test_any_json_object_either_parses_or_raises_validation_error(raw: dict[str, Any]) -> None:
    """Garbage never escapes as another exception type (which would crash the feed)."""
    for model in (Call, User, Department, AccessLink, PageMeta):
        try:
            item = model.model_validate(raw)
        except pydantic.ValidationError:
            continue
        if isinstance(item, Call):
            assert item.call_id
            assert item.queued_at is None or item.queued_at.tzinfo is UTC


@given(st.integers(min_value=-(2**62), max_value=2**62))
def test_int_and_string_ids_normalize_to_the_same_value(number: int) -> None:
    assert (
        Call.model_validate({"id": number}).call_id
        == Call.model_validate({"call_id": str(number)}).call_id
    )
