"""A sans-I/O Phoenix Channels client: one socket, many channels, time passed in.

Why sans-I/O: every rule of the protocol (heartbeats, backoff, join_ref filtering, rejoin after
reconnect) is then a plain function of (inputs, now) and can be tested in microseconds with a
fake clock, as h11 and wsproto do. The asyncio driver in ``transport.py`` only moves bytes.

Contract with a driver:

* Call :meth:`Client.connect`, then repeatedly :meth:`Client.drain` and act on the outputs:
  ``OpenConnection`` (open a websocket, re-reading the URL/token), ``SendText`` and
  ``CloseConnection``; everything else is an event for the owner.
* Report what happened with ``on_open``/``on_connect_failed``/``on_text``/``on_binary``/
  ``on_close``, and call :meth:`Client.tick` no later than :meth:`Client.next_deadline`.
* After ``CloseConnection`` or a new ``OpenConnection`` the old websocket is dead to the core:
  do not report its close.

Where this differs from phoenix.js on purpose (see phoenix-protocol.md §6.1): every close we did
not ask for reconnects (1000 included); both backoff tables are jittered; joins are sent only
while connected and never buffered; join errors ``unmatched topic``, ``unauthorized``,
``not_found`` and ``forbidden`` are *permanent*: retried once per new connection and otherwise
every ``permanent_rejoin_interval`` seconds (60 s, or never if None), not every 10 s; a 401/403
at upgrade asks the owner for one token refresh before backing off; in-flight pushes are
reported as timed out when the connection drops (their outcome is unknown); a clock jump
(suspend) triggers an immediate heartbeat with a short deadline.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from voki_tui.phoenix import frames
from voki_tui.phoenix.frames import (
    MAX_FRAME_CHARS,
    Frame,
    FrameError,
    decode_fields,
    encode,
    ref_key,
)
from voki_tui.retry import Backoff

log = logging.getLogger(__name__)

HEARTBEAT_TOPIC = "phoenix"
PERMANENT_JOIN_ERRORS = frozenset({"unmatched topic", "unauthorized", "not_found", "forbidden"})
#: Events the core handles itself; every other event on a joined channel is a Message.
_CONTROL_EVENTS = frozenset({"phx_reply", "phx_close", "phx_error"})

#: phoenix.js ``reconnectAfterMs`` and ``rejoinAfterMs``, in seconds, jittered.
RECONNECT = Backoff(steps=(0.01, 0.05, 0.1, 0.15, 0.2, 0.25, 0.5, 1.0, 2.0), maximum=5.0)
REJOIN = Backoff(steps=(1.0, 2.0, 5.0), maximum=10.0)
#: The upgrade refused again right after a token refresh: not a token problem (a proxy that
#: blocks websockets, an account without socket access), so retrying every few seconds would
#: only spend a refresh each time. Try again rarely.
REFUSED = Backoff(steps=(10.0, 30.0, 60.0, 120.0), maximum=300.0)


@dataclass(frozen=True, slots=True)
class Settings:
    """Timers in seconds. Defaults are phoenix.js's constants (phoenix-protocol.md §9)."""

    heartbeat_interval: float = 30.0
    heartbeat_timeout: float = 30.0
    push_timeout: float = 10.0
    reconnect: Backoff = RECONNECT
    rejoin: Backoff = REJOIN
    refused: Backoff = REFUSED
    #: A channel refused for good (unauthorized, not found) is tried again this often
    #: (jittered like ``rejoin``): permissions change.
    permanent_rejoin_interval: float | None = 60.0
    #: A timer firing this much later than due means the process was suspended.
    suspend_threshold: float = 5.0
    #: After a suspend, the probe heartbeat must be answered within this (capped by timeout).
    probe_timeout: float = 10.0
    #: Floor of the delay before retrying after an auth failure if the owner never confirms
    #: a refresh with ``auth_refreshed()``.
    auth_refresh_wait: float = 10.0


# ----------------------------------------------------------------------------- outputs


@dataclass(frozen=True, slots=True)
class OpenConnection:
    """Open a new websocket; re-read the URL and token first."""


@dataclass(frozen=True, slots=True)
class SendText:
    text: str


