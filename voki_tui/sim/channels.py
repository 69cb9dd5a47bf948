"""The Phoenix Channels endpoint (``/socket/websocket``) and its topic routing.

Behaviour follows ``phoenix-protocol.md`` and the captured ``phoenix-transcripts.md`` frame for
frame: 403 at upgrade for a bad token or vsn, heartbeat replies, ``unmatched topic`` with a null
join_ref, join replies echoing refs with their JSON type, duplicate join answered before the
old channel's ``phx_close``, ``phx_leave`` reply then ``phx_close``, ``phx_error`` when a
channel crashes, and 1011 for a frame that does not decode.

Channels accept the transcript stand-in's test events (``ping``, ``echo``, ``fail``, ``noreply``,
``stop``); any other client event crashes the channel like a missing ``handle_in`` clause.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import uvicorn
from starlette.types import Receive, Scope, Send

from .auth import Claims
from .clock import Clock
from .hub import Channel, Conn
from .wire import FrameError, Message, serializer_for
from .world import role_rank

if TYPE_CHECKING:
    from .server import Simulator

log = logging.getLogger("voki_tui.sim")

MAX_CHANNELS = 100
ROUTES = ("queue", "presence", "notification", "call")


def _sees_all(role: str) -> bool:
    """Supervisors and managers may join every department's topics; attendants only theirs."""
    return role_rank(role) >= role_rank("supervisor")


def _ok(response: Any) -> dict[str, Any]:
    return {"status": "ok", "response": response}


def _error(reason: str) -> dict[str, Any]:
    return {"status": "error", "response": {"reason": reason}}


