"""Security: tokens at rest, secrets out of logs/reprs/URLs, TLS, tenant isolation, logout.

Every test talks to a real voki-sim over loopback (or a TLS relay in front of it) with the real
client, session, token store and logging configuration.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from voki_tui.account import Account, AccountFeed
from voki_tui.api.client import VokiClient
from voki_tui.api.errors import AuthError, TLSError
from voki_tui.api.models import LoginTokens
from voki_tui.api.session import Session
from voki_tui.api.tokens import Identity, StoredTokens, TokenStore
from voki_tui.logs import configure_logging
from voki_tui.settings import Settings
from voki_tui.sim import DEMO_PASSWORD, DEMO_TENANT
from voki_tui.sim.testing import InProcessSim, running_sim
from voki_tui.ui.app import VokiApp
from voki_tui.ui.widgets.status_bar import StatusBar

from .harness import SUPERVISOR, live_feed, self_signed_context, tls_relay, wait_for

pytestmark = pytest.mark.faults


@pytest.fixture
def sim() -> Iterator[InProcessSim]:
    with running_sim(seed=5, paused=True, auth_rate_limit=1000, widget_rate_limit=1000) as h:
        yield h


# -- tokens at rest ------------------------------------------------------------------------


def test_token_file_is_0600_from_creation_and_replaced_atomically(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = TokenStore(tmp_path / "state")
    identity = Identity.of("http://127.0.0.1:4000", "demo", SUPERVISOR)
    seen: list[tuple[int, Any]] = []
    real_replace = os.replace

    def checking_replace(src: Any, dst: Any) -> None:
        # Just before the rename: the temporary file is already private and complete.
        seen.append((stat.S_IMODE(os.stat(src).st_mode), json.loads(Path(src).read_text())))
        assert not Path(dst).exists() or stat.S_IMODE(os.stat(dst).st_mode) == 0o600
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", checking_replace)
    old_umask = os.umask(0)  # the most permissive umask must not widen the file
    try:
        for n in range(2):
            store.save(StoredTokens(identity, refresh_token=f"refresh-{n}", access_token="a"))
    finally:
        os.umask(old_umask)
    path = store.path_for(identity)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert [mode for mode, _ in seen[:2]] == [0o600, 0o600]
    assert seen[1][1]["refresh_token"] == "refresh-1"
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []
    assert store.load(identity) is not None


def test_failed_write_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = TokenStore(tmp_path)
    identity = Identity.of("http://h", "demo", SUPERVISOR)
    store.save(StoredTokens(identity, refresh_token="good"))

    def failing_replace(src: Any, dst: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError):
        store.save(StoredTokens(identity, refresh_token="new"))
    monkeypatch.undo()
    loaded = store.load(identity)
    assert loaded is not None and loaded.refresh_token == "good"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


# -- secrets never leave ---------------------------------------------------------------------


@pytest.fixture
def debug_log(tmp_path: Path) -> Iterator[Path]:
    """The app's own logging setup at DEBUG into a file; the test's handlers restored after."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    path = configure_logging(logging.DEBUG, directory=tmp_path / "logs")
    try:
        yield path
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
            handler.close()
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)
        logging.captureWarnings(False)


def secrets_of(session: Session) -> set[str]:
    found = {DEMO_PASSWORD}
    for value in (session._access, session._refresh):
        if value:
            found.add(value)
    return found


