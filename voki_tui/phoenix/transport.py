"""The asyncio driver: one websocket at a time, moved by the sans-I/O core.

The core decides everything (when to connect, what to send, when to give up on a silent link);
this module only opens websockets, writes what the core emits, feeds back what arrives, and
sleeps until the core's next deadline. Deliberate choices:

* ``url_provider`` is awaited before every attempt, so a refreshed token is always used.
* No ``websockets`` reconnect loop (``async for ... in connect()``): the core owns backoff.
* ``ping_interval=None`` by default: the Phoenix heartbeat is the one liveness check (it also
  proves the server's socket process is alive, which a websocket pong does not), and its
  interval is the single knob. Pass ``ping_interval`` to add websocket keepalives too.
* ``max_size`` 16 MiB (a big department's ``presence_state`` can pass the 1 MiB default),
  ``open_timeout`` 10 s, no ``Origin`` header, ``proxy=None`` unless one is configured.
* The URL carries the token: it is only ever logged through :func:`redact_url`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import re
import ssl
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urlencode

from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as websocket_connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from voki_tui.phoenix.core import (
    AuthFailed,
    Client,
    CloseConnection,
    Event,
    OpenConnection,
    Params,
    SendText,
    Settings,
)

log = logging.getLogger(__name__)


class _connect(websocket_connect):
    """``websockets``' connect, refusing every redirect of the upgrade.

    The URL carries the access token (``?token=``, as Phoenix wants it), so following a
    redirect, even one on the same origin, hands the token to wherever the Location points.
    The REST client never follows redirects either.
    """

    def process_redirect(self, exc: Exception) -> Exception | str:
        return exc


MAX_MESSAGE_BYTES = 16 * 1024 * 1024
#: How long a closing handshake may take before the TCP connection is simply dropped. Short:
#: we close mostly because the link is dead, and the reconnect should not wait on it.
CLOSE_TIMEOUT_S = 0.5
_TOKEN_PARAM = re.compile(r"(?i)((?:^|[?&;])(?:token|access_token)=)[^&;#]*")


def redact_url(url: str) -> str:
    """``...?token=abc&vsn=2.0.0`` -> ``...?token=<redacted>&vsn=2.0.0``."""
    return _TOKEN_PARAM.sub(r"\1<redacted>", url)


def socket_url(endpoint: str, params: Mapping[str, str]) -> str:
    """``ws://host/socket`` + params -> ``ws://host/socket/websocket?...&vsn=2.0.0`` (§1.1)."""
    base = endpoint.rstrip("/")
    if not base.endswith("/websocket"):
        base += "/websocket"
    query = {k: v for k, v in params.items() if k != "vsn"}
    return f"{base}?{urlencode({**query, 'vsn': '2.0.0'})}"


