"""VokiClient and Session against the real voki-sim on loopback (no mocked network).

A recording relay (``wiretap``) sits between the client and voki-sim where a test needs to
count what went on the wire.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from voki_tui.api.client import VokiClient
from voki_tui.api.errors import (
    AuthError,
    ForbiddenError,
    MFARequired,
    NetworkError,
    NotFoundError,
    RateLimitedError,
    ValidationError,
)
from voki_tui.api.ratelimit import AuthRateGuard
from voki_tui.api.session import Session, unverified_claims
from voki_tui.api.tokens import TokenStore
from voki_tui.sim import DEMO_EMAILS, DEMO_PASSWORD, DEMO_TENANT
from voki_tui.sim.testing import InProcessSim, running_sim
from voki_tui.sim.totp import totp

from .wiretap import Wiretap, wiretap

SUPERVISOR = DEMO_EMAILS["supervisor"]
ATTENDANT = DEMO_EMAILS["attendant"]
MANAGER = DEMO_EMAILS["manager"]


def roomy_guard() -> AuthRateGuard:
    """A budget no test in this module reaches unless it means to."""
    return AuthRateGuard(limit=100)


@pytest.fixture
def paused_sim() -> Iterator[InProcessSim]:
    with running_sim(seed=7, auth_rate_limit=1000, widget_rate_limit=1000, paused=True) as s:
        yield s


@pytest.fixture
async def tap(paused_sim: InProcessSim) -> AsyncIterator[Wiretap]:
    async with wiretap(paused_sim.port) as relay:
        yield relay


async def logged_in(
    url: str, email: str, tmp_path: Path, guard: AuthRateGuard | None = None
) -> Session:
    client = VokiClient(url, DEMO_TENANT, auth_guard=guard or roomy_guard())
    session = Session(client, email, store=TokenStore(tmp_path / "state"))
    await session.login(DEMO_PASSWORD)
    return session


async def test_login_me_and_x_tenant_on_every_request(tap: Wiretap, tmp_path: Path) -> None:
    session = await logged_in(tap.url, SUPERVISOR, tmp_path)
    async with session.client:
        assert session.user is not None and session.user.role == "supervisor"
        me = await session.client.me()
        assert me.id == session.user.id and me.email == SUPERVISOR
        assert await session.client.departments()
        await session.client.calls(status="queued")
    requests = tap.requests()
    assert len(requests) >= 4
    for request in requests:
        assert request.headers.get("x-tenant") == DEMO_TENANT, request.target
        assert request.headers.get("user-agent", "").startswith("voki-tui/")
        if not request.path.startswith("/api/auth/"):
            assert request.headers.get("authorization", "").startswith("Bearer ")
    assert [r.path for r in tap.auth_requests()] == ["/api/auth/login"]


async def test_bad_password_and_missing_fields(paused_sim: InProcessSim) -> None:
    async with VokiClient(paused_sim.url, DEMO_TENANT, auth_guard=roomy_guard()) as client:
        with pytest.raises(AuthError) as bad:
            await client.login(SUPERVISOR, "wrong-password-123")
        assert "wrong-password-123" not in str(bad.value)
        assert bad.value.status == 401
        with pytest.raises(ValidationError) as invalid:
            await client.login("", "")
        assert set(invalid.value.fields) >= {"email", "password"}


async def test_mfa_login(paused_sim: InProcessSim, tmp_path: Path) -> None:
    client = VokiClient(paused_sim.url, DEMO_TENANT, auth_guard=roomy_guard())
    session = Session(client, DEMO_EMAILS["mfa"], store=TokenStore(tmp_path))
    async with client:
        with pytest.raises(MFARequired) as challenge:
            await session.login(DEMO_PASSWORD)
        mfa_token = challenge.value.mfa_token
        assert mfa_token not in repr(challenge.value) and mfa_token not in str(challenge.value)
        assert not session.logged_in
        secret = paused_sim.state()["mfa_totp_secret"]
        good = totp(secret)
        wrong = f"{(int(good) + 500_000) % 1_000_000:06d}"
        with pytest.raises(AuthError):
            await session.verify_mfa(mfa_token, wrong)
        user = await session.verify_mfa(mfa_token, totp(secret))
        assert user.email == DEMO_EMAILS["mfa"] and session.logged_in
        assert (await client.me()).id == user.id


async def test_departments_as_supervisor_match_ground_truth(
    paused_sim: InProcessSim, tmp_path: Path
) -> None:
    session = await logged_in(paused_sim.url, SUPERVISOR, tmp_path)
    async with session.client as client:
        departments = await client.departments()
        truth = {str(d["id"]): d["name"] for d in paused_sim.state()["departments"]}
        assert {d.id: d.name for d in departments} == truth
        first = departments[0]
        assert (await client.department(first.id)).name == first.name
        members = await client.department_users(first.id)
        assert members and all(m.id for m in members)
        with pytest.raises(NotFoundError):
            await client.department("987654")


async def test_attendant_cannot_list_departments(paused_sim: InProcessSim, tmp_path: Path) -> None:
    session = await logged_in(paused_sim.url, ATTENDANT, tmp_path)
    async with session.client as client:
        with pytest.raises(ForbiddenError) as refused:
            await client.departments()
        assert refused.value.status == 403
        assert await client.calls(status="queued") is not None  # calls stay allowed


async def test_calls_pager_walks_every_page(
    tap: Wiretap, paused_sim: InProcessSim, tmp_path: Path
) -> None:
    session = await logged_in(tap.url, MANAGER, tmp_path)
    async with session.client as client:
        everything = await client.calls()
        queued = await client.calls(status="queued")
    # The same list fetched independently (page_size 40) is the reference.
    async with httpx.AsyncClient(base_url=tap.url) as raw:
        token = await session.access_token()
        headers = {"Authorization": f"Bearer {token}", "X-Tenant": DEMO_TENANT}
        first = (await raw.get("/api/v1/calls", headers=headers, params={"page_size": 40})).json()
        reference: set[str] = set()
        for page in range(1, first["meta"]["total_pages"] + 1):
            body = await raw.get(
                "/api/v1/calls", headers=headers, params={"page_size": 40, "page": page}
            )
            reference |= {str(item["id"]) for item in body.json()["data"]}
    total = first["meta"]["total_count"]
    assert total > 200  # several pages of 100
    assert len(everything) == total
    assert {c.call_id for c in everything} == reference
    ours = [
        r for r in tap.requests() if r.path == "/api/v1/calls" and "page_size=40" not in r.target
    ]
    pages = [r for r in ours if "status" not in r.target]
    assert len(pages) == -(-total // 100)
    assert all("page_size=100" in r.target for r in ours)
    truth = {cid for d in paused_sim.state()["departments"] for cid in d["waiting"]}
    assert {c.call_id for c in queued} == truth
    assert all(c.status == "queued" and c.queued_at is not None for c in queued)


async def test_refresh_rotates_and_spends_the_old_token(
    paused_sim: InProcessSim, tmp_path: Path
) -> None:
    session = await logged_in(paused_sim.url, SUPERVISOR, tmp_path)
    store = TokenStore(tmp_path / "state")
    before = store.load(session.identity)
    assert before is not None
    async with session.client as client:
        await session.refresh()
        after = store.load(session.identity)
        assert after is not None and session.refresh_count == 1
        assert after.refresh_token != before.refresh_token
        assert after.access_token == await session.access_token() != before.access_token
        with pytest.raises(AuthError):
            await client.refresh(before.refresh_token)  # rotated: the old one is spent
        assert (await client.me()).email == SUPERVISOR


async def test_revoked_access_tokens_trigger_one_refresh_for_many_calls(
    tap: Wiretap, paused_sim: InProcessSim, tmp_path: Path
) -> None:
    session = await logged_in(tap.url, SUPERVISOR, tmp_path)
    async with session.client as client:
        old_access = await session.access_token()
        assert paused_sim.control("POST", "revoke").status_code == 200
        results = await asyncio.gather(*(client.me() for _ in range(20)))
        assert {u.email for u in results} == {SUPERVISOR}
        assert session.refresh_count == 1
        assert await session.access_token() != old_access
    assert [r.path for r in tap.auth_requests()] == ["/api/auth/login", "/api/auth/refresh"]


async def test_revoked_refresh_token_ends_the_session_and_forgets_it(
    paused_sim: InProcessSim, tmp_path: Path
) -> None:
    session = await logged_in(paused_sim.url, SUPERVISOR, tmp_path)
    store = TokenStore(tmp_path / "state")
    assert store.load(session.identity) is not None
    async with session.client as client:
        paused_sim.control("POST", "revoke-all")
        with pytest.raises(AuthError) as ended:
            await client.me()
        assert "a person must log in" in ended.value.message
        assert not session.logged_in
        assert store.load(session.identity) is None
        with pytest.raises(AuthError):
            await client.me()


async def test_token_is_refreshed_ahead_of_expiry(tmp_path: Path) -> None:
    with running_sim(seed=7, auth_rate_limit=1000, paused=True, access_ttl=30) as short:
        offset = [0.0]
        client = VokiClient(short.url, DEMO_TENANT, auth_guard=roomy_guard())
        session = Session(client, SUPERVISOR, clock=lambda: time.time() + offset[0])
        async with client:
            await session.login(DEMO_PASSWORD)
            first = await session.access_token()
            claims = unverified_claims(first)
            assert claims["exp"] - claims["iat"] == 30
            offset[0] = 20.0  # 10 s left: more than 10 % of 30 s, no refresh yet
            assert await session.access_token() == first
            offset[0] = 28.0  # 2 s left < 3 s (10 %): refreshed before any 401
            second = await session.access_token()
            assert second != first and session.refresh_count == 1
            assert (await client.me()).email == SUPERVISOR


async def test_restore_from_the_stored_refresh_token(
    paused_sim: InProcessSim, tmp_path: Path
) -> None:
    first = await logged_in(paused_sim.url, SUPERVISOR, tmp_path)
    await first.client.aclose()
    client = VokiClient(paused_sim.url, DEMO_TENANT, auth_guard=roomy_guard())
    again = Session(client, SUPERVISOR, store=TokenStore(tmp_path / "state"))
    async with client:
        user = await again.restore()
        assert user is not None and user.email == SUPERVISOR
        other = Session(
            VokiClient(paused_sim.url, "another-tenant", auth_guard=roomy_guard()),
            SUPERVISOR,
            store=TokenStore(tmp_path / "state"),
        )
        assert await other.restore() is None  # never the demo tenant's token
        await other.client.aclose()
    assert TokenStore(tmp_path / "state").last() == again.identity


async def test_logout_revokes_and_removes_the_stored_token(tap: Wiretap, tmp_path: Path) -> None:
    session = await logged_in(tap.url, SUPERVISOR, tmp_path)
    store = TokenStore(tmp_path / "state")
    stored = store.load(session.identity)
    assert stored is not None
    async with session.client as client:
        assert await session.logout() is True
        assert store.load(session.identity) is None
        assert not store.path_for(session.identity).exists()
        with pytest.raises(AuthError):
            await client.refresh(stored.refresh_token)  # spent on the server too
        with pytest.raises(AuthError):
            await client.me()
    assert "/api/auth/logout" in [r.path for r in tap.auth_requests()]


async def test_auth_guard_keeps_us_under_the_limit(tmp_path: Path) -> None:
    """The server allows 5 a minute; 12 attempts in a row put exactly 5 on the wire."""
    with running_sim(seed=7, auth_rate_limit=5, paused=True) as limited:
        async with wiretap(limited.port) as relay:
            client = VokiClient(relay.url, DEMO_TENANT, auth_guard=AuthRateGuard(limit=5))
            async with client:
                outcomes: list[str] = []
                for _ in range(12):
                    try:
                        await client.login(SUPERVISOR, DEMO_PASSWORD)
                        outcomes.append("ok")
                    except RateLimitedError as exc:
                        assert 0 < exc.retry_after <= 61
                        outcomes.append("limited")
            assert outcomes == ["ok"] * 5 + ["limited"] * 7
            assert len(relay.auth_requests()) == 5


async def test_server_429_is_honoured_no_storm(tmp_path: Path) -> None:
    """The server allows fewer than we budget: one 429, then its Retry-After holds us."""
    with running_sim(seed=7, auth_rate_limit=2, paused=True) as limited:
        async with wiretap(limited.port) as relay:
            client = VokiClient(relay.url, DEMO_TENANT, auth_guard=AuthRateGuard(limit=5))
            async with client:
                errors: list[RateLimitedError] = []
                for _ in range(20):
                    try:
                        await client.login(SUPERVISOR, DEMO_PASSWORD)
                    except RateLimitedError as exc:
                        errors.append(exc)
            assert len(errors) == 18
            assert errors[0].status == 429 and 0 < errors[0].retry_after <= 60
            assert len(relay.auth_requests()) == 3  # 2 accepted, one 429, then silence


async def test_unreachable_server_is_a_network_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with VokiClient(f"http://127.0.0.1:{port}", DEMO_TENANT) as client:
        with pytest.raises(NetworkError) as failed:
            await client.login(SUPERVISOR, DEMO_PASSWORD)
    assert str(failed.value) == f"Cannot reach http://127.0.0.1:{port}: connection refused"
    assert DEMO_PASSWORD not in str(failed.value)


async def test_unknown_host_is_a_network_error() -> None:
    async with VokiClient("http://voki.invalid", DEMO_TENANT, auth_guard=roomy_guard()) as client:
        with pytest.raises(NetworkError) as failed:
            await client.login(SUPERVISOR, DEMO_PASSWORD)
    assert str(failed.value).startswith("Cannot reach http://voki.invalid: ")