async def test_no_secret_in_any_log_line(
    sim: InProcessSim, tmp_path: Path, debug_log: Path
) -> None:
    """Login, feed, refresh, revoke, reconnect, logout at DEBUG: grep the file for secrets."""
    seen: set[str] = set()
    async with live_feed(sim, tmp_path / "tokens") as run:
        seen |= secrets_of(run.session)
        await run.converged()
        await run.session.refresh()
        seen |= secrets_of(run.session)
        sim.control("POST", "revoke").raise_for_status()
        await run.client.me()  # 401 -> refresh once -> retry
        seen |= secrets_of(run.session)
        sim.control("POST", "drop").raise_for_status()
        await run.converged()  # the socket reconnected with the new token in its URL
        seen |= secrets_of(run.session)
        await run.session.logout()
    assert len(seen) >= 5  # the password, and several access and refresh tokens
    text = await asyncio.to_thread(debug_log.read_text)
    assert "token=<redacted>" in text  # the socket URL was logged, redacted
    assert "GET /api/v1/users/me" in text or "/users/me" in text  # DEBUG lines were written
    leaks = [secret[:12] for secret in seen if secret in text]
    assert leaks == [], f"secrets in the log (first chars): {leaks}"
    bearer = [line for line in text.splitlines() if "Bearer " in line]
    assert all("Bearer <redacted>" in line for line in bearer), bearer


async def test_no_secret_in_reprs_or_error_messages(sim: InProcessSim, tmp_path: Path) -> None:
    client = VokiClient(sim.url, DEMO_TENANT)
    session = Session(client, SUPERVISOR, store=TokenStore(tmp_path))
    try:
        await session.login(DEMO_PASSWORD)
        tokens = LoginTokens(access_token=session._access, refresh_token=session._refresh)
        stored = session.stored()
        texts = [repr(session), str(session), repr(client), repr(tokens), str(tokens)]
        texts += [repr(stored), str(stored)]
        errors: list[BaseException] = []
        for attempt in (
            client.login(SUPERVISOR, DEMO_PASSWORD + "-wrong"),
            client.refresh("not-a-refresh-token"),
        ):
            try:
                await attempt
            except AuthError as exc:
                errors.append(exc)
        sim.control("POST", "revoke-all").raise_for_status()
        try:
            await client.me()
        except AuthError as exc:
            errors.append(exc)
        assert len(errors) == 3
        texts += [f"{e!s} {e!r} {getattr(e, 'message', '')}" for e in errors]
        secrets = {DEMO_PASSWORD, str(tokens.access_token), str(tokens.refresh_token)}
        blob = "\n".join(texts)
        assert not [s[:12] for s in secrets if s in blob]
        assert "Bearer" not in blob
    finally:
        await client.aclose()


# -- TLS ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls_context(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return self_signed_context(tmp_path_factory.mktemp("tls"))


async def test_tls_verification_is_on_by_default(sim: InProcessSim, tls_context: Any) -> None:
    async with tls_relay(tls_context, sim.port) as url:
        async with VokiClient(url, DEMO_TENANT) as client:
            with pytest.raises(TLSError):
                await client.login(SUPERVISOR, DEMO_PASSWORD)
        async with VokiClient(url, DEMO_TENANT, insecure=True) as client:
            tokens = await client.login(SUPERVISOR, DEMO_PASSWORD)
            assert tokens.access_token


async def _insecure_app(url: str, tmp_path: Path, settle: Any) -> Any:
    options = Settings(
        server=url, tenant=DEMO_TENANT, email=SUPERVISOR, password=DEMO_PASSWORD, insecure=True
    )
    account = Account(options, TokenStore(tmp_path))
    app = VokiApp(options, account, AccountFeed(account))
    try:
        async with app.run_test(size=(120, 30)):
            return await settle(app)
    finally:
        await account.close()


def status_who(app: VokiApp) -> str:
    """The user part of the status bar; "" while the screen shown has none (the connecting
    screen, or Textual's first screen before the app pushed one)."""
    bars = list(app.screen.query(StatusBar))
    return str(bars[0].query_one("#status-who").render()) if bars else ""


async def test_insecure_shows_a_warning_on_screen(
    sim: InProcessSim, tls_context: Any, tmp_path: Path
) -> None:
    async def warned(app: VokiApp) -> str:
        # The board comes after the login and the department list; wait for it, then read.
        await wait_for(lambda: "TLS not verified" in status_who(app), 30)
        return status_who(app)

    async with tls_relay(tls_context, sim.port) as url:
        who = await _insecure_app(url, tmp_path, warned)
    assert "TLS not verified" in who


