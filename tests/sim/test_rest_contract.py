"""REST contract of voki-sim: every status code and body of issue 2 and voki-api.md sections 1-4.

Written from the documentation only. Where voki-api.md marks a shape ASSUMED, voki-sim is
required to implement exactly that shape, so it is asserted exactly here too.
"""

from __future__ import annotations

import math
import re
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest

from voki_tui.sim.testing import SimHandle, running_sim

from .conftest import (
    ATTENDANT,
    HTTP_TIMEOUT,
    MANAGER,
    MFA_USER,
    PASSWORD,
    SECRET,
    SUPERVISOR,
    TENANT,
    Account,
    api_get,
    attendant_departments,
    is_uuid,
    login,
    resign,
    totp,
    wait_for,
)

ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
USER_FIELDS = {"id", "name", "email", "role", "avatar_url", "mfa_enabled"}
ME_FIELDS = USER_FIELDS | {"active", "locale", "inserted_at", "updated_at"}
DEPARTMENT_FIELDS = {
    "id",
    "name",
    "identifier",
    "description",
    "active",
    "sector_id",
    "max_queue_size",
    "max_wait_time",
    "user_count",
    "inserted_at",
    "updated_at",
}
CALL_FIELDS = {
    # DOC
    "id",
    "status",
    "department_id",
    "department_name",
    "user_id",
    "user_name",
    "customer_name",
    "customer_email",
    "customer_phone",
    # ASSUMED (voki-sim implements exactly these)
    "reason",
    "inserted_at",
    "assigned_at",
    "started_at",
    "completed_at",
    "wait_time",
    "duration",
    "rating",
}
CALL_STATUSES = {"queued", "active", "completed", "missed", "cancelled"}
ACCESS_LINK_FIELDS = {
    "id",
    "token",
    "url",
    "status",
    "department_id",
    "department_name",
    "expires_at",
}
VALIDATE_FIELDS = {
    "valid",
    "department_name",
    "company_name",
    "company_logo_url",
    "primary_color",
    "queue_size",
    "estimated_wait_time",
    "online_agents",
}
JOIN_FIELDS = {
    "call_id",
    "status",
    "position",
    "estimated_wait_time",
    "websocket_token",
    "websocket_url",
}


def post(sim: SimHandle, path: str, **kwargs: Any) -> httpx.Response:
    return httpx.post(f"{sim.url}/api/{path}", timeout=HTTP_TIMEOUT, **kwargs)


def get(sim: SimHandle, path: str, **kwargs: Any) -> httpx.Response:
    return httpx.get(f"{sim.url}/api/{path}", timeout=HTTP_TIMEOUT, **kwargs)


def assert_detail_error(response: httpx.Response, status: int) -> str:
    """``{"errors": {"detail": "<message>"}}`` with the given status (voki-api.md section 1)."""
    assert response.status_code == status, (response.status_code, response.text)
    body = response.json()
    assert set(body) == {"errors"}, body
    assert set(body["errors"]) == {"detail"}, body
    detail = body["errors"]["detail"]
    assert isinstance(detail, str) and detail, body
    return detail


def assert_field_errors(response: httpx.Response, fields: set[str]) -> None:
    """422 ``{"errors": {"<field>": ["<message>", ...]}}`` naming at least ``fields``."""
    assert response.status_code == 422, (response.status_code, response.text)
    errors = response.json()["errors"]
    assert fields <= set(errors), errors
    for field in fields:
        messages = errors[field]
        assert isinstance(messages, list) and messages, errors
        assert all(isinstance(m, str) and m for m in messages), errors


def assert_paged(response: httpx.Response) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """A documented list answer: ``data`` list plus integer paging ``meta``."""
    assert response.status_code == 200, (response.status_code, response.text)
    body = response.json()
    assert isinstance(body["data"], list), body
    meta = body["meta"]
    assert set(meta) >= {"current_page", "page_size", "total_pages", "total_count"}, meta
    for key in ("current_page", "page_size", "total_pages", "total_count"):
        assert type(meta[key]) is int, (key, meta)
    pages = math.ceil(meta["total_count"] / meta["page_size"])
    # An empty list has 0 pages, or 1 as Scrivener (Phoenix's usual paginator) reports it.
    assert meta["total_pages"] in ({0, 1} if pages == 0 else {pages}), meta
    return body["data"], meta


def parse_time(text: str) -> datetime:
    assert ISO_Z.match(text), text
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def all_calls(sim: SimHandle, account: Account, **params: Any) -> list[dict[str, Any]]:
    """Every page of ``GET /api/v1/calls`` for the given filters."""
    items: list[dict[str, Any]] = []
    page = 1
    while True:
        data, meta = assert_paged(
            api_get(sim, account, "calls", page=page, page_size=100, **params)
        )
        items.extend(data)
        if page >= max(1, meta["total_pages"]):
            assert len(items) == meta["total_count"], (len(items), meta)
            return items
        page += 1


