"""Many Phoenix sockets to one endpoint, driven as one: for more topics than one socket may hold.

Phoenix refuses the 101st channel on a socket (``max_channels_per_transport``), and a tenant
with 200 departments needs 401 topics. The pool spreads *groups* of topics (see
``placement``) over as many :class:`PhoenixClient` sockets as needed, opening one when none has
room and closing one when it empties; while one socket suffices, there is one. Each socket is
a whole client: its own heartbeats, reconnect backoff, rejoins and token refresh (the owner's
``url_for``/``auth_refresh_for`` are called with the socket's id).

A join refused for another reason than permission (``too many channels joined``, ``join
crashed``, anything the server says that is not ``unauthorized``/``forbidden``/``not_found``/
``unmatched topic``) moves the whole group to another socket after the rejoin backoff; a
``too many channels joined`` also teaches the placement the server's real limit. The owner
still hears the ``JoinFailed`` (to say "retrying"), and a ``ChannelErrored`` for the group's
other topics that were joined, since they leave that socket too.

Events reach the owner as ``on_event(socket_id, event)``. News about a topic from a socket
that no longer carries it (the reply to a leave, a late ``phx_close``) is dropped here, so the
owner only ever hears about a topic from the socket it is on.
"""

from __future__ import annotations

import asyncio
import logging
import random
import ssl
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import fields

from voki_tui.phoenix.core import (
    ChannelErrored,
    ChannelJoined,
    ChannelState,
    Event,
    JoinFailed,
    LinkState,
    Settings,
    Stats,
)
from voki_tui.phoenix.placement import MAX_CHANNELS_PER_SOCKET, Placement
from voki_tui.phoenix.transport import PhoenixClient

log = logging.getLogger(__name__)

#: Phoenix's reply when a socket holds ``max_channels_per_transport`` channels already.
TOO_MANY_CHANNELS = "too many channels joined"
#: A join with no reply in time is retried on its own socket by the core: that socket's link
#: is up (heartbeats say so), and the reply may just be slow.
_RETRIED_IN_PLACE = frozenset({"timeout"})

UrlFor = Callable[[int], Awaitable[str]]
RefreshFor = Callable[[int], Awaitable[None]]
OnEvent = Callable[[int, Event], None]