async def test_insecure_also_applies_to_the_websocket(
    sim: InProcessSim, tls_context: Any, tmp_path: Path
) -> None:
    async def live(app: VokiApp) -> str:
        def is_live() -> bool:
            snap = app.snapshot
            return snap is not None and snap.connection.state.value == "live"

        with contextlib.suppress(AssertionError):
            await wait_for(is_live, 30)
        return app.snapshot.connection.state.value if app.snapshot else "none"

    async with tls_relay(tls_context, sim.port) as url:
        state = await _insecure_app(url, tmp_path, live)
    assert state == "live"


# -- tenant and identity -----------------------------------------------------------------------


async def test_x_tenant_on_every_request(sim: InProcessSim, tmp_path: Path) -> None:
    sent: list[httpx.Request] = []

    async def record(request: httpx.Request) -> None:
        sent.append(request)

    client = VokiClient(sim.url, DEMO_TENANT)
    client._http.event_hooks["request"].append(record)
    session = Session(client, SUPERVISOR, store=TokenStore(tmp_path))
    try:
        await session.login(DEMO_PASSWORD)
        departments = await client.departments()
        await client.calls(status="queued", department_id=departments[0].id)
        await client.department_users(departments[0].id)
        sim.control("POST", "revoke").raise_for_status()
        await client.me()  # 401, refresh, retry
        await session.logout()
    finally:
        await client.aclose()
    authed = [r for r in sent if "authorization" in r.headers]
    assert len(sent) >= 8 and len(authed) >= 5
    assert {r.url.path for r in sent} >= {"/api/auth/login", "/api/auth/refresh"}
    assert all(r.headers.get("x-tenant") == DEMO_TENANT for r in sent), [
        (r.method, r.url.path) for r in sent if r.headers.get("x-tenant") != DEMO_TENANT
    ]


async def test_tokens_never_cross_server_or_tenant(sim: InProcessSim, tmp_path: Path) -> None:
    store = TokenStore(tmp_path)
    client = VokiClient(sim.url, DEMO_TENANT)
    session = Session(client, SUPERVISOR, store=store)
    await session.login(DEMO_PASSWORD)
    await client.aclose()
    good = store.load(session.identity)
    assert good is not None

    sent: list[httpx.Request] = []

    async def record(request: httpx.Request) -> None:
        sent.append(request)

    other_server = sim.url.replace("127.0.0.1", "localhost")
    for server, tenant in ((sim.url, "other-tenant"), (other_server, DEMO_TENANT)):
        other = VokiClient(server, tenant)
        other._http.event_hooks["request"].append(record)
        other_session = Session(other, SUPERVISOR, store=store)
        try:
            assert await other_session.restore() is None
            with pytest.raises(AuthError):
                await other.me()
        finally:
            await other.aclose()
        # Even a file copied under the other identity's name is refused.
        identity = other_session.identity
        store.path_for(identity).write_bytes(store.path_for(session.identity).read_bytes())
        assert store.load(identity) is None
        store.remove(identity)
    assert sent == []  # nothing was sent anywhere: no token to send


async def test_logout_removes_the_stored_token_and_revokes_it(
    sim: InProcessSim, tmp_path: Path
) -> None:
    store = TokenStore(tmp_path)
    account = Account(Settings(sim.url, DEMO_TENANT, SUPERVISOR, password=DEMO_PASSWORD), store)
    await account.restore()
    assert account.session is not None
    identity = account.session.identity
    refresh = store.load(identity)
    assert refresh is not None and store.path_for(identity).exists()
    await account.logout()
    assert not store.path_for(identity).exists()
    async with VokiClient(sim.url, DEMO_TENANT) as client:
        with pytest.raises(AuthError):
            await client.refresh(refresh.refresh_token)
    await asyncio.sleep(0)
