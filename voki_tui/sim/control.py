"""Loopback-only ``/__sim/`` endpoints: ground truth and fault injection for tests and benchmarks.

Every answer is JSON. A client that is not on the loopback interface gets 403, so exposing the
simulator on another interface never exposes these.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .rest import HTTPFail, as_uuid, detail, invalid, json_body, sim_of
from .world import iso

if TYPE_CHECKING:
    from .server import Simulator

Handler = Callable[[Request], Awaitable[Response]]


def loopback_only(fn: Callable[[Request, Simulator], Awaitable[Response]]) -> Handler:
    async def handler(request: Request) -> Response:
        host = request.client.host if request.client else ""
        try:
            allowed = ipaddress.ip_address(host).is_loopback
        except ValueError:
            allowed = False
        if not allowed:
            return detail(403, "Forbidden")
        try:
            return await fn(request, sim_of(request))
        except HTTPFail as fail:
            return fail.response

    return handler


def _positive_number(request: Request, name: str, allow_zero: bool) -> float:
    raw = request.query_params.get(name)
    try:
        value = float(raw) if raw is not None else None
    except ValueError:
        value = None
    if value is None or not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise invalid({name: ["must be a positive number"]})
    return value


def _finite_number(request: Request, name: str) -> float:
    raw = request.query_params.get(name)
    try:
        value = float(raw) if raw is not None else math.nan
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise invalid({name: ["must be a number"]})
    return value


def _ok(**extra: Any) -> JSONResponse:
    return JSONResponse({"ok": True, **extra})


@loopback_only
async def state(request: Request, sim: Simulator) -> Response:
    return JSONResponse(sim.state())


@loopback_only
async def auth_log(request: Request, sim: Simulator) -> Response:
    """Every ``/api/auth/*`` request this run answered, 429s included, oldest first:
    ``{"requests": [{"at": <host epoch seconds>, "path", "status"}]}``."""
    return JSONResponse({"requests": list(sim.auth_log)})


@loopback_only
async def pause(request: Request, sim: Simulator) -> Response:
    sim.scenario.paused = True
    return _ok(paused=True)


@loopback_only
async def resume(request: Request, sim: Simulator) -> Response:
    sim.scenario.paused = False
    return _ok(paused=False)


@loopback_only
async def drop(request: Request, sim: Simulator) -> Response:
    return _ok(sockets=sim.hub.drop())


@loopback_only
async def silence(request: Request, sim: Simulator) -> Response:
    seconds = _positive_number(request, "seconds", allow_zero=False)
    return _ok(sockets=sim.hub.silence(seconds), seconds=seconds)


@loopback_only
async def lose(request: Request, sim: Simulator) -> Response:
    """For ``seconds``, broadcasts (on ``topic`` only, if given) are not delivered, each with
    probability ``share`` (default 1); the world and ``/__sim/state`` still change."""
    seconds = _positive_number(request, "seconds", allow_zero=True)
    share = 1.0
    if "share" in request.query_params:
        share = _positive_number(request, "share", allow_zero=True)
        if share > 1:
            raise invalid({"share": ["must be between 0 and 1"]})
    topic = request.query_params.get("topic") or None
    sim.hub.lose(seconds, share, topic)
    return _ok(seconds=seconds, share=share, topic=topic)


@loopback_only
async def revoke(request: Request, sim: Simulator) -> Response:
    sim.auth.revoke_access()
    return _ok()


@loopback_only
async def revoke_all(request: Request, sim: Simulator) -> Response:
    sim.auth.revoke_all()
    return _ok()


@loopback_only
async def forget_sessions(request: Request, sim: Simulator) -> Response:
    """The session table is lost: every refresh token issued so far is refused from now on;
    access tokens stay valid until their ``exp`` (``revoke-all`` kills those too)."""
    sim.auth.forget_sessions()
    return _ok()


@loopback_only
async def customers(request: Request, sim: Simulator) -> Response:
    body = await json_body(request)
    dept_id, name = as_uuid(body.get("department_id")), body.get("customer_name")
    errors: dict[str, list[str]] = {}
    if dept_id is None:  # the department's uuid string; an integer is no id
        errors["department_id"] = ["is invalid"]
    elif dept_id not in sim.world.departments:
        errors["department_id"] = ["does not exist"]
    if not isinstance(name, str) or not name.strip():
        errors["customer_name"] = ["can't be blank"]
    reason = body.get("reason")
    if reason is not None and not isinstance(reason, str):
        errors["reason"] = ["is invalid"]
    if errors:
        raise invalid(errors)
    assert dept_id is not None and isinstance(name, str)
    call = sim.scenario.add_customer(dept_id, name, reason)
    return JSONResponse({"data": sim.scenario.customer_json(call)})


@loopback_only
async def raw(request: Request, sim: Simulator) -> Response:
    frame = (await json_body(request)).get("frame")
    if not isinstance(frame, str):
        raise invalid({"frame": ["can't be blank"]})
    return _ok(sockets=sim.hub.raw(frame))


@loopback_only
async def rate(request: Request, sim: Simulator) -> Response:
    sim.scenario.rate = _positive_number(request, "events_per_second", allow_zero=True)
    return _ok(events_per_second=sim.scenario.rate)


@loopback_only
async def clock(request: Request, sim: Simulator) -> Response:
    """Skew the server's clock: its "now" becomes the host's time plus ``offset`` seconds."""
    sim.clock.offset = _finite_number(request, "offset")
    return _ok(offset=sim.clock.offset, now=iso(sim.clock.now()))


@loopback_only
async def close_channel(request: Request, sim: Simulator) -> Response:
    topic = request.query_params.get("topic")
    if not topic:
        raise invalid({"topic": ["can't be blank"]})
    crash = request.query_params.get("crash") in ("1", "true")
    return _ok(channels=sim.router.close_topic(topic, crash))


ROUTES = [
    Route("/__sim/state", state),
    Route("/__sim/auth-log", auth_log),
    Route("/__sim/pause", pause, methods=["POST"]),
    Route("/__sim/resume", resume, methods=["POST"]),
    Route("/__sim/drop", drop, methods=["POST"]),
    Route("/__sim/silence", silence, methods=["POST"]),
    Route("/__sim/lose", lose, methods=["POST"]),
    Route("/__sim/revoke", revoke, methods=["POST"]),
    Route("/__sim/revoke-all", revoke_all, methods=["POST"]),
    Route("/__sim/forget-sessions", forget_sessions, methods=["POST"]),
    Route("/__sim/customers", customers, methods=["POST"]),
    Route("/__sim/raw", raw, methods=["POST"]),
    Route("/__sim/rate", rate, methods=["POST"]),
    Route("/__sim/close-channel", close_channel, methods=["POST"]),
    Route("/__sim/clock", clock, methods=["POST"]),
]