def active_link(sim: SimHandle, account: Account, department_id: int) -> dict[str, Any]:
    links, _ = assert_paged(
        api_get(sim, account, "access-links", department_id=department_id, status="active")
    )
    assert links, f"no active access link for department {department_id}"
    return links[0]


# --- authentication -------------------------------------------------------------------------


def test_totp_matches_rfc6238_vector() -> None:
    # RFC 6238 appendix B, SHA1, T = 59 s: 94287082 (8 digits), so 287082 with 6 digits.
    secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # base32 of "12345678901234567890"
    assert totp(secret, at=59, digits=8) == "94287082"
    assert totp(secret, at=59) == "287082"


def test_login_answers_wrapped_data_with_user(paused_sim: SimHandle) -> None:
    response = post(
        paused_sim, "auth/login", json={"email": MANAGER, "password": PASSWORD, "tenant": TENANT}
    )
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert {"access_token", "refresh_token", "user"} <= set(data)
    user = data["user"]
    assert set(user) >= USER_FIELDS, user
    assert is_uuid(user["id"]), user
    assert user["email"] == MANAGER
    assert user["role"] == "manager"
    assert user["mfa_enabled"] is False
    header = jwt.get_unverified_header(data["access_token"])
    assert header["alg"] == "HS256"
    claims = jwt.decode(data["access_token"], SECRET, algorithms=["HS256"])
    assert {"sub", "tenant", "role", "exp"} <= set(claims)
    assert claims["sub"] == user["id"], "sub is the user's uuid"
    assert claims["tenant"] == TENANT
    assert claims["role"] == "manager"
    # Access tokens live 15 minutes by default (voki-api.md section 3).
    assert 800 < claims["exp"] - time.time() <= 905


@pytest.mark.parametrize(
    ("email", "role"),
    [(SUPERVISOR, "supervisor"), (ATTENDANT, "attendant")],
)
def test_login_roles(paused_sim: SimHandle, email: str, role: str) -> None:
    account = login(paused_sim, email)
    assert account.user["role"] == role
    assert jwt.decode(account.access_token, SECRET, algorithms=["HS256"])["role"] == role


@pytest.mark.parametrize(
    "body",
    [
        {"email": MANAGER, "password": "wrong-password", "tenant": TENANT},
        {"email": "nobody@demo.test", "password": PASSWORD, "tenant": TENANT},
    ],
    ids=["wrong-password", "unknown-email"],
)
def test_login_invalid_credentials_401(paused_sim: SimHandle, body: dict[str, str]) -> None:
    response = post(paused_sim, "auth/login", json=body)
    assert response.status_code == 401
    assert response.json() == {"errors": {"detail": "Invalid credentials"}}


@pytest.mark.parametrize(
    "missing", [{"email", "password", "tenant"}, {"email"}, {"password"}, {"tenant"}]
)
def test_login_missing_fields_422(paused_sim: SimHandle, missing: set[str]) -> None:
    full = {"email": MANAGER, "password": PASSWORD, "tenant": TENANT}
    body = {k: v for k, v in full.items() if k not in missing}
    assert_field_errors(post(paused_sim, "auth/login", json=body), missing)


def test_auth_rate_limit_429_with_retry_after() -> None:
    with running_sim(seed=7, auth_rate_limit=2, widget_rate_limit=1000, paused=True) as sim:
        body = {"email": MANAGER, "password": PASSWORD, "tenant": TENANT}
        assert post(sim, "auth/login", json=body).status_code == 200
        assert post(sim, "auth/login", json=body).status_code == 200
        limited = post(sim, "auth/login", json=body)
        assert limited.status_code == 429, limited.text
        retry_after = int(limited.headers["Retry-After"])
        assert 0 < retry_after <= 60
        # The limit covers every /api/auth/* endpoint, refresh included (voki-api.md section 3).
        refresh = post(sim, "auth/refresh", json={"refresh_token": "whatever"})
        assert refresh.status_code == 429
        assert int(refresh.headers["Retry-After"]) > 0


def mfa_secret(sim: SimHandle) -> str:
    """The MFA demo user's TOTP secret, which voki-sim prints at start (issue 2)."""
    secret = getattr(sim, "mfa_secret", None)
    assert isinstance(secret, str) and secret, "the sim handle exposes no mfa_secret"
    return secret


