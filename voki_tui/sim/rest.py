"""The REST API of ``voki-api.md`` sections 1-4, with its status codes and error bodies.

Errors: 422 ``{"errors": {field: [messages]}}`` for validation, ``{"errors": {"detail": ...}}``
for 400/401/403/404/429. Rate limits answer 429 with ``Retry-After`` (seconds).
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .auth import RateLimiter
from .totp import verify as verify_totp
from .world import COMPANY_NAME, DEMO_PASSWORD, DEMO_TENANT, Call, User, role_rank

if TYPE_CHECKING:
    from .server import Simulator

Handler = Callable[[Request], Awaitable[Response]]
CALL_STATUSES = ("queued", "active", "completed", "missed", "cancelled")
CALL_SORTS = ("inserted_at", "assigned_at", "started_at", "completed_at", "wait_time",
              "duration", "customer_name", "status")  # fmt: skip
DEPARTMENT_SORTS = ("name", "id", "inserted_at", "max_queue_size", "max_wait_time")
MAX_PAGE_SIZE = 100
WIDGET_FIELDS = ("email", "phone", "reason")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def as_uuid(value: object) -> str | None:
    """``value`` as a canonical (lower-case) UUID string if it is a hyphenated UUID, else None.

    What Ecto's ``:binary_id`` cast accepts as text; an integer or any other string is not an id.
    """
    if not isinstance(value, str) or not _UUID.match(value):
        return None
    return value.lower()


class HTTPFail(Exception):
    """Raised inside handlers; turned into the documented error response."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def detail(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"errors": {"detail": message}}, status_code=status, headers=headers)


def invalid(errors: dict[str, list[str]]) -> HTTPFail:
    return HTTPFail(JSONResponse({"errors": errors}, status_code=422))


def sim_of(request: Request) -> Simulator:
    sim: Simulator = request.app.state.sim
    return sim


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def endpoint(
    limiter: Callable[[Simulator], RateLimiter] | None = None,
) -> Callable[[Callable[[Request, Simulator], Awaitable[Response]]], Handler]:
    """Wrap a handler: optional per-IP rate limit, and ``HTTPFail`` to its response. Requests
    to ``/api/auth/*`` are logged for ``GET /__sim/auth-log``, 429s included."""

    def wrap(fn: Callable[[Request, Simulator], Awaitable[Response]]) -> Handler:
        async def handle(request: Request, sim: Simulator) -> Response:
            if limiter is not None:
                retry_after = limiter(sim).check(client_ip(request))
                if retry_after is not None:
                    return detail(429, "Too many requests", {"Retry-After": str(retry_after)})
            try:
                return await fn(request, sim)
            except HTTPFail as fail:
                return fail.response

        async def handler(request: Request) -> Response:
            sim = sim_of(request)
            response = await handle(request, sim)
            path = request.url.path
            if path.startswith("/api/auth/"):
                # The host's time, not the (maybe skewed) server clock: logs of several runs
                # line up, and a rate is counted as the rate limiter counts it.
                entry = {"at": round(time.time(), 3), "path": path}
                sim.auth_log.append({**entry, "status": response.status_code})
            return response

        return handler

    return wrap


async def json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        value = await request.json()
    except ValueError:
        raise HTTPFail(detail(400, "Malformed JSON body")) from None
    return value if isinstance(value, dict) else {}


def required(body: dict[str, Any], *names: str) -> list[str]:
    """The string values of ``names``; 422 listing every missing or blank one."""
    errors = {
        n: ["can't be blank"]
        for n in names
        if not isinstance(body.get(n), str) or not str(body[n]).strip()
    }
    if errors:
        raise invalid(errors)
    return [str(body[n]) for n in names]


def authenticate(request: Request, sim: Simulator) -> User:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    claims = sim.auth.verify_access(token.strip()) if scheme.lower() == "bearer" else None
    if claims is None or claims.role == "customer":
        raise HTTPFail(detail(401, "Invalid or expired token"))
    if request.headers.get("x-tenant") != claims.tenant:
        raise HTTPFail(detail(401, "Tenant mismatch"))
    user = sim.world.users.get(claims.user_id) if claims.user_id is not None else None
    if user is None:
        raise HTTPFail(detail(401, "Invalid or expired token"))
    return user


