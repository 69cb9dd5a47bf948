"""Session logic with a fake clock and an in-memory transport (pure logic, no network).

The HTTP behaviour itself is tested against voki-sim in ``test_client_sim.py``; here the
transport only lets us hold a refresh open, count requests and fail on purpose.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine

import httpx
import jwt
import pytest

from voki_tui.api.client import VokiClient
from voki_tui.api.errors import AuthError, NetworkError, RateLimitedError
from voki_tui.api.ratelimit import AuthRateGuard
from voki_tui.api.session import Session

NOW = 1_800_000_000.0


def access(n: int, iat: float = NOW, ttl: float = 900) -> str:
    return jwt.encode(
        {"sub": "2", "tenant": "demo", "iat": int(iat), "exp": int(iat + ttl), "n": n},
        "test-secret-test-secret-test-secret",
        algorithm="HS256",
    )


class FakeServer:
    """Answers login/refresh/me; ``gate`` holds refresh answers until released."""

    def __init__(self) -> None:
        self.refreshes = 0
        self.gate = asyncio.Event()
        self.gate.set()
        self.fail_refresh: Callable[[], httpx.Response] | None = None
        self.issued = 0

    def pair(self, ttl: float = 900) -> dict[str, str]:
        self.issued += 1
        return {"access_token": access(self.issued, ttl=ttl), "refresh_token": f"r{self.issued}"}

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/api/auth/login":
            return httpx.Response(200, json={"data": {**self.pair(), "user": {"id": 2}}})
        if path == "/api/auth/refresh":
            self.refreshes += 1
            await self.gate.wait()
            if self.fail_refresh is not None:
                return self.fail_refresh()
            return httpx.Response(200, json={"data": self.pair()})
        if path == "/api/v1/users/me":
            return httpx.Response(200, json={"data": {"id": 2, "name": "S"}})
        return httpx.Response(404, json={"errors": {"detail": "Not found"}})


def make(server: FakeServer, clock: list[float], guard: AuthRateGuard | None = None) -> Session:
    handler: Callable[[httpx.Request], Coroutine[None, None, httpx.Response]] = server.__call__
    client = VokiClient(
        "http://voki.test",
        "demo",
        auth_guard=guard or AuthRateGuard(limit=1000),
        transport=httpx.MockTransport(handler),
    )
    return Session(client, "s@demo.test", clock=lambda: clock[0])


async def test_many_unauthorized_callers_share_one_refresh() -> None:
    server, clock = FakeServer(), [NOW]
    session = make(server, clock)
    await session.login("pw")
    stale = await session.access_token()
    server.gate.clear()
    waiters = [asyncio.create_task(session.on_unauthorized(stale)) for _ in range(25)]
    await asyncio.sleep(0)
    server.gate.set()
    tokens = await asyncio.gather(*waiters)
    assert server.refreshes == 1
    assert len(set(tokens)) == 1 and tokens[0] != stale
    # A late caller still holding the stale token does not refresh again.
    assert await session.on_unauthorized(stale) == tokens[0]
    assert server.refreshes == 1


async def test_a_cancelled_waiter_does_not_cancel_the_refresh() -> None:
    server, clock = FakeServer(), [NOW]
    session = make(server, clock)
    await session.login("pw")
    stale = await session.access_token()
    server.gate.clear()
    first = asyncio.create_task(session.on_unauthorized(stale))
    second = asyncio.create_task(session.on_unauthorized(stale))
    await asyncio.sleep(0.01)
    first.cancel()
    server.gate.set()
    assert await second != stale
    assert server.refreshes == 1


@pytest.mark.parametrize(
    ("elapsed", "refreshed"), [(0, False), (830, False), (845, True), (900, True)]
)
async def test_refresh_ahead_of_expiry(elapsed: float, refreshed: bool) -> None:
    """15-minute tokens refresh in their last 60 s (10 % would be 90 s: the smaller wins)."""
    server, clock = FakeServer(), [NOW]
    session = make(server, clock)
    await session.login("pw")
    first = await session.access_token()
    clock[0] += elapsed
    assert (await session.access_token() != first) is refreshed
    assert server.refreshes == int(refreshed)


async def test_lifetime_is_measured_from_receipt_not_the_local_wall_clock() -> None:
    """A client clock 10 minutes ahead must not think a fresh token is nearly expired."""
    server, clock = FakeServer(), [NOW + 600]
    session = make(server, clock)
    await session.login("pw")
    first = await session.access_token()
    clock[0] += 300
    assert await session.access_token() == first
    assert server.refreshes == 0


async def test_failed_early_refresh_keeps_a_still_valid_token() -> None:
    server, clock = FakeServer(), [NOW]
    session = make(server, clock)
    await session.login("pw")
    first = await session.access_token()
    server.fail_refresh = lambda: httpx.Response(503)
    clock[0] += 870  # inside the margin, not expired
    assert await session.access_token() == first
    clock[0] += 40  # expired now: the failure surfaces
    with pytest.raises(Exception) as failed:
        await session.access_token()
    assert failed.type.__name__ == "ServerError"


async def test_refused_refresh_ends_the_session() -> None:
    server, clock = FakeServer(), [NOW]
    session = make(server, clock)
    await session.login("pw")
    stale = await session.access_token()
    server.fail_refresh = lambda: httpx.Response(401, json={"errors": {"detail": "revoked"}})
    with pytest.raises(AuthError):
        await session.on_unauthorized(stale)
    assert not session.logged_in
    with pytest.raises(AuthError):
        await session.access_token()


async def test_exhausted_auth_budget_raises_without_sending() -> None:
    server, clock = FakeServer(), [NOW]
    fake_mono = [0.0]
    guard = AuthRateGuard(limit=2, clock=lambda: fake_mono[0])
    session = make(server, clock, guard)
    await session.login("pw")
    stale = await session.access_token()
    await session.on_unauthorized(stale)  # second auth request: budget spent
    stale = await session.access_token()
    with pytest.raises(RateLimitedError) as limited:
        await session.on_unauthorized(stale)
    assert limited.value.retry_after > 50
    assert server.refreshes == 1


async def test_secrets_never_in_reprs_or_messages() -> None:
    server, clock = FakeServer(), [NOW]
    session = make(server, clock)
    await session.login("hunter2-password")
    token = await session.access_token()
    text = repr(session) + repr(session.client) + repr(session.identity)
    assert token not in text and "hunter2" not in text


async def test_network_failure_message_names_the_origin_only() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    client = VokiClient(
        "http://user:pw@voki.test:8080/base/",
        "demo",
        auth_guard=AuthRateGuard(limit=10),
        transport=httpx.MockTransport(refuse),
    )
    with pytest.raises(NetworkError) as failed:
        await client.login("a@b", "secret-pw")
    assert "voki.test:8080" in str(failed.value)
    assert "pw@" not in str(failed.value) and "secret-pw" not in str(failed.value)