class PhoenixClient:
    """A Phoenix Channels socket for asyncio: ``await run()`` in a task, then join and push.

    ``on_event`` receives every core event (``Connected``, ``ChannelJoined``, ``Message``, ...)
    on the loop, in order; it must not block (hand slow work to a task). ``auth_refresh`` is
    awaited after a 401/403 at upgrade, once per run of failures; ``url_provider`` is awaited
    before every attempt either way.
    """

    def __init__(
        self,
        url_provider: Callable[[], Awaitable[str]],
        on_event: Callable[[Event], None],
        *,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        settings: Settings | None = None,
        auth_refresh: Callable[[], Awaitable[None]] | None = None,
        proxy: str | None = None,
        open_timeout: float = 10.0,
        max_size: int = MAX_MESSAGE_BYTES,
        ping_interval: float | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.core = Client(settings, rng)
        self._url_provider = url_provider
        self._on_event = on_event
        self._clock = clock
        self._auth_refresh = auth_refresh
        self._proxy = proxy
        self._open_timeout = open_timeout
        self._max_size = max_size
        self._ping_interval = ping_interval
        self._ssl_context = ssl_context  # for wss://; None = the default, verifying context
        self._ws: ClientConnection | None = None
        self._conn_id = 0
        self._reader: asyncio.Task[None] | None = None
        self._inbox: asyncio.Queue[tuple[Any, ...]] = asyncio.Queue()
        self._closing = False
        self._running = False
        self._stopped = asyncio.Event()

    # ------------------------------------------------------------------ commands

    def join(self, topic: str, params: Params = None) -> None:
        self.core.join(topic, params, now=self._clock())
        self._wake()

    def rejoin(self, topic: str) -> None:
        self.core.rejoin(topic, now=self._clock())
        self._wake()

    def leave(self, topic: str) -> None:
        self.core.leave(topic)
        self._wake()

    def push(self, topic: str, event: str, payload: Any, timeout: float | None = None) -> str:
        """Returns the ref that the later ``Reply``/``PushTimeout`` event carries."""
        ref = self.core.push(topic, event, payload, timeout, now=self._clock())
        self._wake()
        return ref

    async def close(self) -> None:
        """Disconnect for good; ``run()`` returns once the websocket is closed."""
        self._closing = True
        self.core.disconnect()
        self._wake()
        if self._running:
            await self._stopped.wait()
        else:
            await self._drop_connection()

    # ------------------------------------------------------------------ loop

    async def run(self) -> None:
        """Connect and keep the link up until :meth:`close`."""
        if self._running:
            raise RuntimeError("PhoenixClient.run() is already running")
        self._running = True
        self._stopped.clear()
        self.core.connect()
        try:
            while True:
                await self._flush()
                if self._closing:
                    return
                await self._wait_for_input()
                self.core.tick(self._clock())
        finally:
            try:
                await self._drop_connection()
            finally:  # even if cancelled again while closing: close() waits on this
                self._running = False
                self._stopped.set()

    def _wake(self) -> None:
        self._inbox.put_nowait(("wake",))

    async def _wait_for_input(self) -> None:
        deadline = self.core.next_deadline()
        timeout = None if deadline is None else max(0.0, deadline - self._clock())
        try:
            async with asyncio.timeout(timeout):
                item = await self._inbox.get()
        except TimeoutError:
            return
        while True:
            self._handle(item)
            if self._inbox.empty():
                return
            await self._flush()  # keep writes flowing during a burst
            item = self._inbox.get_nowait()

    def _handle(self, item: tuple[Any, ...]) -> None:
        kind = item[0]
        if kind == "wake" or item[1] != self._conn_id:
            return  # a command, or news from a websocket the core already gave up
        now = self._clock()
        if kind == "text":
            self.core.on_text(now, item[2])
        elif kind == "binary":
            self.core.on_binary(now, len(item[2]))
        elif kind == "closed":
            self._ws = self._reader = None
            self.core.on_close(now, item[2], item[3])

    async def _flush(self) -> None:
        """Carry out every effect and hand every event to the owner, until the core is quiet."""
        while outputs := self.core.drain():
            for output in outputs:
                if isinstance(output, SendText):
                    await self._send(output.text)
                elif isinstance(output, OpenConnection):
                    await self._open()
                elif isinstance(output, CloseConnection):
                    await self._drop_connection(output.code, output.reason)
                else:
                    self._deliver(output)
                    if isinstance(output, AuthFailed) and output.refresh_requested:
                        await self._refresh_auth()

    def _deliver(self, event: Event) -> None:
        try:
            self._on_event(event)
        except Exception:
            log.exception("phoenix event handler failed on %s", type(event).__name__)

    async def _refresh_auth(self) -> None:
        if self._auth_refresh is None:
            return  # the core retries on its own after the fallback delay
        try:
            await self._auth_refresh()
        except Exception as exc:  # the refresh's own failure is the owner's to report
            log.warning("token refresh after auth failure failed: %s", type(exc).__name__)
            return
        self.core.auth_refreshed()

    async def _open(self) -> None:
        await self._drop_connection()
        url = ""
        try:
            url = await self._url_provider()
            tls: dict[str, Any] = {}
            if self._ssl_context is not None and url.startswith("wss:"):
                tls["ssl"] = self._ssl_context  # websockets refuses ssl= for a ws:// URL
            ws = await _connect(
                url,
                proxy=self._proxy,
                open_timeout=self._open_timeout,
                max_size=self._max_size,
                ping_interval=self._ping_interval,
                user_agent_header="voki-tui",
                **tls,
            )
        except InvalidStatus as exc:
            status = exc.response.status_code
            if 300 <= status < 400:
                log.warning(
                    "websocket upgrade at %s redirected (HTTP %d): not followed, the token "
                    "goes nowhere else",
                    redact_url(url),
                    status,
                )
            else:
                log.warning("websocket upgrade refused by %s: HTTP %d", redact_url(url), status)
            self.core.on_connect_failed(self._clock(), status)
            return
        except Exception as exc:  # network, timeout, handshake, url_provider: retry on schedule
            if url:
                where = redact_url(url)
                log.warning("websocket connect to %s failed: %s", where, type(exc).__name__)
            else:  # the owner could not give a URL (no fresh token yet): it logs why
                log.info("websocket not connected: no URL (%s)", type(exc).__name__)
            self.core.on_connect_failed(self._clock(), None)
            return
        self._conn_id += 1
        self._ws = ws
        self._reader = asyncio.create_task(self._read(ws, self._conn_id), name="phoenix-reader")
        log.info("websocket open: %s", redact_url(url))
        self.core.on_open(self._clock())

    async def _read(self, ws: ClientConnection, conn_id: int) -> None:
        try:
            async for message in ws:
                kind = "text" if isinstance(message, str) else "binary"
                self._inbox.put_nowait((kind, conn_id, message))
        except ConnectionClosed:
            pass
        self._inbox.put_nowait(("closed", conn_id, ws.close_code or 1006, ws.close_reason or ""))

    async def _send(self, text: str) -> None:
        if self._ws is None:
            return  # the link is already down; the core learns it from the reader
        with contextlib.suppress(ConnectionClosed):
            await self._ws.send(text)

    async def _drop_connection(self, code: int = 1000, reason: str = "") -> None:
        """Close the current websocket, if any, without reporting it back to the core."""
        ws, reader = self._ws, self._reader
        self._ws = self._reader = None
        self._conn_id += 1  # anything still queued from it is ignored
        if ws is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(CLOSE_TIMEOUT_S):
                    await ws.close(code, reason)
            ws.transport.abort()  # a dead link never answers the closing handshake
        if reader is not None:
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)
