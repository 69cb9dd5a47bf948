"""Live sockets and topic subscriptions: the simulator's PubSub and transport layer.

Frames are written straight to each socket's asyncio transport as pre-framed bytes. A
broadcast is serialized and framed once per serializer and the same bytes go to every
subscriber (Phoenix's fastlane). Writes made in one event-loop step are coalesced into one
``transport.write`` per socket, which keeps 200 sockets at 500 events/s cheap.

``lose`` models a Phoenix cluster whose PubSub is at-most-once between nodes: for a while,
broadcasts (queue events, presence diffs, notifications) are not delivered to any socket,
while the world they describe still changes. Replies, pushes (``presence_state``) and
heartbeats are not broadcasts and are never lost; no socket is closed.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from .auth import Claims
from .wire import Serializer, text_frame

log = logging.getLogger("voki_tui.sim")

AsgiSend = Callable[[dict[str, Any]], Awaitable[None]]
_ids = itertools.count(1)
MAX_BACKLOG_BYTES = 64 * 1024 * 1024  # a client this far behind is cut, not buffered forever


@dataclass(slots=True)
class Channel:
    """One joined topic on one socket."""

    topic: str
    join_ref: Any


@dataclass(slots=True)
class Loss:
    """A window in which broadcasts are dropped: until ``until`` (monotonic), each broadcast
    (on ``topic`` only, if set) with probability ``share``."""

    until: float
    share: float
    topic: str | None

    def to_json(self, now: float) -> dict[str, Any]:
        return {
            "seconds_left": round(self.until - now, 3),
            "share": self.share,
            "topic": self.topic,
        }


class Conn:
    """One accepted websocket."""

    def __init__(
        self,
        claims: Claims,
        serializer: Serializer,
        transport: asyncio.Transport,
        asgi_send: AsgiSend,
        now: float,
    ) -> None:
        self.id = next(_ids)
        self.claims = claims
        self.serializer = serializer
        self.transport = transport
        self.asgi_send = asgi_send
        self.channels: dict[str, Channel] = {}
        self.last_recv = now
        self.silent = False
        self.unsilenced = asyncio.Event()
        self.unsilenced.set()
        self.closing = False
        self.frames_sent = 0
        self._pending: list[bytes] = []

    def __repr__(self) -> str:
        return f"Conn(id={self.id}, role={self.claims.role}, channels={len(self.channels)})"

    def write(self, frame: bytes) -> None:
        """Queue a framed message; flushed at the end of this loop step."""
        if self.silent or self.closing:
            return
        if not self._pending:
            asyncio.get_running_loop().call_soon(self.flush)
        self._pending.append(frame)
        self.frames_sent += 1

    def flush(self) -> None:
        if not self._pending:
            return
        data = b"".join(self._pending)
        self._pending.clear()
        if self.transport.is_closing():
            return
        if self.transport.get_write_buffer_size() > MAX_BACKLOG_BYTES:
            log.warning("socket %d stopped reading (backlog over limit): cutting it", self.id)
            self.abort()
            return
        self.transport.write(data)

    def push(self, join_ref: Any, ref: Any, topic: str, event: str, payload: Any) -> None:
        self.write(text_frame(self.serializer.encode(join_ref, ref, topic, event, payload)))

    async def close(self, code: int) -> None:
        """Close with a WebSocket close frame after what is already queued."""
        if self.closing:
            return
        self.flush()
        self.closing = True
        try:
            await self.asgi_send({"type": "websocket.close", "code": code})
        except Exception:  # the peer may already be gone
            log.debug("close of socket %d failed", self.id, exc_info=True)

    def abort(self) -> None:
        """Cut the TCP connection with no close frame (the client sees 1006)."""
        self.closing = True
        self._pending.clear()
        self.transport.abort()


class Hub:
    """Sockets, subscriptions, broadcasts and the socket-wide faults (drop, silence, raw, lose)."""

    def __init__(self, loss_rng: random.Random | None = None) -> None:
        self.conns: set[Conn] = set()
        self._subs: dict[str, set[Conn]] = {}
        self.events_sent = 0
        self.events_lost = 0
        self.loss: Loss | None = None
        self._loss_rng = loss_rng if loss_rng is not None else random.Random()

    def add(self, conn: Conn) -> None:
        self.conns.add(conn)

    def remove(self, conn: Conn) -> None:
        self.conns.discard(conn)
        for topic in conn.channels:
            self.unsubscribe(topic, conn)
        conn.channels.clear()

    def subscribe(self, topic: str, conn: Conn) -> None:
        self._subs.setdefault(topic, set()).add(conn)

    def unsubscribe(self, topic: str, conn: Conn) -> None:
        subs = self._subs.get(topic)
        if subs is not None:
            subs.discard(conn)
            if not subs:
                del self._subs[topic]

    def broadcast(self, topic: str, event: str, payload: dict[str, Any]) -> None:
        """``[null, null, topic, event, payload]`` to every subscriber, encoded once."""
        self.events_sent += 1
        if self.loss is not None and self._lost(topic):
            self.events_lost += 1
            return
        subs = self._subs.get(topic)
        if not subs:
            return
        frames: dict[str, bytes] = {}
        for conn in subs:
            ser = conn.serializer
            frame = frames.get(ser.name)
            if frame is None:
                frame = frames[ser.name] = text_frame(ser.encode(None, None, topic, event, payload))
            conn.write(frame)

    def lose(self, seconds: float, share: float = 1.0, topic: str | None = None) -> None:
        """Drop broadcasts for ``seconds`` (replacing any earlier window; 0 ends it)."""
        self.loss = Loss(time.monotonic() + seconds, share, topic) if seconds > 0 else None

    def losing(self) -> dict[str, Any] | None:
        """The loss window in force, for ``/__sim/state``."""
        now = time.monotonic()
        if self.loss is not None and self.loss.until <= now:
            self.loss = None
        return None if self.loss is None else self.loss.to_json(now)

    def _lost(self, topic: str) -> bool:
        loss = self.loss
        assert loss is not None
        if loss.until <= time.monotonic():
            self.loss = None
            return False
        if loss.topic is not None and loss.topic != topic:
            return False
        return loss.share >= 1.0 or self._loss_rng.random() < loss.share

    def raw(self, text: str) -> int:
        frame = text_frame(text)
        for conn in self.conns:
            conn.write(frame)
        return len(self.conns)

    def drop(self) -> int:
        conns = list(self.conns)
        for conn in conns:
            conn.abort()
        return len(conns)

    def silence(self, seconds: float) -> int:
        """Stop reading from and writing to every current socket for ``seconds``."""
        conns = [c for c in self.conns if not c.silent]
        for conn in conns:
            conn.flush()
            conn.silent = True
            conn.unsilenced.clear()
            conn.transport.pause_reading()
        asyncio.get_running_loop().call_later(seconds, self._unsilence, conns)
        return len(conns)

    @staticmethod
    def _unsilence(conns: list[Conn]) -> None:
        for conn in conns:
            conn.silent = False
            conn.unsilenced.set()
            if not conn.transport.is_closing():
                conn.transport.resume_reading()

    async def reap_idle(self, idle_timeout: float, now: Callable[[], float]) -> None:
        """Close sockets that sent nothing for ``idle_timeout`` (Cowboy: code 1000)."""
        interval = min(1.0, idle_timeout / 4)
        while True:
            await asyncio.sleep(interval)
            limit = now() - idle_timeout
            for conn in [c for c in self.conns if c.last_recv < limit and not c.closing]:
                log.info("socket %d idle for %.0f s: closing", conn.id, idle_timeout)
                await conn.close(1000)