def test_mfa_flow(paused_sim: SimHandle) -> None:
    first = post(
        paused_sim, "auth/login", json={"email": MFA_USER, "password": PASSWORD, "tenant": TENANT}
    )
    assert first.status_code == 200, first.text
    data = first.json()["data"]
    assert data["mfa_required"] is True
    assert isinstance(data["mfa_token"], str) and data["mfa_token"]
    assert "access_token" not in data and "refresh_token" not in data
    token = data["mfa_token"]

    code = totp(mfa_secret(paused_sim))
    wrong = f"{(int(code) + 500_000) % 1_000_000:06d}"
    assert_detail_error(
        post(paused_sim, "auth/mfa/verify", json={"mfa_token": token, "code": wrong}), 401
    )
    assert_field_errors(post(paused_sim, "auth/mfa/verify", json={}), {"mfa_token", "code"})

    right = totp(mfa_secret(paused_sim))
    ok = post(paused_sim, "auth/mfa/verify", json={"mfa_token": token, "code": right})
    assert ok.status_code == 200, ok.text
    verified = ok.json()["data"]
    assert {"access_token", "refresh_token", "user"} <= set(verified)
    assert verified["user"]["email"] == MFA_USER
    assert verified["user"]["mfa_enabled"] is True
    me = httpx.get(
        f"{paused_sim.url}/api/v1/users/me",
        headers={"Authorization": f"Bearer {verified['access_token']}", "X-Tenant": TENANT},
        timeout=HTTP_TIMEOUT,
    )
    assert me.status_code == 200
    assert me.json()["data"]["email"] == MFA_USER


def test_refresh_rotates_and_old_token_dies(paused_sim: SimHandle) -> None:
    account = login(paused_sim, MANAGER)
    response = post(paused_sim, "auth/refresh", json={"refresh_token": account.refresh_token})
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert {"access_token", "refresh_token"} <= set(data)
    assert data["refresh_token"] != account.refresh_token
    fresh = Account(data["access_token"], data["refresh_token"], account.user)
    assert api_get(paused_sim, fresh, "users/me").status_code == 200
    assert_detail_error(
        post(paused_sim, "auth/refresh", json={"refresh_token": account.refresh_token}), 401
    )
    # The rotated token itself still works once.
    again = post(paused_sim, "auth/refresh", json={"refresh_token": fresh.refresh_token})
    assert again.status_code == 200, again.text


def test_refresh_garbage_401_and_missing_422(paused_sim: SimHandle) -> None:
    assert_detail_error(post(paused_sim, "auth/refresh", json={"refresh_token": "nope"}), 401)
    assert_field_errors(post(paused_sim, "auth/refresh", json={}), {"refresh_token"})


def test_logout_204_and_refresh_token_dead(paused_sim: SimHandle) -> None:
    account = login(paused_sim, MANAGER)
    response = post(
        paused_sim,
        "auth/logout",
        headers=account.headers(),
        json={"refresh_token": account.refresh_token},
    )
    assert response.status_code == 204, response.text
    assert response.content == b""
    assert_detail_error(
        post(paused_sim, "auth/refresh", json={"refresh_token": account.refresh_token}), 401
    )


# --- authorization and tenancy -----------------------------------------------------------------


@pytest.mark.parametrize("email", [MANAGER, SUPERVISOR, ATTENDANT])
def test_users_me(paused_sim: SimHandle, email: str) -> None:
    account = login(paused_sim, email)
    response = api_get(paused_sim, account, "users/me")
    assert response.status_code == 200, response.text
    me = response.json()["data"]
    # Exactly the documented fields: ``departments`` is undocumented (ASSUMED, optional), so
    # the sim leaves it out unless started with --me-departments.
    assert set(me) == ME_FIELDS, me
    assert me["id"] == account.user["id"]
    assert me["email"] == email
    assert me["active"] is True
    parse_time(me["inserted_at"])
    parse_time(me["updated_at"])


def test_users_me_departments_only_with_the_flag() -> None:
    with running_sim(seed=7, auth_rate_limit=1000, paused=True, me_departments=True) as sim:
        manager, attendant = login(sim, MANAGER), login(sim, ATTENDANT)
        me = api_get(sim, attendant, "users/me").json()["data"]
        assert set(me) == ME_FIELDS | {"departments"}, me
        names = {d["id"]: d["name"] for d in sim.state()["departments"]}
        listed = {d["id"]: d["name"] for d in me["departments"]}
        assert all(set(d) == {"id", "name"} for d in me["departments"]), me["departments"]
        assert set(listed) == attendant_departments(sim, manager, attendant)
        assert len(listed) == 2 and all(names[i] == n for i, n in listed.items())
        # A supervisor belongs to no department (they see them all): no list either.
        supervisor = login(sim, SUPERVISOR)
        assert "departments" not in api_get(sim, supervisor, "users/me").json()["data"]