def require(user: User, role: str) -> None:
    if role_rank(user.role) < role_rank(role):
        raise HTTPFail(detail(403, "Forbidden"))


def _int(value: str | None, name: str, errors: dict[str, list[str]]) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        errors[name] = ["is invalid"]
        return None


def _uuid(value: str | None, name: str, errors: dict[str, list[str]]) -> str | None:
    """An id filter: absent is None; anything but a UUID is a 422 ``is invalid``."""
    if value is None or value == "":
        return None
    ident = as_uuid(value)
    if ident is None:
        errors[name] = ["is invalid"]
    return ident


def _time(value: str | None, name: str, errors: dict[str, list[str]], end: bool) -> float | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        errors[name] = ["is invalid"]
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    if end and len(value.strip()) == 10:  # a bare date_to includes the whole day
        parsed += timedelta(days=1)
    return parsed.timestamp()


def page_of(
    request: Request, items: Sequence[Any], sorts: Sequence[str], default_sort: str,
    default_order: str, errors: dict[str, list[str]], key: Callable[[Any, str], Any],
) -> tuple[list[Any], dict[str, int]]:  # fmt: skip
    """Sort and slice ``items`` as the list parameters say (422 on bad values)."""
    q = request.query_params
    page = _int(q.get("page"), "page", errors)
    size = _int(q.get("page_size"), "page_size", errors)
    sort_by = q.get("sort_by") or default_sort
    order = q.get("sort_order") or default_order
    if page is not None and page < 1:
        errors["page"] = ["must be greater than or equal to 1"]
    if size is not None and size < 1:
        errors["page_size"] = ["must be greater than or equal to 1"]
    if sort_by not in sorts:
        errors["sort_by"] = ["is invalid"]
    if order not in ("asc", "desc"):
        errors["sort_order"] = ["is invalid"]
    if errors:
        raise invalid(errors)
    page, size = page or 1, min(size or 20, MAX_PAGE_SIZE)
    present = [i for i in items if key(i, sort_by) is not None]
    missing = [i for i in items if key(i, sort_by) is None]
    ordered = sorted(present, key=lambda i: key(i, sort_by), reverse=order == "desc") + missing
    meta = {
        "current_page": page,
        "page_size": size,
        "total_pages": max(1, math.ceil(len(items) / size)),
        "total_count": len(items),
    }
    return ordered[(page - 1) * size : page * size], meta


# ---- auth -------------------------------------------------------------------------------


def _session(sim: Simulator, user: User) -> JSONResponse:
    access, refresh = sim.auth.issue_pair(user)
    return JSONResponse(
        {"data": {"access_token": access, "refresh_token": refresh, "user": user.login_json()}}
    )


@endpoint(lambda sim: sim.auth_limiter)
async def login(request: Request, sim: Simulator) -> Response:
    email, password, tenant = required(await json_body(request), "email", "password", "tenant")
    user = sim.world.user_by_email(email)
    if user is None or password != DEMO_PASSWORD or tenant != DEMO_TENANT:
        return detail(401, "Invalid credentials")
    if user.mfa_secret is not None:
        return JSONResponse({"data": {"mfa_required": True, "mfa_token": sim.auth.issue_mfa(user)}})
    return _session(sim, user)


@endpoint(lambda sim: sim.auth_limiter)
async def mfa_verify(request: Request, sim: Simulator) -> Response:
    mfa_token, code = required(await json_body(request), "mfa_token", "code")
    pending = sim.auth.peek_mfa(mfa_token)
    user = sim.world.users.get(pending[0]) if pending else None
    if pending is None or user is None or user.mfa_secret is None:
        return detail(401, "Invalid or expired MFA token")
    if not verify_totp(user.mfa_secret, code.strip(), at=sim.clock.now()):
        return detail(401, "Invalid code")
    sim.auth.spend(pending[1])
    return _session(sim, user)


@endpoint(lambda sim: sim.auth_limiter)
async def refresh(request: Request, sim: Simulator) -> Response:
    (token,) = required(await json_body(request), "refresh_token")
    user_id = sim.auth.spend_refresh(token)
    user = sim.world.users.get(user_id) if user_id is not None else None
    if user is None:
        return detail(401, "Invalid refresh token")
    access, new_refresh = sim.auth.issue_pair(user)
    return JSONResponse({"data": {"access_token": access, "refresh_token": new_refresh}})


