"""The Voki REST client: httpx underneath, typed errors and tolerant models on top.

``VokiClient`` is bound to one server and one tenant for its whole life: ``X-Tenant`` goes on
every request, redirects are never followed (a token is never sent to another origin), TLS is
verified unless ``insecure`` is asked for. Authenticated calls take their bearer token from a
``TokenSource`` (the ``Session``); when the server answers 401 the source is asked once to
refresh, and the call is retried once. Every ``/api/auth/*`` request first passes the
process-wide ``AuthRateGuard``, so a confused caller cannot turn into a retry storm.

Lists are walked page by page (``page_size`` 100, the API's maximum) until the last page;
items that fail validation are skipped, logged and counted in ``skipped_items`` rather than
failing the whole list: one malformed call must not blank a queue.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import time
from collections.abc import AsyncIterator, Callable, Hashable, Mapping
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any, Protocol, Self, TypedDict, TypeVar, Unpack, cast
from urllib.parse import quote, urlsplit

import httpx
import pydantic

from voki_tui import __version__
from voki_tui.api.errors import (
    AuthError,
    ForbiddenError,
    MFARequired,
    NetworkError,
    NotFoundError,
    ProtocolError,
    RateLimitedError,
    ServerError,
    TLSError,
    ValidationError,
    VokiError,
)
from voki_tui.api.models import (
    AccessLink,
    Call,
    Department,
    LoginTokens,
    MFAChallenge,
    PageMeta,
    User,
    VokiModel,
)
from voki_tui.api.ratelimit import AuthRateGuard, shared_guard
from voki_tui.api.servertime import ServerTime
from voki_tui.api.tokens import normalize_server
from voki_tui.logs import redact

log = logging.getLogger(__name__)

M = TypeVar("M", bound=VokiModel)

PAGE_SIZE = 100  # the API's maximum
MAX_PAGES = 1000  # a server that never says "last page" must not keep us busy forever
#: A whole request (connect, send, every read of the answer) must be done within this many
#: times the per-operation timeout.
DEADLINE_FACTOR = 3
DEFAULT_RETRY_AFTER_S = 60.0
#: A ``Retry-After`` beyond this is taken as this: a typo or a hostile ``1e308`` must not
#: block sign-in for good (the auth limit is per minute; an hour is already generous).
MAX_RETRY_AFTER_S = 3600.0
DETAIL_MAX = 200


class TokenSource(Protocol):
    """Where authenticated calls get their bearer token (implemented by ``Session``)."""

    async def access_token(self) -> str:
        """A currently valid access token, refreshed ahead of expiry if needed."""
        ...

    async def on_unauthorized(self, rejected: str) -> str:
        """The server refused ``rejected``: refresh (once for all callers), return the new one."""
        ...


QueryValue = str | int | datetime | date | None


class CallFilters(TypedDict, total=False):
    """The filters of ``GET /api/v1/calls`` (voki-api.md section 4)."""

    status: str
    department_id: str
    user_id: str
    date_from: datetime | date | str
    date_to: datetime | date | str
    search: str
    sort_by: str
    sort_order: str


def _query(params: Mapping[str, QueryValue]) -> dict[str, str]:
    """Query parameters without the unset ones; times as ISO 8601 UTC with ``Z``."""
    query: dict[str, str] = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, datetime):
            aware = value if value.tzinfo else value.replace(tzinfo=UTC)
            query[key] = aware.astimezone(UTC).isoformat().replace("+00:00", "Z")
        elif isinstance(value, date):
            query[key] = value.isoformat()
        else:
            query[key] = str(value)
    return query


def _retry_after(response: httpx.Response) -> float:
    """``Retry-After`` as seconds (delta-seconds or an HTTP-date); 60 when absent or garbage."""
    raw = response.headers.get("retry-after", "").strip()
    if not raw:
        return DEFAULT_RETRY_AFTER_S
    try:
        seconds = float(raw)
    except ValueError:
        try:
            when = parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError, OverflowError):
            return DEFAULT_RETRY_AFTER_S
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    if seconds != seconds:  # NaN
        return DEFAULT_RETRY_AFTER_S
    if seconds > MAX_RETRY_AFTER_S:
        log.warning("Retry-After of %.3g s capped to %.0f s", seconds, MAX_RETRY_AFTER_S)
    return min(max(0.0, seconds), MAX_RETRY_AFTER_S)


def _error_body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    errors = body.get("errors") if isinstance(body, dict) else None
    return errors if isinstance(errors, dict) else {}


def _clean(text: object) -> str | None:
    """Server-supplied text for a message: a string, shortened, with anything secret removed."""
    if not isinstance(text, str) or not text.strip():
        return None
    return redact(text.strip())[:DETAIL_MAX]


def _field_messages(errors: Mapping[str, Any]) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for name, messages in errors.items():
        items = messages if isinstance(messages, list) else [messages]
        cleaned = [c for m in items if (c := _clean(m)) is not None]
        fields[str(name)[:DETAIL_MAX]] = cleaned or ["is invalid"]
    return fields


def _causes(exc: BaseException) -> list[BaseException]:
    """The exception and everything it was raised from, outermost first (cycles cut)."""
    seen: list[BaseException] = []
    pending: list[BaseException] = [exc]
    while pending:
        current = pending.pop(0)
        if any(current is s for s in seen):
            continue
        seen.append(current)
        pending.extend(c for c in (current.__cause__, current.__context__) if c is not None)
    return seen


def _unwrap_object(body: Any) -> dict[str, Any]:
    """``{"data": {...}}``, or the bare object (Voki's manual shows logins without ``data``)."""
    if isinstance(body, dict):
        data = body.get("data", body)
        if isinstance(data, dict):
            return data
    raise ProtocolError("The server's answer is not an object")


def _unwrap_list(body: Any) -> tuple[list[Any], PageMeta | None]:
    """``{"data": [...], "meta": {...}}``, or a bare list."""
    if isinstance(body, list):
        return body, None
    if isinstance(body, dict) and isinstance(body.get("data"), list):
        raw_meta = body.get("meta")
        meta = PageMeta.model_validate(raw_meta) if isinstance(raw_meta, dict) else None
        return body["data"], meta
    raise ProtocolError("The server's answer is not a list")


class VokiClient:
    """Async REST client for one Voki server and tenant. Use as an async context manager."""

    def __init__(
        self,
        server: str,
        tenant: str,
        *,
        timeout_s: float = 10.0,
        insecure: bool = False,
        auth_guard: AuthRateGuard | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        parts = urlsplit(server.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValidationError(
                "The server must be an http:// or https:// address",
                {"server": ["must be an http:// or https:// address"]},
            )
        if not tenant.strip():
            raise ValidationError("The tenant is required", {"tenant": ["can't be blank"]})
        self.server = normalize_server(server)
        self.tenant = tenant.strip()
        self.insecure = insecure
        self.timeout_s = timeout_s
        self.deadline_s = DEADLINE_FACTOR * timeout_s
        self.auth_guard = auth_guard if auth_guard is not None else shared_guard(self.server)
        self.token_source: TokenSource | None = None
        self.skipped_items = 0  # list items dropped because they failed validation
        self.server_time = ServerTime()  # the server's clock, from every answer's Date
        self._origin = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"
        # A plain-http server (voki-sim, --demo, a lab) never speaks TLS: no CA bundle to
        # load for it, which took 20-50 ms of every start. An https one verifies as before.
        verify = False if parts.scheme == "http" else not insecure
        self._http = httpx.AsyncClient(
            base_url=self.server,
            timeout=timeout_s,
            verify=verify,
            follow_redirects=False,
            transport=transport,
            headers={
                "User-Agent": f"voki-tui/{__version__} (+httpx {httpx.__version__})",
                "Accept": "application/json",
                "X-Tenant": self.tenant,
            },
        )

    def __repr__(self) -> str:
        return f"VokiClient(server={self.server!r}, tenant={self.tenant!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- transport and errors -------------------------------------------------------------

    def _network_error(self, exc: httpx.TransportError) -> NetworkError:
        chain = _causes(exc)
        for cause in chain:
            if isinstance(cause, ssl.SSLCertVerificationError):
                reason = cause.verify_message or "certificate verification failed"
                return TLSError(f"Cannot verify the TLS certificate of {self._origin}: {reason}")
        if any(isinstance(c, ssl.SSLError) for c in chain):
            return TLSError(f"TLS handshake with {self._origin} failed")
        if isinstance(exc, httpx.ConnectTimeout):
            reason = "connection timed out"
        elif isinstance(exc, httpx.TimeoutException):
            return NetworkError(f"No answer from {self._origin} within {self.timeout_s:g} s")
        elif any(isinstance(c, ConnectionRefusedError) for c in chain):
            reason = "connection refused"
        elif any(isinstance(c, socket.gaierror) for c in chain):
            reason = "host name not found"
        elif isinstance(exc, httpx.RemoteProtocolError):
            reason = "the connection was closed unexpectedly"
        else:
            os_errors = [c for c in chain if isinstance(c, OSError) and c.strerror]
            reason = str(os_errors[0].strerror).lower() if os_errors else type(exc).__name__
        return NetworkError(f"Cannot reach {self._origin}: {reason}")

    def _status_error(self, response: httpx.Response, *, auth_endpoint: bool) -> VokiError:
        status = response.status_code
        errors = _error_body(response)
        detail = _clean(errors.get("detail"))
        if status == 401:
            return AuthError(detail or "Not authorized", status=401)
        if status == 403:
            return ForbiddenError(detail or "This account may not see that", status=403)
        if status == 404:
            return NotFoundError(detail or "Not found", status=404)
        if status == 422:
            fields = _field_messages({k: v for k, v in errors.items() if k != "detail"})
            summary = "; ".join(f"{k}: {', '.join(v)}" for k, v in fields.items())
            return ValidationError(summary or detail or "The server rejected the input", fields)
        if status == 429:
            wait = _retry_after(response)
            if auth_endpoint:
                self.auth_guard.hold(wait)
            return RateLimitedError(f"Rate limited by {self._origin}; retry in {wait:.0f} s", wait)
        if 300 <= status < 400:
            return ProtocolError(f"Unexpected redirect from {self._origin}", status=status)
        if status >= 500:
            return ServerError(
                f"The server at {self._origin} failed (HTTP {status})", status=status
            )
        return ServerError(f"Unexpected answer from {self._origin} (HTTP {status})", status=status)

    async def _send(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        params: Mapping[str, str] | None = None,
        json: Mapping[str, Any] | None = None,
        auth_endpoint: bool = False,
    ) -> Any:
        """One request; the decoded JSON body (None when empty) or a typed error."""
        stamp = self.auth_guard.acquire() if auth_endpoint else None
        headers = {"Authorization": f"Bearer {token}"} if token else None
        started = time.monotonic()
        try:
            async with asyncio.timeout(self.deadline_s):
                response = await self._http.request(
                    method, path, params=params, json=json, headers=headers
                )
        except TimeoutError:
            # httpx's timeouts are per read: a server that drips a byte every few seconds
            # never trips them. The whole request has this deadline.
            log.info("%s %s: no complete answer within %.0f s", method, path, self.deadline_s)
            raise NetworkError(
                f"No complete answer from {self._origin} within {self.deadline_s:g} s"
            ) from None
        except httpx.TransportError as exc:
            if stamp is not None and isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
                self.auth_guard.refund(stamp)  # never reached the server
            error = self._network_error(exc)
            log.info("%s %s failed: %s", method, path, error.message)
            raise error from None
        log.debug(
            "%s %s -> %d in %.0f ms",
            method,
            path,
            response.status_code,
            (time.monotonic() - started) * 1000,
        )
        self._observe_date(response)
        if not response.is_success:
            raise self._status_error(response, auth_endpoint=auth_endpoint)
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise ProtocolError(
                f"The server at {self._origin} sent an answer that is not JSON "
                f"(HTTP {response.status_code})",
                status=response.status_code,
            ) from None

    def _observe_date(self, response: httpx.Response) -> None:
        """The server's ``Date`` (its clock, to the second) feeds ``server_time``."""
        raw = response.headers.get("date")
        if not raw:
            return
        try:
            when = parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError, OverflowError):
            return
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        self.server_time.observe(when.timestamp())

    async def _authed(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Mapping[str, Any] | None = None,
        auth_endpoint: bool = False,
    ) -> Any:
        """An authenticated request: on 401, one refresh through the token source, one retry."""
        if self.token_source is None:
            raise AuthError("Not logged in")
        token = await self.token_source.access_token()
        try:
            return await self._send(
                method, path, token=token, params=params, json=json, auth_endpoint=auth_endpoint
            )
        except AuthError:
            log.info("%s %s: access token refused; refreshing once", method, path)
            token = await self.token_source.on_unauthorized(token)
        return await self._send(
            method, path, token=token, params=params, json=json, auth_endpoint=auth_endpoint
        )

    def _parse(self, model: type[M], data: Any, what: str) -> M:
        try:
            return model.model_validate(data)
        except pydantic.ValidationError as exc:
            # Only field locations: the input (which may hold tokens) never reaches a message.
            where = ", ".join(".".join(str(p) for p in e["loc"]) or "body" for e in exc.errors())
            raise ProtocolError(
                f"Unexpected {what} from {self._origin} (bad or missing: {where})"
            ) from None

    # -- pagination ---------------------------------------------------------------------

    async def iter_items(
        self, path: str, model: type[M], params: Mapping[str, QueryValue] | None = None
    ) -> AsyncIterator[M]:
        """Every item of a paginated list, page after page until the last one."""
        query = _query(params or {})
        for page in range(1, MAX_PAGES + 1):
            body = await self._authed(
                "GET", path, params={**query, "page": str(page), "page_size": str(PAGE_SIZE)}
            )
            items, meta = _unwrap_list(body)
            for raw in items:
                try:
                    yield model.model_validate(raw)
                except pydantic.ValidationError as exc:
                    self.skipped_items += 1
                    log.warning(
                        "skipped a %s item of %s: %d validation errors",
                        model.__name__,
                        path,
                        exc.error_count(),
                    )
            if meta is not None and meta.total_pages is not None:
                if page >= meta.total_pages:
                    return
            elif len(items) < PAGE_SIZE:
                return
        log.warning("%s: stopped after %d pages", path, MAX_PAGES)

    async def collect(
        self,
        path: str,
        model: type[M],
        key: Callable[[M], Hashable],
        params: Mapping[str, QueryValue] | None = None,
    ) -> list[M]:
        """All items of a list, first occurrence kept when a shifting list repeats one."""
        seen: set[Hashable] = set()
        items: list[M] = []
        async for item in self.iter_items(path, model, params):
            if (k := key(item)) not in seen:
                seen.add(k)
                items.append(item)
        return items

    # -- auth ---------------------------------------------------------------------------

    async def login(self, email: str, password: str, tenant: str | None = None) -> LoginTokens:
        """Log in; raises ``MFARequired`` (with its ``mfa_token``) when a code must follow."""
        body = {"email": email, "password": password, "tenant": tenant or self.tenant}
        data = _unwrap_object(
            await self._send("POST", "/api/auth/login", json=body, auth_endpoint=True)
        )
        if data.get("mfa_required") is True:
            raise MFARequired(self._parse(MFAChallenge, data, "MFA challenge").mfa_token)
        return self._parse(LoginTokens, data, "login answer")

    async def verify_mfa(self, mfa_token: str, code: str) -> LoginTokens:
        body = {"mfa_token": mfa_token, "code": code.strip()}
        raw = await self._send("POST", "/api/auth/mfa/verify", json=body, auth_endpoint=True)
        return self._parse(LoginTokens, _unwrap_object(raw), "MFA answer")

    async def refresh(self, refresh_token: str) -> LoginTokens:
        """Trade a refresh token for a new pair (the old refresh token is spent)."""
        body = {"refresh_token": refresh_token}
        raw = await self._send("POST", "/api/auth/refresh", json=body, auth_endpoint=True)
        return self._parse(LoginTokens, _unwrap_object(raw), "refresh answer")

    async def logout(self, refresh_token: str) -> None:
        body = {"refresh_token": refresh_token}
        await self._authed("POST", "/api/auth/logout", json=body, auth_endpoint=True)

    # -- resources ----------------------------------------------------------------------

    async def me(self) -> User:
        return self._parse(
            User, _unwrap_object(await self._authed("GET", "/api/v1/users/me")), "user"
        )

    async def departments(self) -> list[Department]:
        """Every department of the tenant (supervisor and up; 403 ``ForbiddenError`` below)."""
        return await self.collect(
            "/api/v1/departments", Department, lambda d: d.id, {"sort_by": "name"}
        )

    async def department(self, department_id: str) -> Department:
        raw = await self._authed("GET", f"/api/v1/departments/{_segment(department_id)}")
        return self._parse(Department, _unwrap_object(raw), "department")

    async def department_users(self, department_id: str) -> list[User]:
        path = f"/api/v1/departments/{_segment(department_id)}/users"
        return await self.collect(path, User, lambda u: u.id)

    async def call(self, call_id: str) -> Call:
        """One call by id (attendant and up: ``GET /api/v1/calls/:id``)."""
        raw = await self._authed("GET", f"/api/v1/calls/{_segment(call_id)}")
        return self._parse(Call, _unwrap_object(raw), "call")

    def iter_calls(self, **filters: Unpack[CallFilters]) -> AsyncIterator[Call]:
        """Calls matching the filters, streamed page by page."""
        # Every CallFilters value is a QueryValue; TypedDicts just are not Mappings to mypy.
        return self.iter_items("/api/v1/calls", Call, cast(Mapping[str, QueryValue], filters))

    async def calls(self, **filters: Unpack[CallFilters]) -> list[Call]:
        """All calls matching the filters (every page), each ``call_id`` once."""
        seen: set[str] = set()
        found: list[Call] = []
        async for call in self.iter_calls(**filters):
            if call.call_id not in seen:
                seen.add(call.call_id)
                found.append(call)
        return found

    async def access_links(
        self, status: str | None = None, department_id: str | None = None
    ) -> list[AccessLink]:
        params: dict[str, QueryValue] = {"status": status, "department_id": department_id}
        return await self.collect("/api/v1/access-links", AccessLink, lambda a: a.id, params)


def _segment(value: str) -> str:
    """An id as one URL path segment: nothing in it can change the path."""
    return quote(str(value), safe="")