def test_missing_bearer_401(paused_sim: SimHandle) -> None:
    response = httpx.get(
        f"{paused_sim.url}/api/v1/users/me", headers={"X-Tenant": TENANT}, timeout=HTTP_TIMEOUT
    )
    assert_detail_error(response, 401)


@pytest.mark.parametrize("kind", ["garbage", "forged", "expired", "other-tenant-claim"])
def test_bad_bearer_401(paused_sim: SimHandle, manager: Account, kind: str) -> None:
    tokens = {
        "garbage": "not-a-jwt",
        "forged": resign(manager.access_token, secret="some-other-key-long-enough-for-hs256"),
        "expired": resign(manager.access_token, exp=int(time.time()) - 60),
        # Token and header agree on a tenant that does not exist.
        "other-tenant-claim": resign(manager.access_token, tenant="nosuchtenant"),
    }
    tenant = "nosuchtenant" if kind == "other-tenant-claim" else TENANT
    response = httpx.get(
        f"{paused_sim.url}/api/v1/users/me",
        headers={"Authorization": f"Bearer {tokens[kind]}", "X-Tenant": tenant},
        timeout=HTTP_TIMEOUT,
    )
    assert_detail_error(response, 401)


def test_resigned_token_is_accepted(paused_sim: SimHandle, manager: Account) -> None:
    # Control for the refusals above: the same claims signed with the sim's secret pass.
    token = resign(manager.access_token)
    response = httpx.get(
        f"{paused_sim.url}/api/v1/users/me",
        headers={"Authorization": f"Bearer {token}", "X-Tenant": TENANT},
        timeout=HTTP_TIMEOUT,
    )
    assert response.status_code == 200, response.text


def test_tenant_mismatch_401(paused_sim: SimHandle, manager: Account) -> None:
    response = httpx.get(
        f"{paused_sim.url}/api/v1/users/me",
        headers={"Authorization": f"Bearer {manager.access_token}", "X-Tenant": "other-tenant"},
        timeout=HTTP_TIMEOUT,
    )
    assert_detail_error(response, 401)


@pytest.mark.parametrize("path", ["departments", "departments/{id}", "access-links"])
def test_attendant_forbidden_on_supervisor_resources(
    paused_sim: SimHandle, attendant: Account, department_ids: list[str], path: str
) -> None:
    response = api_get(paused_sim, attendant, path.format(id=department_ids[0]))
    assert_detail_error(response, 403)


def test_tokens_survive_restart() -> None:
    with running_sim(seed=7, auth_rate_limit=1000, secret=SECRET, paused=True) as sim:
        account = login(sim, MANAGER)
        sim.restart()
        assert api_get(sim, account, "users/me").status_code == 200


# --- departments -----------------------------------------------------------------------------


def test_departments_list(paused_sim: SimHandle, supervisor: Account) -> None:
    items, meta = assert_paged(api_get(paused_sim, supervisor, "departments", sort_by="name"))
    assert meta["current_page"] == 1
    assert meta["page_size"] == 20
    truth = paused_sim.state()["departments"]
    assert meta["total_count"] == len(truth)
    assert {d["id"] for d in items} == {d["id"] for d in truth}
    names = [d["name"] for d in items]
    assert names == sorted(names)
    for item in items:
        assert set(item) >= DEPARTMENT_FIELDS, item
        assert is_uuid(item["id"]), item
        assert is_uuid(item["sector_id"]), item
        assert type(item["max_wait_time"]) is int
        assert type(item["max_queue_size"]) is int
        assert type(item["user_count"]) is int
        parse_time(item["inserted_at"])


def test_departments_paging_and_clamp(paused_sim: SimHandle, manager: Account) -> None:
    everything, meta = assert_paged(api_get(paused_sim, manager, "departments", page_size=1000))
    assert meta["page_size"] == 100
    assert len(everything) == meta["total_count"] >= 2
    first, meta1 = assert_paged(api_get(paused_sim, manager, "departments", page=1, page_size=1))
    second, meta2 = assert_paged(api_get(paused_sim, manager, "departments", page=2, page_size=1))
    assert len(first) == len(second) == 1
    assert first[0]["id"] != second[0]["id"]
    assert meta1["total_pages"] == meta["total_count"]
    assert meta2["current_page"] == 2
    beyond, _ = assert_paged(
        api_get(paused_sim, manager, "departments", page=meta["total_count"] + 1, page_size=1)
    )
    assert beyond == []
    desc, _ = assert_paged(
        api_get(paused_sim, manager, "departments", sort_by="name", sort_order="desc")
    )
    assert [d["name"] for d in desc] == sorted((d["name"] for d in desc), reverse=True)