@endpoint(lambda sim: sim.auth_limiter)
async def logout(request: Request, sim: Simulator) -> Response:
    authenticate(request, sim)
    token = (await json_body(request)).get("refresh_token")
    if isinstance(token, str):
        sim.auth.spend_refresh(token)
    return Response(status_code=204)


# ---- authenticated resources ----------------------------------------------------------------


@endpoint()
async def me(request: Request, sim: Simulator) -> Response:
    user = authenticate(request, sim)
    data = user.to_json()
    if sim.config.me_departments and user.role == "attendant":  # ASSUMED, optional: off
        data["departments"] = [
            {"id": d, "name": sim.world.departments[d].name} for d in user.department_ids
        ]
    return JSONResponse({"data": data})


def _department_json(sim: Simulator, dept_id: str) -> dict[str, object]:
    return sim.world.departments[dept_id].to_json(len(sim.world.members(dept_id)))


def _department_id(request: Request, sim: Simulator) -> str:
    ident = as_uuid(request.path_params["id"])
    if ident is None or ident not in sim.world.departments:
        raise HTTPFail(detail(404, "Not found"))
    return ident


@endpoint()
async def departments(request: Request, sim: Simulator) -> Response:
    require(authenticate(request, sim), "supervisor")
    items = [_department_json(sim, d) for d in sim.world.departments]
    page, meta = page_of(request, items, DEPARTMENT_SORTS, "name", "asc", {}, lambda i, k: i[k])
    return JSONResponse({"data": page, "meta": meta})


@endpoint()
async def department(request: Request, sim: Simulator) -> Response:
    require(authenticate(request, sim), "supervisor")
    return JSONResponse({"data": _department_json(sim, _department_id(request, sim))})


@endpoint()
async def department_users(request: Request, sim: Simulator) -> Response:
    require(authenticate(request, sim), "supervisor")
    members = [u.to_json() for u in sim.world.members(_department_id(request, sim))]
    page, meta = page_of(request, members, ("name", "id"), "name", "asc", {}, lambda i, k: i[k])
    return JSONResponse({"data": page, "meta": meta})


def _visible(user: User, call: Call) -> bool:
    return role_rank(user.role) >= role_rank("supervisor") or (
        call.department_id in user.department_ids
    )


def _call_sort_key(item: dict[str, Any], key: str) -> Any:
    value = item[key]
    return value.casefold() if isinstance(value, str) and key == "customer_name" else value


@endpoint()
async def calls(request: Request, sim: Simulator) -> Response:
    user = authenticate(request, sim)
    q = request.query_params
    errors: dict[str, list[str]] = {}
    status = q.get("status") or None
    if status is not None and status not in CALL_STATUSES:
        errors["status"] = ["is invalid"]
    dept_id = _uuid(q.get("department_id"), "department_id", errors)
    user_id = _uuid(q.get("user_id"), "user_id", errors)
    date_from = _time(q.get("date_from"), "date_from", errors, end=False)
    date_to = _time(q.get("date_to"), "date_to", errors, end=True)
    search = (q.get("search") or "").strip().casefold()
    selected = [
        c
        for c in sim.world.calls.values()
        if _visible(user, c)
        and (status is None or c.status == status)
        and (dept_id is None or c.department_id == dept_id)
        and (user_id is None or c.user_id == user_id)
        and (date_from is None or c.inserted_at >= date_from)
        and (date_to is None or c.inserted_at <= date_to)
        and (not search or search in _haystack(c))
    ]
    items = [sim.world.call_json(c) for c in selected]
    page, meta = page_of(request, items, CALL_SORTS, "inserted_at", "desc", errors, _call_sort_key)
    return JSONResponse({"data": page, "meta": meta})


def _haystack(call: Call) -> str:
    fields = (call.customer_name, call.customer_email, call.customer_phone, call.reason)
    return " ".join(f for f in fields if f).casefold()


