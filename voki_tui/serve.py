"""``voki-tui serve``: the same board in a browser, for a TV on the wall or a supervisor away
from the floor.

textual-serve runs one voki-tui per browser session (the same app, through Textual's web
driver) and relays its screen over a websocket. The board shows customers' names, so it is
never open to whoever finds the port:

- it listens on loopback unless told otherwise, and says so loudly when it is bound to
  another address without TLS in front (the secret would travel in clear);
- a secret token is made at start and printed in the URL to open; the page and its websocket
  answer 403 to any request without it (the first visit trades the URL's token for an
  HttpOnly, same-site cookie, so the page's own requests carry it). The static files of the
  terminal emulator (its script, style and font) are the same for everyone and carry no data;
- each session is read-only unless ``--allow-actions`` (logging out from a browser tab
  would end the session of the box serving it).

The sessions sign in as the serving box does (its stored session or password source); secrets
reach them through the environment, never the command line.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import secrets
import shlex
import socket
import sys
from pathlib import Path
from typing import Any

from aiohttp import web
from textual_serve.server import Server

from voki_tui.paths import HOME_ENV
from voki_tui.settings import Settings, options

log = logging.getLogger(__name__)

COOKIE = "voki_serve"
DEFAULT_PORT = 8000
TITLE = "voki-tui"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def session_command(settings: Settings, allow_actions: bool) -> str:
    """The voki-tui each browser session runs: the dashboard with the serving box's settings
    as options (secrets stay in the environment), read-only unless actions are allowed."""
    args = [sys.executable, "-m", "voki_tui"]
    for name, option in options():
        value = getattr(settings, name)
        if "cli" not in option.sources or option.secret or name == "demo":
            continue
        if value in (None, False, ()):
            continue
        flag = option.flag_for(name)
        if value is True:
            args.append(flag)
        elif isinstance(value, tuple):
            for item in value:
                args += [flag, str(item)]
        else:
            args += [flag, str(value)]
    if not allow_actions and "--read-only" not in args:
        args.append("--read-only")
    return shlex.join(args)


class BoardServer(Server):
    """textual-serve's server with every page and socket behind a secret token."""

    def __init__(self, command: str, host: str, port: int, token: str | None = None) -> None:
        shown = f"[{host}]" if ":" in host else host
        super().__init__(command, host=host, port=port, title=TITLE)
        self.public_url = f"http://{shown}:{port}"
        self.token = token or secrets.token_urlsafe(24)
        self.sessions = 0  # browser sessions started (each runs its own voki-tui)

    @property
    def url(self) -> str:
        """What to open: the address with the token."""
        return f"{self.public_url}/?token={self.token}"

    def _allowed(self, request: web.Request) -> bool:
        given = request.query.get("token") or request.cookies.get(COOKIE) or ""
        return hmac.compare_digest(given.encode(), self.token.encode())

    async def handle_index(self, request: web.Request) -> Any:
        if not self._allowed(request):
            raise web.HTTPForbidden(text="voki-tui serve: open the URL printed at start")
        response = await super().handle_index(request)
        response.set_cookie(COOKIE, self.token, httponly=True, samesite="Strict")
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"  # the token must not leave
        return response

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        if not self._allowed(request):
            raise web.HTTPForbidden(text="voki-tui serve: no valid token")
        self.sessions += 1
        log.info("browser session %d started", self.sessions)
        return await super().handle_websocket(request)

    async def handle_download(self, request: web.Request) -> web.StreamResponse:
        if not self._allowed(request):
            raise web.HTTPForbidden(text="voki-tui serve: no valid token")
        return await super().handle_download(request)

    async def on_startup(self, app: web.Application) -> None:
        print(f"voki-tui serve: open {self.url}", flush=True)
        if not is_loopback(self.host):
            print(
                f"voki-tui serve: WARNING: listening on {self.host} without TLS: the token and "
                "the board travel in clear; put a TLS proxy in front or use --host 127.0.0.1",
                file=sys.stderr,
                flush=True,
            )


def run(
    settings: Settings, host: str, port: int, allow_actions: bool, home: Path | None = None
) -> int:
    """Serve until interrupted. The sessions inherit this process's environment: a password
    given to it (``--demo``'s) goes there, never on their command line; ``home`` keeps their
    files apart (``--demo``'s temporary directory)."""
    if settings.password:
        os.environ["VOKI_PASSWORD"] = settings.password
    if home is not None:
        os.environ[HOME_ENV] = str(home)
    server = BoardServer(session_command(settings, allow_actions), host, port or free_port(host))
    server.serve()
    return 0


def free_port(host: str) -> int:
    """A port free on ``host`` now (for ``--port 0``: the URL printed must name the real one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.bind((host.strip("[]"), 0))
        port: int = probe.getsockname()[1]
        return port