def test_department_get_and_404(
    paused_sim: SimHandle, manager: Account, department_ids: list[str]
) -> None:
    response = api_get(paused_sim, manager, f"departments/{department_ids[0]}")
    assert response.status_code == 200, response.text
    department = response.json()["data"]
    assert department["id"] == department_ids[0]
    assert set(department) >= DEPARTMENT_FIELDS
    assert_detail_error(api_get(paused_sim, manager, "departments/999999"), 404)
    assert_detail_error(api_get(paused_sim, manager, f"departments/{uuid.uuid4()}"), 404)


def test_department_users(
    paused_sim: SimHandle,
    manager: Account,
    attendant: Account,
    attendant_split: tuple[list[str], list[str]],
) -> None:
    mine, others = attendant_split
    assert len(mine) == 2, "the demo attendant belongs to exactly two departments"
    assert others, "there must be a department the attendant is not in"
    department_id = mine[0]
    members, meta = assert_paged(api_get(paused_sim, manager, f"departments/{department_id}/users"))
    for member in members:
        assert {"id", "name", "email", "role"} <= set(member), member
        assert is_uuid(member["id"]), member
    listed = api_get(paused_sim, manager, f"departments/{department_id}").json()["data"]
    assert listed["user_count"] == meta["total_count"]
    assert_detail_error(api_get(paused_sim, manager, "departments/999999/users"), 404)
    assert_detail_error(api_get(paused_sim, manager, f"departments/{uuid.uuid4()}/users"), 404)


# --- calls -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def history_sim() -> Iterator[SimHandle]:
    """A scenario run fast until it has a call history, then frozen, plus one known customer."""
    with running_sim(
        seed=11, speed=30, auth_rate_limit=1000, widget_rate_limit=1000, secret=SECRET
    ) as sim:
        manager = login(sim, MANAGER)

        def has_history() -> bool:
            items = api_get(sim, manager, "calls", page_size=100).json()["data"]
            statuses = {c["status"] for c in items}
            return len(items) >= 10 and bool(statuses - {"queued"}) and "queued" in statuses

        wait_for(has_history, timeout=30, interval=0.3)
        assert sim.control("POST", "pause").status_code < 300
        department = sim.state()["departments"][0]["id"]
        injected = sim.control(
            "POST",
            "customers",
            json={
                "department_id": department,
                "customer_name": "Quintessa Zorblatt",
                "reason": "x",
            },
        )
        assert injected.status_code < 300, injected.text
        yield sim


@pytest.fixture(scope="module")
def history_manager(history_sim: SimHandle) -> Account:
    return login(history_sim, MANAGER)


def test_calls_list_shape_and_default_order(
    history_sim: SimHandle, history_manager: Account
) -> None:
    items, meta = assert_paged(api_get(history_sim, history_manager, "calls"))
    assert meta["page_size"] == 20
    assert items
    for item in items:
        assert set(item) >= CALL_FIELDS, item
        uuid.UUID(item["id"])
        assert item["status"] in CALL_STATUSES
        assert is_uuid(item["department_id"]), item
        assert item["user_id"] is None or is_uuid(item["user_id"]), item
        parse_time(item["inserted_at"])
        assert item["wait_time"] is None or type(item["wait_time"]) is int
        assert item["duration"] is None or type(item["duration"]) is int
    times = [parse_time(i["inserted_at"]) for i in items]
    assert times == sorted(times, reverse=True), "default sort is inserted_at desc"


def test_calls_sort_asc(history_sim: SimHandle, history_manager: Account) -> None:
    items, _ = assert_paged(
        api_get(history_sim, history_manager, "calls", sort_by="inserted_at", sort_order="asc")
    )
    times = [parse_time(i["inserted_at"]) for i in items]
    assert times == sorted(times)


def test_calls_status_filter_partitions(history_sim: SimHandle, history_manager: Account) -> None:
    everything = all_calls(history_sim, history_manager)
    seen = {c["status"] for c in everything}
    assert len(seen) >= 2, seen
    total = 0
    for status in CALL_STATUSES:
        subset = all_calls(history_sim, history_manager, status=status)
        assert all(c["status"] == status for c in subset), status
        assert len(subset) == sum(1 for c in everything if c["status"] == status)
        total += len(subset)
    assert total == len(everything)


def test_calls_department_filter_and_queue_snapshot(
    history_sim: SimHandle, history_manager: Account
) -> None:
    for department in history_sim.state()["departments"]:
        subset = all_calls(history_sim, history_manager, department_id=department["id"])
        assert all(c["department_id"] == department["id"] for c in subset)
        queued = all_calls(
            history_sim,
            history_manager,
            status="queued",
            department_id=department["id"],
            sort_by="inserted_at",
            sort_order="asc",
        )
        # The REST snapshot of a queue is the sim's waiting list, in queue order.
        assert [c["id"] for c in queued] == department["waiting"]