@dataclass(frozen=True, slots=True)
class CloseConnection:
    code: int
    reason: str


@dataclass(frozen=True, slots=True)
class Connected:
    """The websocket is open; channels are being (re)joined."""


@dataclass(frozen=True, slots=True)
class Disconnected:
    """An open link went down. ``retry_at`` is None when we closed it on request."""

    code: int
    reason: str
    retry_at: float | None


@dataclass(frozen=True, slots=True)
class ReconnectScheduled:
    at: float
    attempt: int  # consecutive failed attempts so far (1 for the first retry)


@dataclass(frozen=True, slots=True)
class AuthFailed:
    """The upgrade was refused with 401/403.

    With ``refresh_requested`` the owner should refresh the token and call
    ``auth_refreshed()``; otherwise (second failure in a row) the core just backs off.
    """

    status: int
    refresh_requested: bool


@dataclass(frozen=True, slots=True)
class ChannelJoined:
    topic: str
    join_ref: str
    response: Any


@dataclass(frozen=True, slots=True)
class JoinFailed:
    """The join was refused (``reason`` from the reply) or timed out (``"timeout"``)."""

    topic: str
    reason: str
    permanent: bool


@dataclass(frozen=True, slots=True)
class ChannelErrored:
    """The channel is down (crash, transport loss); it rejoins on its own."""

    topic: str
    reason: str


@dataclass(frozen=True, slots=True)
class ChannelClosed:
    """Closed by the server (``phx_close``) or left by us; it is forgotten, no rejoin."""

    topic: str


@dataclass(slots=True)
class Message:
    """An application event, presence_state and presence_diff included.

    Read-only by convention, not frozen: one is built per frame, and a frozen dataclass's
    ``__init__`` (``object.__setattr__`` per field) costs three times as much.
    """

    topic: str
    event: str
    payload: dict[str, Any]
    join_ref: str | None


@dataclass(frozen=True, slots=True)
class Reply:
    topic: str
    ref: str
    status: str
    response: Any


@dataclass(frozen=True, slots=True)
class PushTimeout:
    """No reply in time, or the connection dropped before it came: outcome unknown."""

    topic: str
    ref: str


@dataclass(frozen=True, slots=True)
class ProtocolViolation:
    reason: str


Effect = OpenConnection | SendText | CloseConnection
Event = (
    Connected
    | Disconnected
    | ReconnectScheduled
    | AuthFailed
    | ChannelJoined
    | JoinFailed
    | ChannelErrored
    | ChannelClosed
    | Message
    | Reply
    | PushTimeout
    | ProtocolViolation
)
Output = Effect | Event


@dataclass(slots=True)
class Stats:
    """What the core counted; the live feed publishes them in its ``Counters`` (help, JSON).

    ``last_heartbeat_rtt`` is the round trip of the last answered heartbeat, not a counter.
    """

    frames_in: int = 0
    malformed: int = 0
    stale_dropped: int = 0
    unrouted: int = 0
    reconnects: int = 0
    heartbeat_timeouts: int = 0
    last_heartbeat_rtt: float | None = None


# ----------------------------------------------------------------------------- state


class LinkState(Enum):
    IDLE = "idle"  # not asked to connect, or disconnected on request
    CONNECTING = "connecting"  # OpenConnection emitted, waiting for on_open/on_connect_failed
    OPEN = "open"
    WAITING = "waiting"  # reconnect scheduled
    AUTH_WAIT = "auth_wait"  # waiting for auth_refreshed() (or the fallback deadline)


#: Read on every frame: a module global is one lookup, ``LinkState.OPEN`` two.
_OPEN = LinkState.OPEN


class ChannelState(Enum):
    CLOSED = "closed"  # wanted, but not sent yet (no connection)
    JOINING = "joining"
    JOINED = "joined"
    ERRORED = "errored"  # waiting for a rejoin


Params = Mapping[str, Any] | Callable[[], Mapping[str, Any]] | None


@dataclass(slots=True)
class _Push:
    topic: str
    ref: str
    event: str
    payload: Any
    deadline: float