class Router:
    """Handles every decoded client message of every socket."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    def handle(self, conn: Conn, msg: Message) -> None:
        if msg.topic == "phoenix" and msg.event == "heartbeat":
            conn.push(None, msg.ref, "phoenix", "phx_reply", _ok({}))
        elif msg.event == "phx_join":
            self._join(conn, msg)
        elif msg.event == "phx_leave":
            self._leave(conn, msg)
        else:
            channel = conn.channels.get(msg.topic)
            if channel is None:
                conn.push(None, msg.ref, msg.topic, "phx_reply", _error("unmatched topic"))
            else:
                self._handle_in(conn, channel, msg)

    def _join(self, conn: Conn, msg: Message) -> None:
        topic = msg.topic
        kind, sep, ident = topic.partition(":")
        if not sep or kind not in ROUTES:
            log.warning("ignoring unmatched topic %r", topic[:80])
            conn.push(None, msg.ref, topic, "phx_reply", _error("unmatched topic"))
            return
        old = conn.channels.pop(topic, None)
        if old is not None:
            self.sim.hub.unsubscribe(topic, conn)
        if old is None and len(conn.channels) >= MAX_CHANNELS:
            conn.push(msg.join_ref, msg.ref, topic, "phx_reply", _error("too many channels joined"))
            return
        refusal = self._authorize(conn.claims, kind, ident)
        if refusal is not None:
            conn.push(msg.join_ref, msg.ref, topic, "phx_reply", _error(refusal))
        else:
            conn.channels[topic] = Channel(topic, msg.join_ref)
            self.sim.hub.subscribe(topic, conn)
            conn.push(msg.join_ref, msg.ref, topic, "phx_reply", _ok(self._join_reply(kind, ident)))
            if kind == "presence":
                state = self.sim.presence.snapshot(topic)
                conn.push(msg.join_ref, None, topic, "presence_state", state)
        if old is not None:
            conn.push(old.join_ref, old.join_ref, topic, "phx_close", {})

    def _authorize(self, claims: Claims, kind: str, ident: str) -> str | None:
        """None when the join is allowed, else the refusal reason."""
        world = self.sim.world
        if claims.role == "customer":
            allowed = kind == "call" and ident == claims.subject
            return None if allowed else "unauthorized"
        user = world.users.get(claims.user_id) if claims.user_id is not None else None
        if user is None:
            return "unauthorized"
        if kind in ("queue", "presence"):
            # The topic names the department's uuid exactly as broadcasts use it.
            if ident not in world.departments:
                return "not_found"
            if not _sees_all(user.role) and ident not in user.department_ids:
                return "unauthorized"
            return None
        if kind == "notification":
            return None if ident == user.id else "unauthorized"
        call = world.calls.get(ident)
        if call is None:
            return "not_found"
        if not _sees_all(user.role) and call.department_id not in user.department_ids:
            return "unauthorized"
        return None

    def _join_reply(self, kind: str, ident: str) -> dict[str, Any]:
        if kind == "queue" and self.sim.config.join_snapshot:
            world = self.sim.world
            items = [world.calls[cid] for cid in world.queues[ident]]
            return {"queue": [self.sim.scenario.customer_json(c) for c in items]}
        return {}

    def _leave(self, conn: Conn, msg: Message) -> None:
        channel = conn.channels.get(msg.topic)
        if channel is None:
            conn.push(msg.join_ref, msg.ref, msg.topic, "phx_reply", _ok({}))
            return
        if msg.join_ref is not None and msg.join_ref != channel.join_ref:
            return  # "the client has raced a server close": Phoenix ignores it
        self._drop_channel(conn, channel)
        conn.push(channel.join_ref, msg.ref, msg.topic, "phx_reply", _ok({}))
        conn.push(channel.join_ref, channel.join_ref, msg.topic, "phx_close", {})

    def _handle_in(self, conn: Conn, channel: Channel, msg: Message) -> None:
        jr, topic = channel.join_ref, channel.topic
        if msg.event == "ping":
            conn.push(jr, msg.ref, topic, "phx_reply", _ok({"pong": True}))
        elif msg.event == "echo" and isinstance(msg.payload, dict):
            conn.push(jr, msg.ref, topic, "phx_reply", _ok(msg.payload))
        elif msg.event == "fail":
            conn.push(jr, msg.ref, topic, "phx_reply", _error("requested_failure"))
        elif msg.event == "noreply":
            pass
        elif msg.event == "stop":
            self._drop_channel(conn, channel)
            conn.push(jr, jr, topic, "phx_close", {})
        else:
            log.warning("channel %r crashed on event %r", topic[:80], msg.event[:80])
            self.crash(conn, channel)

    def crash(self, conn: Conn, channel: Channel) -> None:
        """``phx_error`` with an empty payload, as the captured Phoenix 1.7 server sent it
        (phoenix-transcripts.md 8); Phoenix >= 1.8.10 adds ``{"reason": "channel_crash"}``,
        which clients must accept too, but the sim sends the minimum."""
        self._drop_channel(conn, channel)
        conn.push(channel.join_ref, channel.join_ref, channel.topic, "phx_error", {})

    def close_topic(self, topic: str, crash: bool) -> int:
        """Server-side stop (``phx_close``) or crash (``phx_error``) of a topic on every socket."""
        count = 0
        for conn in list(self.sim.hub.conns):
            channel = conn.channels.get(topic)
            if channel is None:
                continue
            count += 1
            if crash:
                self.crash(conn, channel)
            else:
                self._drop_channel(conn, channel)
                conn.push(channel.join_ref, channel.join_ref, topic, "phx_close", {})
        return count

    def _drop_channel(self, conn: Conn, channel: Channel) -> None:
        conn.channels.pop(channel.topic, None)
        self.sim.hub.unsubscribe(channel.topic, conn)


def _query_param(scope: Scope, name: str) -> str | None:
    query = parse_qs(bytes(scope.get("query_string", b"")).decode("latin-1"))
    values = query.get(name)
    return values[-1] if values else None


async def socket_endpoint(sim: Simulator, scope: Scope, receive: Receive, send: Send) -> None:
    """One websocket, from the upgrade to the last frame."""
    if (await receive())["type"] != "websocket.connect":
        return
    serializer = serializer_for(_query_param(scope, "vsn"))
    claims = sim.auth.verify_access(_query_param(scope, "token"))
    reached = uvicorn_connection(send)
    if serializer is None or claims is None or reached is None:
        if reached is None:
            log.error(
                "websocket refused: uvicorn %s no longer exposes its protocol and transport "
                "behind ASGI send (see uvicorn_connection in voki_tui/sim/channels.py)",
                uvicorn.__version__,
            )
        await refuse_upgrade(scope, send, sim.clock)
        return
    protocol, transport = reached
    date = (b"date", sim.clock.http_date().encode("ascii"))
    await send({"type": "websocket.accept", "headers": [date]})
    loop = asyncio.get_running_loop()
    conn = Conn(claims, serializer, transport, send, loop.time())
    _watch_incoming_bytes(protocol, conn, loop)
    sim.hub.add(conn)
    try:
        await _serve(sim, conn, receive)
    finally:
        sim.hub.remove(conn)


def uvicorn_connection(send: Send) -> tuple[asyncio.Protocol, asyncio.Transport] | None:
    """uvicorn's protocol object for this websocket and its asyncio transport, or None.

    ASGI offers no way to write bytes already framed, to stop reading, or to see bytes that are
    not messages, and the simulator needs all three: a broadcast is one ``transport.write`` of
    one pre-framed message per socket (200 sockets at 500 events/s), ``/__sim/silence`` pauses
    reading, and the idle timer restarts on any bytes, pings included, as Cowboy's does. So this
    reaches into uvicorn's ``websockets-sansio`` implementation (``ws="websockets-sansio"`` in
    ``server.py``): the ASGI ``send`` is a bound method of its ``WebSocketsSansIOProtocol``, an
    ``asyncio.Protocol`` that keeps its ``asyncio.Transport`` in ``transport`` and receives every
    byte through ``data_received``. None when any of that stops being true; the upgrade is then
    refused and logged, and ``tests/sim/test_uvicorn_internals.py`` fails naming what changed.
    """
    protocol = getattr(send, "__self__", None)
    transport = getattr(protocol, "transport", None)
    if not isinstance(protocol, asyncio.Protocol) or not isinstance(transport, asyncio.Transport):
        return None
    return protocol, transport


async def refuse_upgrade(scope: Scope, send: Send, clock: Clock) -> None:
    """HTTP 403 with an empty body, as Phoenix refuses an upgrade, dated by the server's clock."""
    if "websocket.http.response" not in scope.get("extensions", {}):
        await send({"type": "websocket.close"})  # before accept: uvicorn answers 403
        return
    headers = [
        (b"date", clock.http_date().encode("ascii")),
        (b"content-length", b"0"),
        (b"cache-control", b"max-age=0, private, must-revalidate"),
    ]
    await send({"type": "websocket.http.response.start", "status": 403, "headers": headers})
    await send({"type": "websocket.http.response.body", "body": b""})


def _watch_incoming_bytes(
    protocol: asyncio.Protocol, conn: Conn, loop: asyncio.AbstractEventLoop
) -> None:
    """Cowboy restarts its idle timer on any bytes received, pings included: do the same."""
    original = protocol.data_received

    def data_received(data: bytes) -> None:
        conn.last_recv = loop.time()
        original(data)

    setattr(protocol, "data_received", data_received)  # noqa: B010 - instance-level hook


async def _serve(sim: Simulator, conn: Conn, receive: Receive) -> None:
    loop = asyncio.get_running_loop()
    while True:
        message = await receive()
        if message["type"] != "websocket.receive":
            return
        conn.last_recv = loop.time()
        if conn.silent:  # a half-open link: hold what arrived until the silence ends
            conn.transport.pause_reading()
            await conn.unsilenced.wait()
        text = message.get("text")
        try:
            if text is None:
                raise FrameError("binary frames are not supported")
            msg = conn.serializer.decode(text)
        except FrameError as exc:
            sim.bad_frames += 1
            log.warning("socket %d sent an undecodable frame (%s): closing 1011", conn.id, exc)
            await conn.close(1011)
            return
        sim.router.handle(conn, msg)