class SocketPool:
    """Topics in groups over as many sockets as needed; ``await run()`` in a task."""

    def __init__(
        self,
        url_for: UrlFor,
        on_event: OnEvent,
        *,
        clock: Callable[[], float] = time.monotonic,
        settings: Settings | None = None,
        auth_refresh_for: RefreshFor | None = None,
        ssl_context: ssl.SSLContext | None = None,
        limit: int = MAX_CHANNELS_PER_SOCKET,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self.placement = Placement(limit)
        self._url_for = url_for
        self._on_event = on_event
        self._clock = clock
        self._auth_refresh_for = auth_refresh_for
        self._ssl_context = ssl_context
        self._rng = rng or random.Random()  # jitter, not security
        self._groups: dict[str, tuple[str, ...]] = {}  # group -> its topics
        self._group_of: dict[str, str] = {}  # topic -> group
        self._clients: dict[int, PhoenixClient] = {}
        self._runs: dict[int, asyncio.Task[None]] = {}
        self._ending: set[asyncio.Task[None]] = set()  # closed sockets, until their run ends
        self._moving: dict[str, asyncio.Task[None]] = {}  # group -> its delayed re-placement
        self._refusals: dict[str, int] = {}  # group -> refusals in a row
        self._retired = Stats()  # counters of the sockets closed so far
        self._wake = asyncio.Event()
        self._running = False
        self._closed = False
        self._sockets_changed = 0  # sockets opened or closed so far

    # -- queries -----------------------------------------------------------------------------

    def socket_of(self, topic: str) -> int | None:
        """The socket carrying ``topic`` now; None while it waits to move, or is not watched."""
        group = self._group_of.get(topic)
        return None if group is None else self.placement.socket_of(group)

    def clients(self) -> dict[int, PhoenixClient]:
        """Every open socket by id (for counters and tests)."""
        return dict(self._clients)

    @property
    def layout_version(self) -> int:
        """Moves on whenever a socket opens or closes or a group changes socket."""
        return self.placement.version + self._sockets_changed

    def layout(self) -> tuple[tuple[int, ...], tuple[tuple[str, int], ...]]:
        """Every socket's id, and the socket of every group placed on one."""
        where = tuple(
            (group, socket)
            for group in self._groups
            if (socket := self.placement.socket_of(group)) is not None
        )
        return tuple(self._clients), where

    def is_open(self, socket: int) -> bool:
        client = self._clients.get(socket)
        return client is not None and client.core.link_state is LinkState.OPEN

    def stats(self) -> Stats:
        """The counters of every socket, the closed ones included (they never go back)."""
        total = Stats()
        for stats in (self._retired, *(c.core.stats for c in self._clients.values())):
            for f in fields(Stats):
                if f.name != "last_heartbeat_rtt":
                    setattr(total, f.name, getattr(total, f.name) + getattr(stats, f.name))
            rtt = stats.last_heartbeat_rtt
            if rtt is not None and (total.last_heartbeat_rtt or 0.0) <= rtt:
                total.last_heartbeat_rtt = rtt  # the slowest socket's
        return total

    # -- commands ----------------------------------------------------------------------------

    def watch(self, groups: Mapping[str, Sequence[str]]) -> None:
        """Carry exactly these groups (group -> topics, placed in this order): new ones are
        joined, gone ones left, and after a shrink the sockets are packed again."""
        gone = [group for group in self._groups if group not in groups]
        for group in gone:
            self._forget(group)
        for group, topics in groups.items():
            if group not in self._groups:
                self._groups[group] = tuple(topics)
                for topic in topics:
                    self._group_of[topic] = group
                self._put(group)
        if gone:
            for move in self.placement.compact():
                self._leave_socket(move.group, move.source, "moving to another connection")
                self._join_on(move.group, move.target)
        self._close_empty()

    def rejoin(self, topic: str) -> None:
        """Join ``topic`` again where it is (for a fresh state, or after the server closed
        it); nothing while it waits to move, since it is joined when it lands."""
        socket = self.socket_of(topic)
        if socket is None:
            return
        client = self._clients[socket]
        if client.core.channel_state(topic) is None:  # the server closed it: joined anew
            client.join(topic)
        else:
            client.rejoin(topic)

    async def run(self) -> None:
        """Run every socket until :meth:`close` (or cancellation); a socket that fails in a
        way nobody foresaw fails the pool, as one socket would."""
        if self._running:
            raise RuntimeError("SocketPool.run() is already running")
        self._running = True
        try:
            while not self._closed:
                for socket, client in self._clients.items():
                    if socket not in self._runs:
                        self._runs[socket] = asyncio.create_task(
                            client.run(), name=f"phoenix-{socket}"
                        )
                waiter = asyncio.create_task(self._wake.wait())
                done, _ = await asyncio.wait(
                    {waiter, *self._runs.values(), *self._ending},
                    return_when=asyncio.FIRST_COMPLETED,
                )
                waiter.cancel()
                self._wake.clear()
                for task in done - {waiter}:
                    self._ending.discard(task)
                    for socket in [s for s, run in self._runs.items() if run is task]:
                        del self._runs[socket]
                    if not task.cancelled() and (error := task.exception()) is not None:
                        raise error
        finally:
            pending = [*self._runs.values(), *self._ending, *self._moving.values()]
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            self._runs.clear()
            self._ending.clear()
            self._moving.clear()
            self._running = False

    async def close(self) -> None:
        """Disconnect every socket for good; ``run()`` returns."""
        self._closed = True
        for task in self._moving.values():
            task.cancel()
        self._wake.set()
        await asyncio.gather(
            *(client.close() for client in self._clients.values()), return_exceptions=True
        )

    # -- placing -----------------------------------------------------------------------------

    def _put(self, group: str, avoid: int | None = None) -> None:
        socket = self.placement.place(group, len(self._groups[group]), avoid=avoid)
        self._join_on(group, socket)

    def _join_on(self, group: str, socket: int) -> None:
        client = self._clients.get(socket)
        if client is None:
            client = self._clients[socket] = self._new_client(socket)
            self._sockets_changed += 1
            self._wake.set()
        for topic in self._groups[group]:
            if client.core.channel_state(topic) is None:
                client.join(topic)

    def _new_client(self, socket: int) -> PhoenixClient:
        refresh = self._auth_refresh_for

        async def url() -> str:
            return await self._url_for(socket)

        async def auth_refresh() -> None:
            if refresh is not None:
                await refresh(socket)

        return PhoenixClient(
            url,
            lambda event: self._route(socket, event),
            clock=self._clock,
            rng=self._rng,
            settings=self.settings,
            auth_refresh=auth_refresh,
            ssl_context=self._ssl_context,
        )

    def _leave_socket(self, group: str, socket: int, why: str) -> None:
        """Leave the group's topics on ``socket``; the owner hears ``ChannelErrored`` for the
        ones that were joined or joining (they are down until joined elsewhere)."""
        client = self._clients.get(socket)
        if client is None:
            return
        for topic in self._groups.get(group, ()):
            if client.core.channel_state(topic) in (ChannelState.JOINING, ChannelState.JOINED):
                self._deliver(socket, ChannelErrored(topic, why))
            client.leave(topic)

    def _forget(self, group: str) -> None:
        moving = self._moving.pop(group, None)
        if moving is not None:
            moving.cancel()
        socket = self.placement.socket_of(group)
        if socket is not None:
            client = self._clients.get(socket)
            for topic in self._groups[group]:
                if client is not None:
                    client.leave(topic)
            self.placement.remove(group)
        for topic in self._groups.pop(group):
            del self._group_of[topic]
        self._refusals.pop(group, None)

    def _close_empty(self) -> None:
        """Close every socket the placement no longer uses."""
        used = self.placement.sockets()
        for socket in [s for s in self._clients if s not in used]:
            client = self._clients.pop(socket)
            self._sockets_changed += 1
            stats = client.core.stats
            for f in fields(Stats):
                if f.name != "last_heartbeat_rtt":
                    value = getattr(self._retired, f.name) + getattr(stats, f.name)
                    setattr(self._retired, f.name, value)
            run = self._runs.pop(socket, None)
            if run is not None:
                self._ending.add(run)
            self._ending.add(asyncio.create_task(client.close(), name=f"phoenix-{socket}-close"))
            log.info("closed live connection %d: no topic left on it", socket)
        self._wake.set()

    # -- events ------------------------------------------------------------------------------

    def _deliver(self, socket: int, event: Event) -> None:
        try:
            self._on_event(socket, event)
        except Exception:
            log.exception("phoenix event handler failed on %s", type(event).__name__)

    def _route(self, socket: int, event: Event) -> None:
        topic = getattr(event, "topic", None)
        if not isinstance(topic, str):  # the socket itself: connected, lost, refused ...
            if socket in self._clients:  # not one closed meanwhile
                self._deliver(socket, event)
            return
        if self.socket_of(topic) != socket:
            return  # from a socket the topic has left: its leave's echo, or late news
        self._deliver(socket, event)
        if isinstance(event, JoinFailed) and not event.permanent:
            if event.reason not in _RETRIED_IN_PLACE:
                self._move(self._group_of[topic], socket, event.reason)
        elif isinstance(event, ChannelJoined):
            group = self._group_of[topic]
            client = self._clients[socket]
            states = [client.core.channel_state(t) for t in self._groups[group]]
            if all(state is ChannelState.JOINED for state in states):
                self._refusals.pop(group, None)

    def _move(self, group: str, socket: int, reason: str) -> None:
        """The server refused one of the group's joins on ``socket`` (not for permission):
        take the group off it now, and put it on another socket after the rejoin backoff."""
        client = self._clients[socket]
        if reason == TOO_MANY_CHANNELS:
            held = sum(
                1
                for other in self.placement.groups_on(socket)
                for topic in self._groups[other]
                if client.core.channel_state(topic) is ChannelState.JOINED
            )
            if self.placement.learn_limit(held):
                log.warning(
                    "the server allows %d channels per connection: spreading topics over more",
                    self.placement.limit,
                )
        self._leave_socket(group, socket, f"moving to another connection ({reason})")
        self.placement.remove(group)
        tries = self._refusals[group] = self._refusals.get(group, 0) + 1
        delay = self.settings.rejoin.delay(tries, self._rng)
        log.warning("%s refused (%s): on another connection in %.1f s", group, reason, delay)
        self._moving[group] = asyncio.create_task(
            self._move_later(group, socket, delay), name=f"move-{group}"
        )
        self._close_empty()

    async def _move_later(self, group: str, avoid: int, delay: float) -> None:
        await asyncio.sleep(delay)
        self._moving.pop(group, None)
        if group in self._groups:
            try:
                self._put(group, avoid=avoid)
            except Exception:  # one group must not stop the pool; the owner sees it unjoined
                log.exception("placing %s on another connection failed", group)