def test_calls_user_filter(history_sim: SimHandle, history_manager: Account) -> None:
    assigned = [c for c in all_calls(history_sim, history_manager) if c["user_id"] is not None]
    assert assigned, "the scenario assigned no call"
    user_id = assigned[0]["user_id"]
    subset = all_calls(history_sim, history_manager, user_id=user_id)
    assert subset and all(c["user_id"] == user_id for c in subset)
    assert len(subset) == len([c for c in assigned if c["user_id"] == user_id])


def test_calls_date_filters(history_sim: SimHandle, history_manager: Account) -> None:
    everything = all_calls(history_sim, history_manager, sort_by="inserted_at", sort_order="asc")
    pivot = everything[len(everything) // 2]["inserted_at"]
    pivot_time = parse_time(pivot)
    after = all_calls(history_sim, history_manager, date_from=pivot)
    before = all_calls(history_sim, history_manager, date_to=pivot)
    assert after and all(parse_time(c["inserted_at"]) >= pivot_time for c in after)
    assert before and all(parse_time(c["inserted_at"]) <= pivot_time for c in before)
    assert len(after) < len(everything) or len(before) < len(everything)
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    # Two days back: the seeded history spans the last hour, which just after midnight UTC
    # reaches into yesterday.
    long_ago = (datetime.now(UTC) - timedelta(days=2)).date().isoformat()
    assert all_calls(history_sim, history_manager, date_from=tomorrow) == []
    assert all_calls(history_sim, history_manager, date_to=long_ago) == []


def test_calls_search(history_sim: SimHandle, history_manager: Account) -> None:
    found = all_calls(history_sim, history_manager, search="Zorblatt")
    assert [c["customer_name"] for c in found] == ["Quintessa Zorblatt"]
    assert all_calls(history_sim, history_manager, search="no-such-customer-xyz") == []


def test_calls_paging(history_sim: SimHandle, history_manager: Account) -> None:
    _, meta = assert_paged(api_get(history_sim, history_manager, "calls", page_size=2))
    assert meta["page_size"] == 2
    assert meta["total_count"] >= 3
    page1, _ = assert_paged(api_get(history_sim, history_manager, "calls", page=1, page_size=2))
    page2, _ = assert_paged(api_get(history_sim, history_manager, "calls", page=2, page_size=2))
    assert len(page1) == 2 and page2
    assert not {c["id"] for c in page1} & {c["id"] for c in page2}
    _, clamped = assert_paged(api_get(history_sim, history_manager, "calls", page_size=500))
    assert clamped["page_size"] == 100


def test_call_get_and_404(history_sim: SimHandle, history_manager: Account) -> None:
    item = all_calls(history_sim, history_manager)[0]
    response = api_get(history_sim, history_manager, f"calls/{item['id']}")
    assert response.status_code == 200, response.text
    call = response.json()["data"]
    assert call["id"] == item["id"]
    assert set(call) >= CALL_FIELDS
    assert_detail_error(api_get(history_sim, history_manager, f"calls/{uuid.uuid4()}"), 404)


def test_attendant_can_list_calls(history_sim: SimHandle) -> None:
    attendant = login(history_sim, ATTENDANT)
    assert_paged(api_get(history_sim, attendant, "calls"))


# --- access links and the public widget ---------------------------------------------------------


def test_access_links(
    paused_sim: SimHandle, supervisor: Account, department_ids: list[str]
) -> None:
    links, _ = assert_paged(api_get(paused_sim, supervisor, "access-links", page_size=100))
    for link in links:
        assert set(link) >= ACCESS_LINK_FIELDS, link
        assert is_uuid(link["id"]) and is_uuid(link["department_id"]), link
    for department_id in department_ids:
        filtered, _ = assert_paged(
            api_get(paused_sim, supervisor, "access-links", department_id=department_id)
        )
        assert filtered and all(x["department_id"] == department_id for x in filtered)
        active, _ = assert_paged(
            api_get(
                paused_sim,
                supervisor,
                "access-links",
                department_id=department_id,
                status="active",
            )
        )
        assert active, f"no active link for department {department_id}"
        assert all(x["status"] == "active" for x in active)


def test_widget_validate(
    paused_sim: SimHandle, manager: Account, department_ids: list[str]
) -> None:
    department_id = department_ids[0]
    link = active_link(paused_sim, manager, department_id)
    response = get(paused_sim, f"v1/call/{link['token']}/validate")
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert set(data) >= VALIDATE_FIELDS, data
    assert data["valid"] is True
    assert data["department_name"] == link["department_name"]
    truth = next(d for d in paused_sim.state()["departments"] if d["id"] == department_id)
    assert data["queue_size"] == len(truth["waiting"])
    assert type(data["estimated_wait_time"]) is int
    assert type(data["online_agents"]) is int
    assert_detail_error(get(paused_sim, "v1/call/no-such-token/validate"), 404)


def test_widget_join_and_status(
    paused_sim: SimHandle, manager: Account, department_ids: list[str]
) -> None:
    department_id = department_ids[-1]
    link = active_link(paused_sim, manager, department_id)
    before = next(d for d in paused_sim.state()["departments"] if d["id"] == department_id)
    assert_field_errors(post(paused_sim, f"v1/call/{link['token']}/join", json={}), {"name"})
    response = post(
        paused_sim,
        f"v1/call/{link['token']}/join",
        json={"name": "Widget Wanda", "email": "w@example.test", "phone": "+1", "reason": "help"},
    )
    assert response.status_code in (200, 201), response.text
    data = response.json()["data"]
    assert set(data) >= JOIN_FIELDS, data
    uuid.UUID(data["call_id"])
    assert data["status"] == "queued"
    assert data["position"] == len(before["waiting"]) + 1
    assert data["websocket_url"].startswith(("ws://", "wss://"))
    after = next(d for d in paused_sim.state()["departments"] if d["id"] == department_id)
    assert after["waiting"] == [*before["waiting"], data["call_id"]]

    status = get(paused_sim, f"v1/call/status/{data['call_id']}")
    assert status.status_code == 200, status.text
    assert status.json()["data"] == {
        "call_id": data["call_id"],
        "status": "queued",
        "position": data["position"],
    }
    assert_detail_error(get(paused_sim, f"v1/call/status/{uuid.uuid4()}"), 404)
    assert_detail_error(post(paused_sim, "v1/call/no-such-token/join", json={"name": "X"}), 404)
    queued = api_get(paused_sim, manager, f"calls/{data['call_id']}")
    assert queued.status_code == 200
    assert queued.json()["data"]["status"] == "queued"
    assert queued.json()["data"]["customer_name"] == "Widget Wanda"


def test_widget_rate_limit_429() -> None:
    with running_sim(
        seed=7, auth_rate_limit=1000, widget_rate_limit=2, secret=SECRET, paused=True
    ) as sim:
        manager = login(sim, MANAGER)
        token = active_link(sim, manager, sim.state()["departments"][0]["id"])["token"]
        assert get(sim, f"v1/call/{token}/validate").status_code == 200
        assert get(sim, f"v1/call/{token}/validate").status_code == 200
        limited = get(sim, f"v1/call/{token}/validate")
        assert limited.status_code == 429, limited.text
        assert int(limited.headers["Retry-After"]) > 0
        # Authenticated endpoints have no limit.
        assert api_get(sim, manager, "users/me").status_code == 200


# --- token revocation and the control endpoints ---------------------------------------------------


def test_revoke_kills_access_tokens_only() -> None:
    with running_sim(seed=7, auth_rate_limit=1000, secret=SECRET, paused=True) as sim:
        account = login(sim, MANAGER)
        assert sim.control("POST", "revoke").status_code < 300
        assert_detail_error(api_get(sim, account, "users/me"), 401)
        refreshed = post(sim, "auth/refresh", json={"refresh_token": account.refresh_token})
        assert refreshed.status_code == 200, refreshed.text
        data = refreshed.json()["data"]
        fresh = Account(data["access_token"], data["refresh_token"], account.user)
        assert api_get(sim, fresh, "users/me").status_code == 200


def test_revoke_all_kills_refresh_tokens_too() -> None:
    with running_sim(seed=7, auth_rate_limit=1000, secret=SECRET, paused=True) as sim:
        account = login(sim, MANAGER)
        assert sim.control("POST", "revoke-all").status_code < 300
        assert_detail_error(api_get(sim, account, "users/me"), 401)
        assert_detail_error(
            post(sim, "auth/refresh", json={"refresh_token": account.refresh_token}), 401
        )
        # A new login still works.
        assert api_get(sim, login(sim, MANAGER), "users/me").status_code == 200


def test_control_state_shape(paused_sim: SimHandle) -> None:
    response = paused_sim.control("GET", "state")
    assert response.status_code == 200
    state = response.json()
    assert set(state) >= {"departments"}
    assert state["departments"]
    for department in state["departments"]:
        assert {"id", "name", "waiting", "agents"} <= set(department)
        assert is_uuid(department["id"]), department
        for call_id in department["waiting"]:
            uuid.UUID(call_id)
        for agent in department["agents"]:
            assert {"user_id", "status", "devices"} <= set(agent)
            # The presence key (the user's uuid), so the ground truth compares directly with
            # what a Presence client lists.
            assert is_uuid(agent["user_id"]), agent
            assert type(agent["devices"]) is int and agent["devices"] >= 1


def test_control_customers_and_pause(paused_sim: SimHandle, department_ids: list[str]) -> None:
    department_id = department_ids[0]

    def waiting() -> list[str]:
        state = paused_sim.state()
        return next(d["waiting"] for d in state["departments"] if d["id"] == department_id)

    before = waiting()
    response = paused_sim.control(
        "POST",
        "customers",
        json={"department_id": department_id, "customer_name": "Control Carla", "reason": "r"},
    )
    assert response.status_code < 300, response.text
    after = waiting()
    assert after[: len(before)] == before and len(after) == len(before) + 1
    # Paused: the scenario must not move anything on its own.
    time.sleep(0.5)
    assert waiting() == after


def test_same_seed_same_world() -> None:
    """Issue 2: the scenario is seeded and deterministic (timestamps are wall-clock, so aside)."""

    def world(seed: int) -> list[Any]:
        with running_sim(seed=seed, paused=True) as sim:
            return [
                (
                    d["id"],
                    d["name"],
                    d["waiting"],
                    sorted((a["user_id"], a["status"], a["devices"]) for a in d["agents"]),
                )
                for d in sim.state()["departments"]
            ]

    assert world(5) == world(5)


def directory_ids(sim: SimHandle) -> dict[str, Any]:
    """Every directory id the documented REST API shows a manager, and the demo users' ids."""
    users = {email: login(sim, email).user["id"] for email in (MANAGER, SUPERVISOR, ATTENDANT)}
    manager = login(sim, MANAGER)
    departments = api_get(sim, manager, "departments", page_size=100).json()["data"]
    members = {
        d["id"]: sorted(
            u["id"]
            for u in api_get(sim, manager, f"departments/{d['id']}/users", page_size=100).json()[
                "data"
            ]
        )
        for d in departments
    }
    links = api_get(sim, manager, "access-links", page_size=100).json()["data"]
    return {
        "users": users,
        "departments": sorted((d["name"], d["id"], d["sector_id"]) for d in departments),
        "members": members,
        "links": sorted((link["id"], link["department_id"]) for link in links),
    }


def test_ids_are_uuids_and_the_same_for_one_seed() -> None:
    """Voki's ids are uuids (``queue:department_uuid``); one seed gives one set of ids."""
    with running_sim(seed=5, auth_rate_limit=1000, paused=True) as sim:
        first = directory_ids(sim)
        state_ids = [d["id"] for d in sim.state()["departments"]]
    with running_sim(seed=5, auth_rate_limit=1000, paused=True) as sim:
        assert directory_ids(sim) == first
    with running_sim(seed=6, auth_rate_limit=1000, paused=True) as sim:
        other = directory_ids(sim)
    assert sorted(state_ids) == sorted(d[1] for d in first["departments"])
    ids = [
        *first["users"].values(),
        *first["members"],
        *(i for m in first["members"].values() for i in m),
    ]
    ids += [x for d in first["departments"] for x in d[1:]] + [
        x for link in first["links"] for x in link
    ]
    assert ids and all(is_uuid(i) for i in ids), ids
    assert set(first["users"].values()).isdisjoint(other["users"].values())
    assert {d[1] for d in first["departments"]}.isdisjoint(d[1] for d in other["departments"])


@pytest.mark.parametrize(
    "department_id",
    [1, "1", True, None, "not-a-uuid", "00000000-0000-4000-8000-000000000000"],
    ids=["int", "digit-string", "bool", "null", "text", "unknown-uuid"],
)
def test_control_customers_takes_a_department_uuid(
    paused_sim: SimHandle, department_id: object
) -> None:
    response = paused_sim.control(
        "POST", "customers", json={"department_id": department_id, "customer_name": "Nobody"}
    )
    assert_field_errors(response, {"department_id"})


def test_id_filters_take_uuids(history_sim: SimHandle, history_manager: Account) -> None:
    for path, name in (
        ("calls", "department_id"),
        ("calls", "user_id"),
        ("access-links", "department_id"),
    ):
        assert_field_errors(api_get(history_sim, history_manager, path, **{name: "1"}), {name})
        unknown = api_get(history_sim, history_manager, path, **{name: str(uuid.uuid4())})
        assert assert_paged(unknown)[0] == [], (path, name)


def test_control_rate_and_resume() -> None:
    with running_sim(seed=7, auth_rate_limit=1000, secret=SECRET, paused=True) as sim:
        frozen = sim.state()
        assert sim.control("POST", "rate", params={"events_per_second": 50}).status_code < 300
        assert sim.control("POST", "resume").status_code < 300
        wait_for(lambda: sim.state() != frozen, timeout=10)
        assert sim.control("POST", "pause").status_code < 300
        # Let an in-flight step finish, then the state must stay put.
        time.sleep(0.3)
        still = sim.state()
        time.sleep(0.5)
        assert sim.state() == still
