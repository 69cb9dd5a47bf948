"""Status codes, odd bodies and TLS failures, from a real loopback HTTP(S) server.

voki-sim answers correctly; these canned answers are what a broken proxy or a different Voki
version might send. The server is a plain ``http.server`` on a free port: real sockets.
"""

from __future__ import annotations

import http.server
import json
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from voki_tui.api.client import VokiClient
from voki_tui.api.errors import (
    AuthError,
    ForbiddenError,
    NetworkError,
    NotFoundError,
    ProtocolError,
    RateLimitedError,
    ServerError,
    TLSError,
    ValidationError,
)
from voki_tui.api.ratelimit import AuthRateGuard
from voki_tui.api.session import Session

Canned = tuple[int, dict[str, str], bytes]
ROUTES: dict[str, Canned] = {}
SEEN: list[str] = []  # every request the server received, in order
SLOW = threading.Event()  # set: the server answers after the client has given up
STATIC_TOKEN = "static-access-token-7f3a"


def canned(status: int, body: object = None, **headers: str) -> Canned:
    raw = (
        body if isinstance(body, bytes) else json.dumps(body).encode() if body is not None else b""
    )
    return status, {"Content-Type": "application/json", **headers}, raw


class Handler(http.server.BaseHTTPRequestHandler):
    def _answer(self) -> None:
        if SLOW.is_set():
            time.sleep(1.0)  # longer than the client's timeout in the test that sets it
        SEEN.append(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        status, headers, body = ROUTES.get(self.path, canned(404, {"errors": {"detail": "nope"}}))
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up first (the timeout test)

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass


def serve(context: ssl.SSLContext | None = None) -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    scheme = "http"
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"{scheme}://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    yield from serve()


@pytest.fixture(autouse=True)
def fresh_routes() -> None:
    ROUTES.clear()
    SEEN.clear()


class StaticTokens:
    async def access_token(self) -> str:
        return STATIC_TOKEN

    async def on_unauthorized(self, rejected: str) -> str:
        return STATIC_TOKEN


def client_for(url: str) -> VokiClient:
    client = VokiClient(url, "demo", auth_guard=AuthRateGuard(limit=100))
    client.token_source = StaticTokens()
    return client


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (401, {"errors": {"detail": "Invalid or expired token"}}, AuthError),
        (403, {"errors": {"detail": "Forbidden"}}, ForbiddenError),
        (404, None, NotFoundError),
        (500, b"<html>boom</html>", ServerError),
        (503, None, ServerError),
        (200, b"<html>not json</html>", ProtocolError),
        (200, {"data": "not an object"}, ProtocolError),
        (200, {"data": {"name": "no id"}}, ProtocolError),
        (302, None, ProtocolError),
        (418, None, ServerError),
    ],
)
async def test_status_and_body_to_typed_errors(
    url: str, status: int, body: object, error: type[Exception]
) -> None:
    ROUTES["/api/v1/users/me"] = canned(status, body, Location="https://elsewhere.test/")
    async with client_for(url) as client:
        with pytest.raises(error) as raised:
            await client.me()
    assert type(raised.value) is error
    assert STATIC_TOKEN not in str(raised.value)


async def test_validation_error_fields(url: str) -> None:
    ROUTES["/api/auth/login"] = canned(
        422, {"errors": {"email": ["can't be blank"], "password": "is too short"}}
    )
    async with client_for(url) as client:
        with pytest.raises(ValidationError) as invalid:
            await client.login("", "pw-123")
    assert invalid.value.fields == {"email": ["can't be blank"], "password": ["is too short"]}
    assert "email: can't be blank" in invalid.value.message


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("17", 17.0),
        (None, 60.0),
        ("soon", 60.0),
        ("date", 120.0),
        ("nan", 60.0),
        # Absurd values must not block sign-in for good: capped at an hour.
        ("inf", 3600.0),
        ("1e308", 3600.0),
        ("-5", 0.0),
    ],
)
async def test_retry_after_forms_and_the_guard_hold(
    url: str, header: str | None, expected: float
) -> None:
    if header == "date":
        header = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    headers = {"Retry-After": header} if header else {}
    ROUTES["/api/auth/login"] = canned(429, {"errors": {"detail": "Too many"}}, **headers)
    async with client_for(url) as client:
        with pytest.raises(RateLimitedError) as limited:
            await client.login("a@b", "pw")
        assert limited.value.retry_after == pytest.approx(expected, abs=2)
        assert client.auth_guard.wait_s() == pytest.approx(expected, abs=2)
        if expected:
            with pytest.raises(RateLimitedError):  # held: not even sent
                await client.login("a@b", "pw")
        assert len(SEEN) == 1


