"""Session logic with a fake clock and an in-memory transport (pure logic, no network).

The HTTP behaviour itself is tested against voki-sim in ``test_client_sim.py``; here the
transport only lets us hold a refresh open, count requests and fail on purpose.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable, Coroutine
from pathlib import Path

import httpx
import jwt
import pytest

from voki_tui.api.client import VokiClient
from voki_tui.api.credentials import CredentialError, FixedPassword
from voki_tui.api.errors import NetworkError, RateLimitedError
from voki_tui.api.ratelimit import AuthRateGuard
from voki_tui.api.session import Session, SessionEnded
from voki_tui.api.tokens import TokenStore

NOW = 1_800_000_000.0


def access(n: int, iat: float = NOW, ttl: float = 900) -> str:
    return jwt.encode(
        {"sub": "2", "tenant": "demo", "iat": int(iat), "exp": int(iat + ttl), "n": n},
        "test-secret-test-secret-test-secret",
        algorithm="HS256",
    )


class FakeServer:
    """Answers login/refresh/me; ``gate`` holds refresh answers until released.

    ``password`` is the one login accepts; ``mfa`` makes login ask for a code instead.
    """

    def __init__(self) -> None:
        self.password = "pw"
        self.mfa = False
        self.now = NOW  # the server's clock: the ``iat`` of what it issues
        self.logins = 0
        self.refreshes = 0
        self.gate = asyncio.Event()
        self.gate.set()
        self.me_gate = asyncio.Event()  # holds /users/me answers until set
        self.me_gate.set()
        self.fail_refresh: Callable[[], httpx.Response] | None = None
        self.issued = 0

    def pair(self, ttl: float = 900) -> dict[str, str]:
        self.issued += 1
        token = access(self.issued, iat=self.now, ttl=ttl)
        return {"access_token": token, "refresh_token": f"r{self.issued}"}

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/api/auth/login":
            self.logins += 1
            if self.mfa:
                return httpx.Response(200, json={"data": {"mfa_required": True, "mfa_token": "m"}})
            if json.loads(request.content)["password"] != self.password:
                return httpx.Response(401, json={"errors": {"detail": "Invalid credentials"}})
            return httpx.Response(200, json={"data": {**self.pair(), "user": {"id": 2}}})
        if path == "/api/auth/refresh":
            self.refreshes += 1
            await self.gate.wait()
            if self.fail_refresh is not None:
                return self.fail_refresh()
            return httpx.Response(200, json={"data": self.pair()})
        if path == "/api/v1/users/me":
            await self.me_gate.wait()
            return httpx.Response(200, json={"data": {"id": 2, "name": "S"}})
        return httpx.Response(404, json={"errors": {"detail": "Not found"}})


async def wait_until(condition: Callable[[], bool], within: float) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


def make(
    server: FakeServer,
    clock: list[float],
    guard: AuthRateGuard | None = None,
    *,
    password: FixedPassword | None = None,
    store: TokenStore | None = None,
    seed: int = 0,
) -> Session:
    handler: Callable[[httpx.Request], Coroutine[None, None, httpx.Response]] = server.__call__
    client = VokiClient(
        "http://voki.test",
        "demo",
        auth_guard=guard or AuthRateGuard(limit=1000),
        transport=httpx.MockTransport(handler),
    )
    return Session(
        client,
        "s@demo.test",
        clock=lambda: clock[0],
        password=password,
        store=store,
        rng=random.Random(seed),
    )


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
    ("elapsed", "refreshed"), [(0, False), (625, False), (725, True), (900, True)]
)
async def test_refresh_ahead_of_expiry(elapsed: float, refreshed: bool) -> None:
    """15-minute tokens refresh at 70 to 80 % of their lifetime: after 10:30, by 12:00."""
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


async def test_refused_refresh_without_a_password_source_ends_the_session() -> None:
    server, clock = FakeServer(), [NOW]
    session = make(server, clock)
    await session.login("pw")
    stale = await session.access_token()
    server.fail_refresh = lambda: httpx.Response(401, json={"errors": {"detail": "revoked"}})
    with pytest.raises(SessionEnded, match="a person must log in"):
        await session.on_unauthorized(stale)
    assert not session.logged_in
    with pytest.raises(SessionEnded):
        await session.access_token()
    assert server.logins == 1


REVOKED = httpx.Response(401, json={"errors": {"detail": "revoked"}})


async def test_refused_refresh_logs_in_again_from_the_password_source() -> None:
    server, clock = FakeServer(), [NOW]
    session = make(server, clock, password=FixedPassword("pw"))
    await session.login("pw")
    stale = await session.access_token()
    server.fail_refresh = lambda: REVOKED
    fresh = await session.on_unauthorized(stale)
    assert fresh != stale and session.logged_in
    assert (server.logins, session.relogin_count) == (2, 1)


async def test_a_refused_password_is_not_sent_again_until_the_source_changes() -> None:
    """A wrong password in a file must not be sent once a minute for weeks (lockouts)."""

    class Changing:
        label = "--password-file test"
        value = "old-pw"

        async def read(self) -> str:
            return self.value

    source = Changing()
    server, clock = FakeServer(), [NOW]
    session = make(server, clock)
    session.password_source = source
    server.password = "new-pw"
    for _ in range(3):
        with pytest.raises(SessionEnded, match="was refused"):
            await session.login_from_source()
    assert server.logins == 1  # only the first try reached the server
    source.value = "new-pw"
    await session.login_from_source()
    assert server.logins == 2 and session.logged_in


async def test_an_mfa_account_or_an_unreadable_source_needs_a_person() -> None:
    class Broken:
        label = "--password-command"

        async def read(self) -> str:
            raise CredentialError("--password-command exited with status 1")

    server, clock = FakeServer(), [NOW]
    server.mfa = True
    session = make(server, clock, password=FixedPassword("pw"))
    with pytest.raises(SessionEnded, match="verification code"):
        await session.login_from_source()
    session.password_source = Broken()
    with pytest.raises(SessionEnded, match="exited with status 1"):
        await session.login_from_source()
    assert server.logins == 1


async def test_refresh_time_is_jittered_within_three_quarters_of_the_lifetime() -> None:
    """Boxes that logged in together must not refresh together."""
    due: set[float] = set()
    for seed in range(20):
        server, clock = FakeServer(), [NOW]
        session = make(server, clock, seed=seed)
        await session.login("pw")
        wait = session.refresh_due_in()
        assert wait is not None and 0.70 * 900 <= wait <= 0.80 * 900
        due.add(round(wait))
    assert len(due) > 10


async def test_a_second_process_adopts_the_pair_the_first_one_stored(tmp_path: Path) -> None:
    """Wallboard, watch and cron snapshot share one token file: only one of them refreshes,
    the others take the new pair from the file instead of spending a rotated token."""
    server, clock = FakeServer(), [NOW]
    store = TokenStore(tmp_path)
    first = make(server, clock, store=store)
    await first.login("pw")
    second = make(server, clock, store=store)
    assert await second.restore() is not None
    clock[0] += 800  # both are due
    server.now += 800
    token = await first.access_token()
    assert server.refreshes == 1
    assert await second.access_token() == token
    assert server.refreshes == 1 and second.adopted_count == 1


async def test_a_restore_never_puts_back_a_pair_another_process_has_rotated(
    tmp_path: Path,
) -> None:
    """A cron snapshot starts (reads r1, asks /users/me) while the wallboard rotates r1 -> r2.
    When the snapshot's restore ends, the file must still hold r2: writing back the r1 it read
    left a spent token for the next process, whose refresh was refused; that process forgot
    the session, and the next cron run found none ("not logged in")."""
    server, clock = FakeServer(), [NOW]
    store = TokenStore(tmp_path)
    wall = make(server, clock, store=store)
    await wall.login("pw")
    cron = make(server, clock, store=store)
    server.me_gate.clear()
    restoring = asyncio.create_task(cron.restore())
    await asyncio.sleep(0.05)  # the cron's /users/me is in flight with r1 in hand
    clock[0] += 800
    server.now += 800
    await wall.access_token()  # the wallboard rotates r1 -> r2 and stores r2
    assert server.refreshes == 1
    server.me_gate.set()
    assert await restoring is not None
    stored = store.load(wall.identity)
    assert stored is not None and stored.refresh_token == "r2"


async def test_refreshes_of_two_processes_at_once_send_one_request(tmp_path: Path) -> None:
    server, clock = FakeServer(), [NOW]
    store = TokenStore(tmp_path)
    first = make(server, clock, store=store)
    await first.login("pw")
    second = make(server, clock, store=store)
    await second.restore()
    clock[0] += 800
    server.now += 800
    server.gate.clear()
    one = asyncio.create_task(first.access_token())
    await asyncio.sleep(0.05)  # the first holds the lock, its request is in flight
    two = asyncio.create_task(second.access_token())
    await asyncio.sleep(0.1)
    server.gate.set()
    assert await one == await two
    assert server.refreshes == 1


async def test_keep_fresh_refreshes_when_due_and_retries_a_server_that_is_down() -> None:
    server, clock = FakeServer(), [NOW]
    session = make(server, clock)
    await session.login("pw")
    first = await session.access_token()
    clock[0] += 850
    failures = [httpx.Response(503), httpx.Response(503)]
    server.fail_refresh = lambda: (
        failures.pop(0) if failures else httpx.Response(200, json={"data": server.pair()})
    )
    keeper = asyncio.create_task(session.keep_fresh())
    try:
        await wait_until(lambda: session.refresh_count > 0, within=10)
    finally:
        keeper.cancel()
    assert server.refreshes == 3 and await session.access_token() != first


async def test_keep_fresh_ends_with_session_ended_when_only_a_person_can_help() -> None:
    server, clock = FakeServer(), [NOW]
    session = make(server, clock)
    await session.login("pw")
    clock[0] += 850
    server.fail_refresh = lambda: REVOKED
    with pytest.raises(SessionEnded):
        async with asyncio.timeout(5):
            await session.keep_fresh()


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
    server.password = "hunter2-password"
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


async def test_processes_starting_together_log_in_once_between_them(tmp_path: Path) -> None:
    """A box boots a wallboard, a watch and a cron job at once with a password source and no
    stored session: one logs in and stores it, the others take it from the store (three
    logins would be three of the server's five a minute)."""
    server, clock = FakeServer(), [NOW]
    store = TokenStore(tmp_path)
    sessions = [make(server, clock, store=store, password=FixedPassword("pw")) for _ in range(3)]
    users = await asyncio.gather(*(session.sign_in() for session in sessions))
    assert all(user is not None for user in users)
    assert server.logins == 1
    tokens = {await session.access_token() for session in sessions}
    assert len(tokens) == 1


async def test_after_a_refusal_only_a_pair_saved_since_is_taken_from_the_store(
    tmp_path: Path,
) -> None:
    """Seen in the soak: the server's clock went back, so every token it had issued was
    refused; one process took a pair another had saved earlier (refused too), and its socket
    stayed refused for minutes. After a refusal, a stored pair older than the refusal gives
    only its refresh token, and the refresh reaches the server."""
    server, clock = FakeServer(), [NOW]
    store = TokenStore(tmp_path)
    first = make(server, clock, store=store)
    await first.login("pw")
    second = make(server, clock, store=store)
    await second.restore()
    own = await second.access_token()
    clock[0] += 800
    server.now += 800
    saved_earlier = await first.access_token()  # refreshes and saves a newer pair
    assert server.refreshes == 1
    clock[0] += 1
    fresh = await second.on_unauthorized(own)  # the server refuses every token it issued
    assert fresh not in (own, saved_earlier)
    assert server.refreshes == 2  # a refresh that reached the server, not the stored pair


async def test_a_pair_saved_while_our_refresh_waited_out_a_429_is_taken(tmp_path: Path) -> None:
    """Seen in the soak (a 429 storm with every access token revoked): a process whose
    refresh after the refusal got 429 asked again every few seconds; each ask re-stamped the
    refusal, so the pair another process saved meanwhile looked older than it and was passed
    over for one more refresh, 429 again, and the wallboard was live 47 s after the server's
    budget had freed. The refusal is dated once per token: the newer pair is taken at once."""
    server, clock = FakeServer(), [NOW]
    store = TokenStore(tmp_path)
    first = make(server, clock, store=store)
    await first.login("pw")
    second = make(server, clock, store=store)
    await second.restore()
    revoked = await second.access_token()
    server.fail_refresh = lambda: httpx.Response(
        429, headers={"Retry-After": "30"}, json={"errors": {"detail": "Too many requests"}}
    )
    with pytest.raises(RateLimitedError):
        await second.on_unauthorized(revoked)  # refused; its refresh is rate limited
    server.fail_refresh = None
    clock[0] += 5
    server.now += 5
    await first.refresh()  # the other process's refresh gets through and is saved
    saved = await first.access_token()
    refreshes = server.refreshes
    clock[0] += 5
    assert await second.on_unauthorized(revoked) == saved  # asked again: the saved pair
    assert server.refreshes == refreshes
