"""Assembling the simulator: its state, the ASGI app, and an async server on any event loop.

``SimServer`` runs uvicorn on the caller's loop (``await start()`` / ``await stop()``); the CLI
and ``voki_tui.sim.testing`` build on it. The listening socket is bound with SO_REUSEADDR so
a restart can take the same port again at once, and with TCP_NODELAY (see ``bind_socket``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import socket
from collections import deque
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from . import control, rest
from .auth import RateLimiter, TokenAuthority
from .channels import Router, refuse_upgrade, socket_endpoint
from .clock import Clock
from .config import SimConfig
from .hub import Hub
from .presence import PresenceBook
from .scenario import Scenario
from .world import DEMO_EMAILS, build_world

log = logging.getLogger("voki_tui.sim")
SOCKET_PATH = "/socket/websocket"
AUTH_LOG_MAX = 100_000


class Simulator:
    """Everything one running simulator knows; mutated only on its event loop."""

    def __init__(self, config: SimConfig, base_url: str) -> None:
        self.config = config
        self.base_url = base_url
        self.ws_url = base_url.replace("http", "ws", 1) + SOCKET_PATH
        self.clock = Clock(config.clock_offset)  # the one source of "now" (clock.py)
        rng = random.Random(config.seed)
        self.world = build_world(config, rng, self.clock.now())
        self.auth = TokenAuthority(
            config.secret,
            config.access_ttl,
            config.refresh_ttl,
            now=self.clock.now,
            boot=config.boot,
            forget_sessions_on_restart=config.forget_sessions_on_restart,
        )
        self.auth_limiter: RateLimiter = RateLimiter(config.auth_rate_limit)
        self.widget_limiter: RateLimiter = RateLimiter(config.widget_rate_limit)
        self.hub = Hub(loss_rng=random.Random(f"{config.seed}-lose"))
        self.presence = PresenceBook(self.hub.broadcast, now_ns=self.clock.now_ns)
        self.scenario = Scenario(
            config, self.world, rng, self.presence, self.hub.broadcast, wall=self.clock.now
        )
        self.scenario.seed()
        self.router = Router(self)
        self.bad_frames = 0
        #: Every ``/api/auth/*`` request answered (``GET /__sim/auth-log``), newest last.
        self.auth_log: deque[dict[str, Any]] = deque(maxlen=AUTH_LOG_MAX)

    def __repr__(self) -> str:
        return f"Simulator(url={self.base_url!r}, seed={self.config.seed})"

    @property
    def mfa_secret(self) -> str | None:
        """The TOTP secret of the MFA demo user (printed at start, reported by the state)."""
        user = self.world.user_by_email(DEMO_EMAILS["mfa"])
        return user.mfa_secret if user is not None else None

    def state(self) -> dict[str, Any]:
        """The ``GET /__sim/state`` body: ground truth plus counters."""
        mfa = self.mfa_secret
        return {
            "departments": self.scenario.state(),
            "paused": self.scenario.paused,
            "speed": self.scenario.speed,
            "events_per_second": self.scenario.rate,
            "events_sent": self.hub.events_sent,
            "events_lost": self.hub.events_lost,
            "losing": self.hub.losing(),
            "frames_sent": sum(c.frames_sent for c in self.hub.conns),
            "sockets": len(self.hub.conns),
            "bad_frames": self.bad_frames,
            "clock_offset": self.clock.offset,
            "mfa_totp_secret": mfa,
        }


def build_app(sim: Simulator) -> Any:
    """Starlette serves REST and ``/__sim/``; the websocket path goes to the channels endpoint."""

    async def not_found(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        messages = {404: "Not found", 405: "Method not allowed"}
        return rest.detail(status, messages.get(status, "Error"))

    http = Starlette(
        routes=[*rest.ROUTES, *control.ROUTES],
        exception_handlers={404: not_found, 405: not_found},
    )
    http.state.sim = sim

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            if scope["path"] == SOCKET_PATH:
                await socket_endpoint(sim, scope, receive, send)
            else:
                await receive()
                await refuse_upgrade(scope, send, sim.clock)
            return

        async def send_dated(message: Message) -> None:
            """Every HTTP response gets exactly one ``Date``, from the server's clock
            (uvicorn's own is turned off: it would read the host's)."""
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"date"]
                headers.append((b"date", sim.clock.http_date().encode("ascii")))
                message = {**message, "headers": headers}
            await send(message)

        await http(scope, receive, send_dated if scope["type"] == "http" else send)

    return app


def bind_socket(host: str, port: int) -> socket.socket:
    """The listening socket, made so that every accepted connection has Nagle off.

    asyncio turns TCP_NODELAY on for each accepted socket only when its ``proto`` is
    IPPROTO_TCP, and an accepted socket inherits ``proto`` from the listener: a listener made
    with ``socket(family, SOCK_STREAM)`` (proto 0) left Nagle on. uvicorn writes a response's
    head and body in two ``write`` calls, so the body then waited for the ACK of the head, which
    the client delays (~40 ms): every request on a kept-alive connection took 44 ms. Both the
    IPPROTO_TCP listener and TCP_NODELAY on it (Linux copies it to accepted sockets) fix that.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


class SimServer:
    """One simulator served by uvicorn on the running event loop."""

    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self._sock = bind_socket(config.host, config.port)
        self.port: int = self._sock.getsockname()[1]
        host = f"[{config.host}]" if ":" in config.host else config.host
        self.url = f"http://{host}:{self.port}"
        self.ws_url = f"ws://{host}:{self.port}{SOCKET_PATH}"
        self.sim = Simulator(config, self.url)
        self._server: uvicorn.Server | None = None
        self._tasks: list[asyncio.Task[None]] = []

    def __repr__(self) -> str:
        return f"SimServer(url={self.url!r})"

    async def start(self) -> None:
        uv_config = uvicorn.Config(
            build_app(self.sim),
            ws="websockets-sansio",
            ws_per_message_deflate=False,  # Cowboy's default: no compression
            ws_ping_interval=None,  # Phoenix does not ping clients
            ws_ping_timeout=None,
            lifespan="off",
            date_header=False,  # build_app adds Date from the server's (maybe skewed) clock
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=2,
        )
        server = uvicorn.Server(uv_config)
        self._server = server
        serve = asyncio.create_task(server.serve(sockets=[self._sock]))
        self._tasks = [
            serve,
            asyncio.create_task(self.sim.scenario.run()),
            asyncio.create_task(
                self.sim.hub.reap_idle(self.config.idle_timeout, asyncio.get_running_loop().time)
            ),
        ]
        while not server.started:
            if serve.done():
                serve.result()  # raises the startup error
                raise RuntimeError("voki-sim failed to start")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        """Graceful shutdown: sockets are closed with 1012 (like Phoenix's drainer)."""
        if self._server is not None:
            self._server.should_exit = True
        for task in self._tasks[1:]:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        self._sock.close()

    async def wait(self) -> None:
        """Until uvicorn exits (SIGINT/SIGTERM), then stop the rest."""
        try:
            if self._tasks:
                await self._tasks[0]
        finally:
            await self.stop()