async def test_login_without_data_wrapper_and_garbage_list_items(url: str) -> None:
    ROUTES["/api/auth/login"] = canned(
        200, {"access_token": "a", "refresh_token": "b", "user": {"id": 9, "role": "manager"}}
    )
    ROUTES["/api/v1/calls?page=1&page_size=100"] = canned(
        200,
        {
            "data": [{"id": 1}, {"no": "id"}, "junk", {"call_id": 2, "customer": {"name": "N"}}],
            "meta": {"current_page": 1, "total_pages": 1},
        },
    )
    client = VokiClient(url, "demo", auth_guard=AuthRateGuard(limit=100))
    session = Session(client, "a@b")
    async with client:
        user = await session.login("pw")
        assert (user.id, user.role) == ("9", "manager")
        calls = await client.calls()
    assert [c.call_id for c in calls] == ["1", "2"]
    assert calls[1].customer_name == "N"
    assert client.skipped_items == 2


async def test_list_without_meta_stops_at_a_short_page(url: str) -> None:
    ROUTES["/api/v1/access-links?page=1&page_size=100"] = canned(
        200, [{"id": i, "token": "t"} for i in range(100)]
    )
    ROUTES["/api/v1/access-links?page=2&page_size=100"] = canned(200, {"data": [{"id": 100}]})
    async with client_for(url) as client:
        links = await client.access_links()
        assert len(links) == 101
        assert len(SEEN) == 2


def test_bad_server_address_is_a_validation_error() -> None:
    for bad in ("voki.example.com", "ftp://voki.example.com", "https://"):
        with pytest.raises(ValidationError) as invalid:
            VokiClient(bad, "demo")
        assert "server" in invalid.value.fields
    with pytest.raises(ValidationError) as blank:
        VokiClient("https://voki.example.com", " ")
    assert "tenant" in blank.value.fields


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> ssl.SSLContext:
    folder: Path = tmp_path_factory.mktemp("tls")
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


async def test_tls_verification_is_on_by_default(self_signed: ssl.SSLContext) -> None:
    ROUTES["/api/v1/users/me"] = canned(200, {"data": {"id": 1}})
    for url in serve(self_signed):
        async with client_for(url) as client:
            with pytest.raises(TLSError) as failed:
                await client.me()
            assert str(failed.value).startswith(f"Cannot verify the TLS certificate of {url}")
        insecure = VokiClient(url, "demo", insecure=True)
        insecure.token_source = StaticTokens()
        async with insecure:
            assert (await insecure.me()).id == "1"


async def test_auth_requests_that_never_reached_the_server_cost_no_budget() -> None:
    """Connection refused belongs to network backoff: a box that retried through an outage
    has its whole auth budget when the server is back (issue: 5 refreshes into a dead server
    locked the client out for a minute after it came back)."""
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    guard = AuthRateGuard(limit=2)
    async with VokiClient(dead, "demo", auth_guard=guard) as client:
        for _ in range(10):
            with pytest.raises(NetworkError, match="connection refused"):
                await client.refresh("r")
    assert guard.wait_s() == 0.0


async def test_a_timeout_after_sending_still_counts(url: str) -> None:
    """The server may have seen a request whose answer never came: it stays counted."""
    ROUTES["/api/auth/refresh"] = canned(200, {"data": {}})
    guard = AuthRateGuard(limit=1)
    async with VokiClient(url, "demo", auth_guard=guard, timeout_s=0.2) as client:
        SLOW.set()
        try:
            with pytest.raises(NetworkError):
                await client.refresh("r")
        finally:
            SLOW.clear()
    assert guard.wait_s() > 50