@dataclass(slots=True)
class _Channel:
    topic: str
    params: Params
    state: ChannelState = ChannelState.CLOSED
    join_ref: str | None = None
    join_deadline: float | None = None
    rejoin_at: float | None = None
    rejoin_tries: int = 0
    buffer: list[_Push] = field(default_factory=list)


class Client:
    """The socket and channel state machine. Not thread-safe; one owner drives it."""

    def __init__(self, settings: Settings | None = None, rng: random.Random | None = None) -> None:
        self.settings = settings or Settings()
        self.stats = Stats()
        self._rng = rng or random.Random()  # jitter, not security
        self._out: list[Output] = []
        self._link = LinkState.IDLE
        self._ref = 0
        self._reconnect_tries = 0
        self._reconnect_at: float | None = None
        self._auth_refresh_used = False
        self._auth_refused_runs = 0  # upgrades refused (401/403) in a row
        self._hb_ref: str | None = None
        self._hb_sent_at = 0.0
        self._hb_due: float | None = None  # next heartbeat send time, when none is pending
        self._hb_deadline: float | None = None  # reply deadline of the pending heartbeat
        self._last_now = 0.0
        self._channels: dict[str, _Channel] = {}
        self._inflight: dict[str, _Push] = {}

    # ------------------------------------------------------------------ queries

    @property
    def link_state(self) -> LinkState:
        return self._link

    def channel_state(self, topic: str) -> ChannelState | None:
        ch = self._channels.get(topic)
        return None if ch is None else ch.state

    def join_ref(self, topic: str) -> str | None:
        ch = self._channels.get(topic)
        return None if ch is None else ch.join_ref

    def drain(self) -> list[Output]:
        """Effects and events produced since the last call, in order."""
        out, self._out = self._out, []
        return out

    def next_deadline(self) -> float | None:
        """The earliest time :meth:`tick` must be called, or None if nothing is timed."""
        times: list[float] = []
        waiting = self._link in (LinkState.WAITING, LinkState.AUTH_WAIT)
        if waiting and self._reconnect_at is not None:
            times.append(self._reconnect_at)
        if self._link is LinkState.OPEN:
            if self._hb_deadline is not None:
                times.append(self._hb_deadline)
            elif self._hb_due is not None:
                times.append(self._hb_due)
            for ch in self._channels.values():
                if ch.join_deadline is not None:
                    times.append(ch.join_deadline)
                if ch.rejoin_at is not None:
                    times.append(ch.rejoin_at)
            times.extend(p.deadline for p in self._inflight.values())
        times.extend(p.deadline for ch in self._channels.values() for p in ch.buffer)
        return min(times) if times else None

    # ------------------------------------------------------------------ commands

    def connect(self) -> None:
        """Ask for a connection. No-op unless idle."""
        if self._link is LinkState.IDLE:
            self._open()

    def disconnect(self) -> None:
        """Close on request; no reconnect. Channels stay registered and rejoin on connect()."""
        if self._link is LinkState.IDLE:
            return
        was_up = self._link in (LinkState.OPEN, LinkState.CONNECTING)
        if was_up:
            self._emit(CloseConnection(1000, "client disconnect"))
        self._link = LinkState.IDLE
        self._reconnect_at = None
        self._reconnect_tries = 0
        self._channels_down("disconnected")
        if was_up:
            self._emit(Disconnected(1000, "client disconnect", None))

    def auth_refreshed(self) -> None:
        """The owner refreshed the token after :class:`AuthFailed`: retry at once."""
        if self._link is LinkState.AUTH_WAIT:
            self._open()

    def join(self, topic: str, params: Params = None, *, now: float | None = None) -> None:
        """Join ``topic`` now if connected, else as soon as the connection opens.

        ``params`` may be a callable, re-evaluated for every (re)join. Joining a topic that is
        already registered is a programming error (leave it first). ``now`` defaults to the
        last instant the core observed; pass the clock's value for exact timeouts.
        """
        if topic in self._channels:
            raise ValueError(f"already joined or joining {topic!r}")
        if topic == HEARTBEAT_TOPIC:
            raise ValueError("the 'phoenix' topic is reserved for heartbeats")
        ch = _Channel(topic, params)
        self._channels[topic] = ch
        if self._link is LinkState.OPEN:
            self._send_join(ch, self._last_now if now is None else now)

    def rejoin(self, topic: str, *, now: float | None = None) -> None:
        """Join ``topic`` again on the open socket, for fresh state (a new ``presence_state``).

        The current join is left first, as phoenix.js does when it joins a topic again, so
        the server does not keep two; whatever is still addressed to the old join_ref (the
        leave's reply, its ``phx_close``) is then dropped as stale. A channel waiting to
        rejoin after an error is joined now. Without an open socket nothing happens: every
        channel is joined again when the socket opens.
        """
        ch = self._channels.get(topic)
        if ch is None:
            raise ValueError(f"not joined: {topic!r}")
        if self._link is not LinkState.OPEN:
            return
        if ch.join_ref is not None and ch.state in (ChannelState.JOINING, ChannelState.JOINED):
            self._send(Frame(ch.join_ref, self._make_ref(), topic, "phx_leave", {}))
        self._send_join(ch, self._last_now if now is None else now)

    def leave(self, topic: str) -> None:
        """Leave and forget ``topic``. ChannelClosed is emitted at once (as phoenix.js does);
        the server's late reply and phx_close are then dropped as unrouted or stale."""
        ch = self._channels.pop(topic, None)
        if ch is None:
            return
        if self._link is LinkState.OPEN and ch.state in (ChannelState.JOINING, ChannelState.JOINED):
            self._send(Frame(ch.join_ref, self._make_ref(), topic, "phx_leave", {}))
        for push in ch.buffer:
            self._emit(PushTimeout(topic, push.ref))
        for ref in [r for r, p in self._inflight.items() if p.topic == topic]:
            del self._inflight[ref]
            self._emit(PushTimeout(topic, ref))
        self._emit(ChannelClosed(topic))

    def push(
        self,
        topic: str,
        event: str,
        payload: Any,
        timeout: float | None = None,
        *,
        now: float | None = None,
    ) -> str:
        """Send ``event`` on a joined channel (or buffer it while joining); returns its ref.

        The answer comes as :class:`Reply` or :class:`PushTimeout` carrying that ref.
        """
        ch = self._channels.get(topic)
        if ch is None:
            raise ValueError(f"push to {topic!r} before join")
        start = self._last_now if now is None else now
        wait = self.settings.push_timeout if timeout is None else timeout
        push = _Push(topic, self._make_ref(), event, payload, start + wait)
        if self._link is LinkState.OPEN and ch.state is ChannelState.JOINED:
            self._send_push(ch, push)
        else:
            ch.buffer.append(push)
        return push.ref

    # ------------------------------------------------------------------ inputs

    def on_open(self, now: float) -> None:
        if self._link is not LinkState.CONNECTING:
            return
        self._observe(now)
        self._link = LinkState.OPEN
        self._reconnect_tries = 0
        self._auth_refresh_used = False
        self._auth_refused_runs = 0
        self._hb_ref = self._hb_deadline = None
        self._hb_due = now + self.settings.heartbeat_interval
        self._emit(Connected())
        for ch in list(self._channels.values()):
            ch.rejoin_tries = 0
            self._send_join(ch, now)

    def on_connect_failed(self, now: float, status: int | None) -> None:
        """The attempt failed; ``status`` is the HTTP status of a refused upgrade, if any."""
        if self._link is not LinkState.CONNECTING:
            return
        self._observe(now)
        self._reconnect_tries += 1
        if status not in (401, 403):
            self._auth_refresh_used = False  # a different failure breaks the run of auth failures
            self._auth_refused_runs = 0
        else:
            self._auth_refused_runs += 1
            first = not self._auth_refresh_used
            self._auth_refresh_used = True
            self._emit(AuthFailed(status, refresh_requested=first))
            if first:
                delay = max(self._reconnect_delay(), self.settings.auth_refresh_wait)
                self._link = LinkState.AUTH_WAIT
                self._reconnect_at = now + delay
                self._emit(ReconnectScheduled(self._reconnect_at, self._reconnect_tries))
                return
        self._schedule_reconnect(now)

    def on_close(self, now: float, code: int, reason: str = "") -> None:
        """The open websocket closed without our asking (any code, 1000 included)."""
        if self._link is not LinkState.OPEN:
            return
        self._observe(now)
        self._lose_connection(now, "connection_closed")
        self._reconnect_tries += 1
        self._schedule_reconnect(now, Disconnected(code, reason, None))

    def on_text(self, now: float, text: str | bytes) -> None:
        if self._link is not _OPEN:
            return
        last, self._last_now = self._last_now, now
        if now - last > self.settings.suspend_threshold:
            self._probe_if_suspended(now)
        self.stats.frames_in += 1
        # The common frame, first and in few steps: a V2 array (``frames.fast_loads``: orjson or
        # the stdlib's C scanner; no call to ``decode_fields`` on this path), an event on a
        # joined channel, broadcast (no join_ref) or for the current join. Anything else,
        # malformed input included, takes ``decode_fields`` and the general dispatch with its
        # exact rules.
        if type(text) is str and len(text) <= MAX_FRAME_CHARS:
            try:
                data = frames.fast_loads(text)
            except Exception:  # re-parsed below, for its exact reason
                data = None
            if type(data) is list and len(data) >= 5:
                join_ref, topic, event, payload = data[0], data[2], data[3], data[4]
                ch = self._channels.get(topic) if type(topic) is str else None
                if (
                    ch is not None
                    and type(event) is str
                    and type(payload) is dict
                    and event not in _CONTROL_EVENTS
                    and ((ref := data[1]) is None or type(ref) is str or type(ref) is int)
                ):
                    if join_ref is None:
                        self._out.append(Message(topic, event, payload, None))
                        return
                    if type(join_ref) is str and join_ref == ch.join_ref:
                        self._out.append(Message(topic, event, payload, join_ref))
                        return
        try:
            join_ref, ref, topic, event, payload = decode_fields(text)
        except FrameError as exc:
            self._violation(str(exc))
            return
        self._dispatch(now, Frame(join_ref, ref, topic, event, payload))

    def on_binary(self, now: float, size: int) -> None:
        """Binary frames are not used by a JSON-only client: counted, logged, ignored."""
        if self._link is not LinkState.OPEN:
            return
        self._observe(now)
        self.stats.frames_in += 1
        self._violation(f"unexpected binary frame of {size} bytes")

    def tick(self, now: float) -> None:
        """Fire every timer that is due at ``now``."""
        self._observe(now)
        waiting = self._link in (LinkState.WAITING, LinkState.AUTH_WAIT)
        if waiting and self._reconnect_at is not None and now >= self._reconnect_at:
            self._open()
        self._expire_buffers(now)
        if self._link is not LinkState.OPEN:
            return
        for ref in [r for r, p in self._inflight.items() if now >= p.deadline]:
            push = self._inflight.pop(ref)
            self._emit(PushTimeout(push.topic, ref))
        for ch in list(self._channels.values()):
            if ch.join_deadline is not None and now >= ch.join_deadline:
                self._join_timed_out(ch, now)
            elif ch.rejoin_at is not None and now >= ch.rejoin_at:
                ch.rejoin_tries += 1
                self._send_join(ch, now)
        if self._hb_deadline is not None and now >= self._hb_deadline:
            self._heartbeat_timed_out(now)
        elif self._hb_ref is None and self._hb_due is not None and now >= self._hb_due:
            self._send_heartbeat(now, self.settings.heartbeat_timeout)

    # ------------------------------------------------------------------ internals

    def _emit(self, output: Output) -> None:
        self._out.append(output)

    def _make_ref(self) -> str:
        self._ref += 1
        return str(self._ref)

    def _send(self, frame: Frame) -> None:
        self._emit(SendText(encode(frame)))

    def _violation(self, reason: str) -> None:
        self.stats.malformed += 1
        log.warning("phoenix protocol violation: %s", reason)
        self._emit(ProtocolViolation(reason))

    def _reconnect_delay(self) -> float:
        if self._auth_refused_runs > 1:  # refused again with a fresh token
            return self.settings.refused.delay(self._auth_refused_runs - 1, self._rng)
        return self.settings.reconnect.delay(self._reconnect_tries, self._rng)

    def _observe(self, now: float) -> None:
        """Note the time; a timer overdue by far more than scheduling jitter means the
        process was suspended (laptop sleep): the link may be long dead, so probe it now
        with a heartbeat on a short deadline instead of trusting stale timers."""
        last, self._last_now = self._last_now, now
        # Every timer due at the previous observation has fired since (the owner ticks after
        # each batch of input), so a timer overdue by more than the threshold implies a gap
        # that long since then. Checking the gap first keeps this O(1) per frame; scanning
        # every channel's deadlines on every frame cost a third of the decode path.
        if now - last > self.settings.suspend_threshold:
            self._probe_if_suspended(now)

    def _probe_if_suspended(self, now: float) -> None:
        """After a gap in observations: heartbeat at once if a timer is overdue by far."""
        if self._link is not LinkState.OPEN:
            return
        deadline = self.next_deadline()
        if deadline is not None and now - deadline > self.settings.suspend_threshold:
            log.info("clock jump detected: probing the connection with a heartbeat")
            timeout = min(self.settings.probe_timeout, self.settings.heartbeat_timeout)
            self._send_heartbeat(now, timeout)

    def _open(self) -> None:
        self._link = LinkState.CONNECTING
        self._reconnect_at = None
        self._emit(OpenConnection())

    def _schedule_reconnect(self, now: float, lost: Disconnected | None = None) -> None:
        """Back off before the next attempt; ``lost`` is announced first, with the retry time."""
        self._link = LinkState.WAITING
        self._reconnect_at = now + self._reconnect_delay()
        self.stats.reconnects += 1
        if lost is not None:
            self._emit(Disconnected(lost.code, lost.reason, self._reconnect_at))
        self._emit(ReconnectScheduled(self._reconnect_at, self._reconnect_tries))

    def _lose_connection(self, now: float, reason: str) -> None:
        """Forget everything bound to the dead connection (§7.4): heartbeat, in-flight pushes."""
        self._hb_ref = self._hb_deadline = self._hb_due = None
        for ref, push in self._inflight.items():
            self._emit(PushTimeout(push.topic, ref))
        self._inflight.clear()
        self._channels_down(reason)

    def _channels_down(self, reason: str) -> None:
        for ch in self._channels.values():
            was_live = ch.state in (ChannelState.JOINING, ChannelState.JOINED)
            ch.state = ChannelState.ERRORED if was_live or ch.join_ref else ChannelState.CLOSED
            ch.join_deadline = ch.rejoin_at = None
            if was_live:
                self._emit(ChannelErrored(ch.topic, reason))

    def _send_heartbeat(self, now: float, timeout: float) -> None:
        self._hb_ref = self._make_ref()
        self._hb_sent_at = now
        self._hb_deadline = now + timeout
        self._hb_due = None
        self._send(Frame(None, self._hb_ref, HEARTBEAT_TOPIC, "heartbeat", {}))

    def _heartbeat_timed_out(self, now: float) -> None:
        self.stats.heartbeat_timeouts += 1
        log.warning("heartbeat not answered in time: closing and reconnecting")
        self._emit(CloseConnection(1000, "heartbeat timeout"))
        self._lose_connection(now, "heartbeat_timeout")
        self._reconnect_tries += 1
        self._schedule_reconnect(now, Disconnected(1000, "heartbeat timeout", None))

    def _send_join(self, ch: _Channel, now: float) -> None:
        params = ch.params() if callable(ch.params) else ch.params
        ch.join_ref = self._make_ref()
        ch.state = ChannelState.JOINING
        ch.join_deadline = now + self.settings.push_timeout
        ch.rejoin_at = None
        self._send(Frame(ch.join_ref, ch.join_ref, ch.topic, "phx_join", dict(params or {})))

    def _schedule_rejoin(self, ch: _Channel, now: float, permanent: bool) -> None:
        s = self.settings
        ch.state = ChannelState.ERRORED
        ch.join_deadline = None
        if permanent:
            interval = s.permanent_rejoin_interval
            ch.rejoin_at = None if interval is None else now + s.rejoin.spread(interval, self._rng)
        else:
            ch.rejoin_at = now + s.rejoin.delay(ch.rejoin_tries + 1, self._rng)

    def _join_timed_out(self, ch: _Channel, now: float) -> None:
        # Tell the server to drop the late join, so it does not linger as a duplicate.
        self._send(Frame(ch.join_ref, self._make_ref(), ch.topic, "phx_leave", {}))
        self._schedule_rejoin(ch, now, permanent=False)
        self._emit(JoinFailed(ch.topic, "timeout", permanent=False))

    def _send_push(self, ch: _Channel, push: _Push) -> None:
        self._inflight[push.ref] = push
        self._send(Frame(ch.join_ref, push.ref, ch.topic, push.event, push.payload))

    def _expire_buffers(self, now: float) -> None:
        for ch in self._channels.values():
            if ch.buffer and any(now >= p.deadline for p in ch.buffer):
                expired = [p for p in ch.buffer if now >= p.deadline]
                ch.buffer = [p for p in ch.buffer if now < p.deadline]
                for push in expired:
                    self._emit(PushTimeout(ch.topic, push.ref))

    # ------------------------------------------------------------------ dispatch

    def _dispatch(self, now: float, frame: Frame) -> None:
        ref = ref_key(frame.ref)
        if frame.topic == HEARTBEAT_TOPIC:
            if frame.event == "phx_reply" and ref is not None and ref == self._hb_ref:
                self.stats.last_heartbeat_rtt = now - self._hb_sent_at
                self._hb_ref = self._hb_deadline = None
                self._hb_due = now + self.settings.heartbeat_interval
            else:
                self.stats.stale_dropped += 1  # e.g. the reply to a heartbeat we gave up on
            return
        ch = self._channels.get(frame.topic)
        join_ref = ref_key(frame.join_ref)
        if ch is not None and join_ref is not None and join_ref != ch.join_ref:
            self.stats.stale_dropped += 1
            log.debug("dropping outdated %s on %s", frame.event, frame.topic)
            return
        if frame.event == "phx_reply":
            self._on_reply(now, frame, ch, ref)
        elif ch is None:
            self.stats.unrouted += 1
            log.warning(
                "dropped %r for topic %r, which is not joined", frame.event[:40], frame.topic[:80]
            )
        elif frame.event == "phx_close":
            del self._channels[ch.topic]
            for push in ch.buffer:
                self._emit(PushTimeout(ch.topic, push.ref))
            self._emit(ChannelClosed(ch.topic))
        elif frame.event == "phx_error":
            if ch.state in (ChannelState.JOINING, ChannelState.JOINED):
                reason = frame.payload.get("reason")
                self._schedule_rejoin(ch, now, permanent=False)
                self._emit(ChannelErrored(ch.topic, reason if isinstance(reason, str) else "error"))
        else:
            self._emit(Message(frame.topic, frame.event, frame.payload, join_ref))

    def _on_reply(self, now: float, frame: Frame, ch: _Channel | None, ref: str | None) -> None:
        status = frame.payload.get("status")
        if not isinstance(status, str):
            self._violation(f"phx_reply on {frame.topic[:80]!r} without a status")
            return
        response = frame.payload.get("response")
        if ch is not None and ch.state is ChannelState.JOINING and ref == ch.join_ref:
            self._on_join_reply(now, ch, status, response)
        elif ref is not None and ref in self._inflight:
            push = self._inflight.pop(ref)
            self._emit(Reply(push.topic, ref, status, response))
        else:
            self.stats.unrouted += 1

    def _on_join_reply(self, now: float, ch: _Channel, status: str, response: Any) -> None:
        assert ch.join_ref is not None
        if status == "ok":
            ch.state = ChannelState.JOINED
            ch.join_deadline = ch.rejoin_at = None
            ch.rejoin_tries = 0
            self._emit(ChannelJoined(ch.topic, ch.join_ref, response))
            buffered, ch.buffer = ch.buffer, []
            for push in buffered:
                self._send_push(ch, push)
            return
        reason = response.get("reason") if isinstance(response, dict) else None
        reason = reason if isinstance(reason, str) else status
        permanent = reason in PERMANENT_JOIN_ERRORS
        self._schedule_rejoin(ch, now, permanent)
        self._emit(JoinFailed(ch.topic, reason, permanent))