@endpoint()
async def call(request: Request, sim: Simulator) -> Response:
    user = authenticate(request, sim)
    found = sim.world.calls.get(as_uuid(request.path_params["id"]) or "")
    if found is None or not _visible(user, found):
        return detail(404, "Not found")
    return JSONResponse({"data": sim.world.call_json(found)})


@endpoint()
async def access_links(request: Request, sim: Simulator) -> Response:
    require(authenticate(request, sim), "supervisor")
    q = request.query_params
    errors: dict[str, list[str]] = {}
    dept_id = _uuid(q.get("department_id"), "department_id", errors)
    status = q.get("status") or None
    links = [
        sim.world.link_json(link, sim.base_url)
        for link in sim.world.links.values()
        if (dept_id is None or link.department_id == dept_id)
        and (status is None or link.status == status)
    ]
    page, meta = page_of(request, links, ("inserted_at", "id"), "inserted_at", "desc", errors,
                         lambda i, k: i[k])  # fmt: skip
    return JSONResponse({"data": page, "meta": meta})


# ---- public widget ------------------------------------------------------------------------


def _active_link_department(request: Request, sim: Simulator) -> str:
    link = sim.world.link_by_token(str(request.path_params["token"]))
    if link is None or link.status != "active":
        raise HTTPFail(detail(404, "Not found"))
    return link.department_id


@endpoint(lambda sim: sim.widget_limiter)
async def widget_validate(request: Request, sim: Simulator) -> Response:
    dept_id = _active_link_department(request, sim)
    queue_size = len(sim.world.queues[dept_id])
    data = {
        "valid": True,
        "department_name": sim.world.departments[dept_id].name,
        "company_name": COMPANY_NAME,
        "company_logo_url": None,
        "primary_color": "#1f6feb",
        "queue_size": queue_size,
        "estimated_wait_time": sim.scenario.estimated_wait(dept_id, queue_size + 1),
        "online_agents": sim.scenario.online_agents(dept_id),
    }
    return JSONResponse({"data": data})


@endpoint(lambda sim: sim.widget_limiter)
async def widget_join(request: Request, sim: Simulator) -> Response:
    dept_id = _active_link_department(request, sim)
    body = await json_body(request)
    (name,) = required(body, "name")
    dept = sim.world.departments[dept_id]
    if len(sim.world.queues[dept_id]) >= dept.max_queue_size:
        raise invalid({"queue": ["is full"]})
    extra = {k: v if isinstance(v := body.get(k), str) else None for k in WIDGET_FIELDS}
    joined = sim.scenario.add_customer(
        dept_id, name.strip(), extra["reason"], extra["email"], extra["phone"]
    )
    position = sim.world.position(joined) or 1
    data = {
        "call_id": joined.id,
        "status": "queued",
        "position": position,
        "estimated_wait_time": sim.scenario.estimated_wait(dept_id, position),
        "websocket_token": sim.auth.issue_customer(joined.id),
        "websocket_url": sim.ws_url,
    }
    return JSONResponse({"data": data})


@endpoint(lambda sim: sim.widget_limiter)
async def widget_status(request: Request, sim: Simulator) -> Response:
    found = sim.world.calls.get(as_uuid(request.path_params["call_id"]) or "")
    if found is None:
        return detail(404, "Not found")
    data = {"call_id": found.id, "status": found.status, "position": sim.world.position(found)}
    return JSONResponse({"data": data})


ROUTES = [
    Route("/api/auth/login", login, methods=["POST"]),
    Route("/api/auth/mfa/verify", mfa_verify, methods=["POST"]),
    Route("/api/auth/refresh", refresh, methods=["POST"]),
    Route("/api/auth/logout", logout, methods=["POST"]),
    Route("/api/v1/users/me", me),
    Route("/api/v1/departments", departments),
    Route("/api/v1/departments/{id}", department),
    Route("/api/v1/departments/{id}/users", department_users),
    Route("/api/v1/calls", calls),
    Route("/api/v1/calls/{id}", call),
    Route("/api/v1/access-links", access_links),
    Route("/api/v1/call/status/{call_id}", widget_status),
    Route("/api/v1/call/{token}/validate", widget_validate),
    Route("/api/v1/call/{token}/join", widget_join, methods=["POST"]),
]
