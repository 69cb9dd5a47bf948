"""The live feed: Phoenix sockets, a REST snapshot after every join, immutable snapshots out.

For each chosen department the feed joins ``queue:{id}`` and ``presence:{id}``, and it joins
``notification:{user_id}``. Phoenix refuses more than ``max_channels_per_transport`` channels
(100) on one socket, so the topics are spread over as many sockets as needed
(``phoenix.pool``): one while one suffices, a department's two topics always together. Each
socket reconnects, refreshes its token and rejoins on its own; the connection the status bar
shows sums them up (live only when every socket is up and every department synced).

After every (re)join of a queue the feed takes the REST snapshot of the queued calls and
reconciles (events that arrive while the request is in flight are replayed on top, see
``QueueReducer.reconcile``), so a gap in the stream leaves neither a ghost nor a hole.
Presence is reconciled by the ``presence_state`` that follows every join. Each department's
metrics window is backfilled from the REST calls of the last hour (its ``history`` source).

Everything it learns goes into ``DepartmentBook``s; it publishes a ``FeedSnapshot`` whenever
something changed: at once when the feed has been quiet, otherwise at most one snapshot every
``publish_interval`` seconds (a burst of events becomes one repaint), and every
``refresh_interval`` seconds anyway (the rolling window moves even when nothing happens).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import ssl
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from voki_tui.api.client import VokiClient
from voki_tui.api.errors import AuthError, ForbiddenError, NotFoundError, VokiError
from voki_tui.api.session import Session
from voki_tui.live import wire
from voki_tui.live.book import DepartmentBook
from voki_tui.live.events import CustomerLeft
from voki_tui.live.resync import RESYNC_EVERY_S, ResyncPlanner
from voki_tui.live.state import (
    PENDING,
    Connection,
    Counters,
    Department,
    DepartmentView,
    FeedSnapshot,
    LinkState,
    Notification,
    Source,
    SourceState,
    UserInfo,
)
from voki_tui.phoenix import core
from voki_tui.phoenix.placement import MAX_CHANNELS_PER_SOCKET
from voki_tui.phoenix.pool import SocketPool
from voki_tui.phoenix.presence import PresenceTracker
from voki_tui.phoenix.transport import socket_url
from voki_tui.retry import HISTORY_RETRY, SERVER_DOWN

log = logging.getLogger(__name__)

WallClock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]
Publish = Callable[[FeedSnapshot], None]
Notify = Callable[[Notification], None]

#: Heartbeat every 15 s, answer within 15 s: a dead link is noticed within 30 s.
FEED_PHOENIX_SETTINGS = core.Settings(heartbeat_interval=15.0, heartbeat_timeout=15.0)
#: Under a steady stream, at most 40 snapshots a second: a change reaches the screen within
#: 25 ms plus one frame, while a burst of events still costs one repaint.
PUBLISH_INTERVAL_S = 0.025
#: Loops that wait for a computed moment look at the clock at least this often.
LONGEST_WAIT_S = 60.0
#: Departments whose hour of history is read at once: 200 departments are read within
#: seconds without 200 requests in flight.
HISTORY_REQUESTS = 8
#: Join refusals that stay (core.PERMANENT_JOIN_ERRORS) and how each is shown.
PERMANENT_REFUSALS = {
    "unauthorized": SourceState.UNAUTHORIZED,
    "forbidden": SourceState.UNAUTHORIZED,
    "not_found": SourceState.NOT_FOUND,
}


def unverified_tls() -> ssl.SSLContext:
    """``--insecure``: TLS without certificate or host name checks, for the websocket too."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def websocket_endpoint(server: str) -> str:
    """``https://host/base`` -> ``wss://host/base/socket`` (the transport adds ``/websocket``)."""
    parts = urlsplit(server)
    scheme = "wss" if parts.scheme == "https" else "ws"
    path = parts.path.rstrip("/") + "/socket"
    return urlunsplit((scheme, parts.netloc, path, "", ""))


def user_info(session: Session) -> UserInfo | None:
    user = session.user
    if user is None:
        return None
    return UserInfo(
        id=user.id,
        name=user.name or user.email or user.id,
        email=user.email or session.identity.email,
        role=user.role or "unknown",
        locale=user.locale,
    )


class _Department:
    """The feed's bookkeeping for one department: its book and the freshness of its sources."""

    def __init__(self, department: Department, window_s: int) -> None:
        self.book = DepartmentBook(department, window_s=window_s)
        self.queue = Source()
        self.presence = Source()
        self.history = Source()  # the REST backfill of the metrics window
        self.tracker = PresenceTracker()
        self.snapshot_task: asyncio.Task[None] | None = None
        self.history_task: asyncio.Task[None] | None = None
        #: A rejoin for a fresh presence_state is under way: the current agents stay shown
        #: (and the source synced) until it arrives; then they are compared for drift.
        self.presence_resync: tuple[tuple[str, str, int], ...] | None = None
        self.presence_misses = 0  # joins in a row whose presence_state never came

    @property
    def topics(self) -> tuple[str, str]:
        ident = self.book.department.id
        return f"queue:{ident}", f"presence:{ident}"

    def agents_key(self) -> tuple[tuple[str, str, int], ...]:
        return tuple(sorted((a.user_id, a.status, a.devices) for a in self.book.agents.agents()))

    def waiting_ids(self) -> frozenset[str]:
        return frozenset(c.call_id for c in self.book.queue.waiting())

    def settled(self) -> bool:
        """Both channels answered for good: synced, or refused for a reason that stays."""
        return self.queue.state not in PENDING and self.presence.state not in PENDING


@dataclass(slots=True)
class _Link:
    """What the feed knows of one socket of the pool, for the status it sums up."""

    open: bool = False
    ever_open: bool = False  # connected at least once: a loss is "reconnecting"
    retry_at: datetime | None = None
    attempt: int = 0
    detail: str | None = None
    last_rx: datetime | None = None
    frames_seen: int = 0
    token_refused: bool = False  # the server refused our token at the last upgrade
    attempt_token: str | None = None  # the token of the last upgrade attempt


class LiveFeed:
    """Runs the feed for one logged-in ``Session``; implements the UI's ``FeedRunner``."""

    def __init__(
        self,
        client: VokiClient,
        session: Session,
        *,
        clock: WallClock | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        phoenix_settings: core.Settings = FEED_PHOENIX_SETTINGS,
        window_s: int = 3600,
        publish_interval: float = PUBLISH_INTERVAL_S,
        refresh_interval: float = 5.0,
        resync_interval: float = RESYNC_EVERY_S,
        max_channels: int = MAX_CHANNELS_PER_SOCKET,
    ) -> None:
        self.client = client
        self.session = session
        # Ages are ``now - a server timestamp``: "now" is the server's (see ServerTime).
        self.clock = clock if clock is not None else client.server_time.now_utc
        self.monotonic = monotonic
        # Every retry waits here (snapshot, history, rejoins): tests pass a sleep that records
        # the delay and returns at once, so a schedule is checked without waiting it out.
        self.sleep = sleep
        self.window_s = window_s
        self.publish_interval = publish_interval
        self.refresh_interval = refresh_interval
        self.endpoint = websocket_endpoint(client.server)
        self._rng = random.Random()  # retry jitter, not security
        self.pool = SocketPool(
            self._socket_url,
            self._on_event,
            clock=monotonic,
            settings=phoenix_settings,
            auth_refresh_for=self._refresh_after_refusal,
            ssl_context=unverified_tls() if client.insecure else None,
            limit=max_channels,
            rng=self._rng,
        )
        self.departments: dict[str, _Department] = {}
        self.connection = Connection(state=LinkState.CONNECTING, since=self.clock())
        self.counters = Counters()
        self.user: UserInfo | None = None
        self._links: dict[int, _Link] = {}
        self._version = 0
        self._dirty = asyncio.Event()
        self._urgent = asyncio.Event()  # the link's state changed: publish without pause
        self._publish: Publish = lambda _snapshot: None
        self._notify: Notify = lambda _notification: None
        self._last_rx: datetime | None = None
        self._auth_failed = False
        self._tasks: set[asyncio.Task[Any]] = set()
        self._history_slots = asyncio.Semaphore(HISTORY_REQUESTS)
        self.resync = ResyncPlanner(resync_interval, rng=self._rng)
        self._resync_wake = asyncio.Event()
        self._closes: dict[str, int] = {}  # topic -> server closes in a row

    # -- public ------------------------------------------------------------------------------

    async def run(
        self, departments: Sequence[Department], publish: Publish, notify: Notify
    ) -> None:
        """Run until cancelled, or until the session is lost for good (AUTH_FAILED)."""
        self._publish, self._notify = publish, notify
        self.user = user_info(self.session)
        self.watch(departments)
        self._spawn(self._keep_session(), "keep-session")
        self._spawn(self._resync_loop(), "resync")
        sockets = asyncio.create_task(self.pool.run(), name="phoenix-pool")
        publisher = asyncio.create_task(self._publisher(), name="feed-publisher")
        try:
            await sockets
        finally:
            publisher.cancel()
            for task in (*self._tasks, sockets):
                task.cancel()
            for entry in self.departments.values():
                self._cancel_snapshot(entry)
            await asyncio.gather(publisher, sockets, *self._tasks, return_exceptions=True)
            with contextlib.suppress(Exception):
                await self.pool.close()
            if self._auth_failed:
                self._emit()

    def watch(self, departments: Sequence[Department]) -> None:
        """Watch exactly these departments from now on: the new ones are joined (and their
        hour of history read), the others left; sockets open and close to match."""
        wanted = {department.id: department for department in departments}
        for ident in [i for i in self.departments if i not in wanted]:
            entry = self.departments.pop(ident)
            self._cancel_snapshot(entry)
            if entry.history_task is not None:
                entry.history_task.cancel()
            self.resync.remove(ident)
            for topic in entry.topics:
                self._closes.pop(topic, None)
        for ident, department in wanted.items():
            if ident not in self.departments:
                entry = self.departments[ident] = _Department(department, self.window_s)
                self.resync.add(ident, self.monotonic())
                entry.history_task = self._spawn(self._backfill(entry), f"history-{ident}")
        groups: dict[str, tuple[str, ...]] = {}  # a department's group is its id
        if self.user is not None:
            notifications = f"notification:{self.user.id}"
            groups[notifications] = (notifications,)
        for ident, entry in self.departments.items():
            groups[ident] = entry.topics
        self.pool.watch(groups)
        self._changed()
        self._summarise()

    def snapshot(self) -> FeedSnapshot:
        """The current state as one immutable value."""
        now = self.clock()
        connection = self.connection
        if connection.state is LinkState.LIVE:
            connection = replace(connection, data_as_of=now)
        views = tuple(self._view(entry, now) for entry in self.departments.values())
        return FeedSnapshot(
            version=self._version,
            taken_at=now,
            server=self.client.server,
            tenant=self.client.tenant,
            user=self.user,
            connection=connection,
            departments=views,
            clock_offset_s=self.client.server_time.offset_s,
            notices=() if self.session.not_saved is None else (self.session.not_saved,),
            counters=self._counters(),
            links=len(self.pool.clients()),
        )

    def _counters(self) -> Counters:
        """The feed's own counters, plus those its parts keep (the core, the reducers, the
        presence trackers, the REST client and the session), summed over departments."""
        stats = self.pool.stats()
        queues = [entry.book.queue for entry in self.departments.values()]
        session = self.session
        return replace(
            self.counters,
            frames_received=stats.frames_in,
            malformed_frames=stats.malformed,
            reconnects=stats.reconnects,
            unrouted_frames=stats.unrouted,
            heartbeat_timeouts=stats.heartbeat_timeouts,
            stale_frames=stats.stale_dropped,
            duplicate_events=sum(q.duplicates for q in queues),
            late_joins=sum(q.late_joins for q in queues),
            stale_snapshots=sum(q.stale_snapshots for q in queues),
            buffer_overflows=sum(q.buffer_overflows for q in queues)
            + sum(entry.tracker.overflows for entry in self.departments.values()),
            foreign_records=sum(q.foreign_records for q in queues),
            bad_fields=sum(entry.book.agents.bad_fields for entry in self.departments.values()),
            skipped_items=self.client.skipped_items,
            token_refreshes=session.refresh_count,
            adopted_refreshes=session.adopted_count,
            relogins=session.relogin_count,
        )

    def _view(self, entry: _Department, now: datetime) -> DepartmentView:
        """One department's view; a failure there costs that department, not the board.

        Figures need data: until the queue and the presence have each been read once, the
        view has no metrics (shown as "—", never as an empty queue of 0)."""
        try:
            view = entry.book.view(
                now,
                queue_source=entry.queue,
                presence_source=entry.presence,
                history_source=entry.history,
            )
        except Exception:
            self._internal_error(f"computing the view of {entry.book.department.id}")
            broken = Source(SourceState.ERROR, detail="internal error; see the log")
            return DepartmentView(
                department=entry.book.department, queue=broken, presence=broken, history=broken
            )
        if entry.queue.as_of is None or entry.presence.as_of is None:
            return replace(view, metrics=None)
        return view

    # -- socket plumbing ---------------------------------------------------------------------

    def _link(self, socket: int) -> _Link:
        found = self._links.get(socket)
        if found is None:
            found = self._links[socket] = _Link()
        return found

    async def _socket_url(self, socket: int) -> str:
        """The URL for the socket's next attempt, with a fresh token if its last one was
        refused.

        A refresh that fails for another reason than a refused session (rate limited, server
        down) fails this attempt; the core retries on its backoff schedule and we try the
        refresh again then, within the session's auth rate limit.
        """
        link = self._link(socket)
        try:
            if link.token_refused:
                await self._refresh_token(link)
            token = await self.session.access_token()
        except AuthError as exc:
            self._lose_session(exc)
            raise
        except VokiError as exc:
            link.detail = f"token refresh: {exc.message}"
            self._summarise()
            raise
        link.attempt_token = token  # until the upgrade succeeds, this is the one to replace
        return socket_url(self.endpoint, {"token": token})

    async def _refresh_after_refusal(self, socket: int) -> None:
        """The upgrade was refused (401/403): refresh now; a refused refresh ends the session."""
        try:
            await self._refresh_token(self._link(socket))
        except AuthError as exc:
            self._lose_session(exc)
            raise

    async def _refresh_token(self, link: _Link) -> None:
        """Replace the refused token, unless another socket's or a REST call's refresh
        already has (the session refreshes once for them all)."""
        await self.session.on_unauthorized(link.attempt_token or "")
        link.token_refused = False

    async def _keep_session(self) -> None:
        """Refresh the tokens ahead of expiry, connected or not (see ``Session.keep_fresh``)."""
        try:
            await self.session.keep_fresh()
        except AuthError as exc:
            self._lose_session(exc)

    def _lose_session(self, exc: AuthError) -> None:
        """Only a person can log in again: stop, keep the data, say why."""
        if self._auth_failed:
            return
        log.warning("session lost: %s", exc.message)
        self._auth_failed = True
        self._mark(self.departments.values(), SourceState.STALE)
        self._set_link(LinkState.AUTH_FAILED, detail=exc.message)
        self._spawn(self.pool.close(), "close-after-auth-failure")

    def _spawn(self, coro: Any, name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(self._contained(coro, name), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(lambda _task: coro.close())  # cancelled before it started
        return task

    async def _contained(self, coro: Any, name: str) -> None:
        """Run a task of the feed; a failure nobody expected is logged and counted, not lost
        silently with the rest of the board waiting for it for ever."""
        try:
            await coro
        except asyncio.CancelledError:
            raise
        except Exception:
            self._internal_error(f"task {name}")

    def _internal_error(self, what: str) -> None:
        log.exception("internal error in %s; carrying on", what)
        self.counters = replace(self.counters, internal_errors=self.counters.internal_errors + 1)
        self._changed()

    def _changed(self) -> None:
        self._version += 1
        self._dirty.set()

    def _set_link(self, state: LinkState, as_of: datetime | None = None, **changes: Any) -> None:
        """Enter ``state``; data shown from now on was last known true ``as_of`` (default:
        the last frame received) when this leaves LIVE."""
        now = self.clock()
        previous = self.connection
        data_as_of = previous.data_as_of
        if previous.state is LinkState.LIVE and state is not LinkState.LIVE:
            data_as_of = as_of or self._last_rx or now
        since = previous.since if previous.state is state else now
        self.connection = replace(
            previous, state=state, since=since, data_as_of=data_as_of, **changes
        )
        if previous.state is not state:
            self._urgent.set()
        self._changed()

    def _summarise(self) -> None:
        """The connection the status bar shows, summed up over every socket and department:
        reconnecting while any socket that was up is down, connecting until one is up, then
        syncing until every socket is up and every department has answered, then live."""
        if self._auth_failed:
            return
        sockets = self.pool.clients()
        for gone in [s for s in self._links if s not in sockets]:
            del self._links[gone]
        links = [self._link(socket) for socket in sockets]
        down = [link for link in links if link.ever_open and not link.open]
        new = [link for link in links if not link.ever_open]
        total = len(self.departments)
        if down or (new and not any(link.open for link in links)):
            waiting = down or new
            first = min(waiting, key=lambda link: link.retry_at or datetime.max.replace(tzinfo=UTC))
            detail = first.detail
            if len(links) > 1:
                lost = f"{len(waiting)} of {len(links)} connections"
                detail = f"{lost}: {detail}" if detail else lost
            state = LinkState.RECONNECTING if down else LinkState.CONNECTING
            as_of = min((link.last_rx for link in down if link.last_rx), default=None)
            target = (state, first.retry_at, max(link.attempt for link in waiting), detail)
        else:
            live = sum(1 for entry in self.departments.values() if entry.settled())
            if live < total or new:
                detail = f"{live} of {total} departments live" if total > 1 else None
                if new:
                    connecting = f"{len(new)} of {len(links)} connections opening"
                    detail = f"{detail}; {connecting}" if detail else connecting
                target = (LinkState.SYNCING, None, 0, detail)
            else:
                target = (LinkState.LIVE, None, 0, None)
            as_of = None
        current = self.connection
        if (current.state, current.retry_at, current.attempt, current.detail) != target:
            state, retry_at, attempt, detail = target
            self._set_link(state, as_of, retry_at=retry_at, attempt=attempt, detail=detail)

    def _mark(self, entries: Iterable[_Department], state: SourceState) -> None:
        """Every synced or joining source of ``entries`` becomes ``state``; one that goes
        stale was true until the last frame its socket received (not until it was last
        reconciled)."""
        for entry in entries:
            socket = self.pool.socket_of(entry.topics[0])
            link = self._links.get(socket) if socket is not None else None
            as_of = link.last_rx if link is not None else self._last_rx
            for name in ("queue", "presence"):
                source: Source = getattr(entry, name)
                if source.state is SourceState.SYNCED and state is SourceState.STALE:
                    setattr(entry, name, replace(source, state=state, as_of=as_of or source.as_of))
                elif source.state in (SourceState.SYNCED, SourceState.JOINING):
                    setattr(entry, name, replace(source, state=state))

    def _on_socket(self, socket: int) -> list[_Department]:
        """The departments whose topics are on ``socket``."""
        return [
            entry
            for entry in self.departments.values()
            if self.pool.socket_of(entry.topics[0]) == socket
        ]

    def _on_event(self, socket: int, event: core.Event) -> None:
        try:
            self._handle(socket, event)
        except Exception:
            self._internal_error(f"handling {type(event).__name__}")
            topic = getattr(event, "topic", "")
            found = self._department_of(topic) if isinstance(topic, str) else None
            if found is not None:  # half-applied, perhaps: read the truth again soon
                self._suspect_gap(found[1], f"an error while handling an event on {topic}")

    def _handle(self, socket: int, event: core.Event) -> None:
        now = self.clock()
        link = self._link(socket)
        if isinstance(event, core.Message):
            link.last_rx = self._last_rx = now
            self._on_message(event.topic, event.event, event.payload, event.join_ref, now)
            return  # a message changes no source's state but a presence_state's (it says)
        if isinstance(event, core.ChannelJoined | core.Connected):
            link.last_rx = self._last_rx = now
        match event:
            case core.Connected():
                link.open = link.ever_open = True
                link.retry_at, link.attempt, link.detail = None, 0, None
                self._mark(self._on_socket(socket), SourceState.JOINING)
            case core.Disconnected(code=code):
                link.open = False
                link.detail = f"connection lost (code {code})"
                entries = self._on_socket(socket)
                self._mark(entries, SourceState.STALE)
                for entry in entries:
                    self._cancel_snapshot(entry)
            case core.ReconnectScheduled(at=at, attempt=attempt):
                link.retry_at = now + timedelta(seconds=max(0.0, at - self.monotonic()))
                link.attempt = attempt
            case core.AuthFailed(status=status, refresh_requested=True):
                log.info("websocket upgrade refused (HTTP %d); refreshing the token", status)
                link.token_refused = True
            case core.AuthFailed(status=status):
                # Refused again with a token just refreshed: not the token (a proxy that
                # blocks websockets?). The core now backs off hard; say why on screen.
                log.warning("websocket upgrade refused again (HTTP %d) with a fresh token", status)
                link.detail = f"live connection refused (HTTP {status})"
            case core.ChannelJoined(topic=topic, join_ref=join_ref):
                self._on_joined(topic, join_ref)
            case core.JoinFailed(topic=topic, reason=reason, permanent=permanent):
                self._on_join_failed(topic, reason, permanent)
            case core.ChannelErrored(topic=topic):
                self._on_channel_down(topic, link)
            case core.ChannelClosed(topic=topic):
                self._on_channel_down(topic, link)
                self._spawn(self._join_again(topic), f"rejoin-{topic}")
            case core.ProtocolViolation(reason=reason):
                log.warning("protocol violation: %s", reason)
                self._changed()
            case _:
                pass
        self._changed()
        self._summarise()

    # -- channels ----------------------------------------------------------------------------

    def _department_of(self, topic: str) -> tuple[str, _Department] | None:
        kind, _, ident = topic.partition(":")
        entry = self.departments.get(ident)
        if entry is None or kind not in ("queue", "presence"):
            return None
        return kind, entry

    def _on_joined(self, topic: str, join_ref: str) -> None:
        found = self._department_of(topic)
        if found is None:
            return
        kind, entry = found
        self._closes.pop(topic, None)
        if kind == "presence":
            entry.tracker.joined(join_ref)
            if entry.presence_resync is None:
                entry.presence = replace(entry.presence, state=SourceState.JOINING, detail=None)
            self._spawn(self._expect_presence_state(entry, topic, join_ref), f"watch-{topic}")
        else:
            entry.queue = replace(entry.queue, state=SourceState.JOINING, detail=None)
            self._start_snapshot(entry, "join")
        self._changed()

    def _start_snapshot(self, entry: _Department, reason: str) -> None:
        self._cancel_snapshot(entry)
        entry.snapshot_task = asyncio.create_task(
            self._take_snapshot(entry, reason), name=f"snapshot-{entry.book.department.id}"
        )

    async def _expect_presence_state(self, entry: _Department, topic: str, join_ref: str) -> None:
        """A join whose ``presence_state`` never comes would say "syncing" for good (or, for a
        resync, keep old agents as if current): join again, with backoff, and say why."""
        await self.sleep(self.pool.settings.push_timeout)
        tracker = entry.tracker
        if tracker.join_ref != join_ref or tracker.synced:
            return
        entry.presence_misses += 1
        delay = self.pool.settings.rejoin.delay(entry.presence_misses, self._rng)
        log.warning("no presence_state on %s; joining again in %.1f s", topic, delay)
        entry.presence_resync = None
        entry.presence = replace(
            entry.presence, state=SourceState.STALE, detail="no presence state from the server"
        )
        self._changed()
        self._summarise()
        await self.sleep(delay)
        if tracker.join_ref == join_ref and not tracker.synced:
            self._count("rejoins", f"joining {topic} again (no presence_state)")
            self.pool.rejoin(topic)

    async def _join_again(self, topic: str) -> None:
        """The server closed a channel we still want (``phx_close``): join it again, with a
        backoff that grows while it keeps doing so."""
        tries = self._closes[topic] = self._closes.get(topic, 0) + 1
        delay = self.pool.settings.rejoin.delay(tries, self._rng)
        found = self._department_of(topic)
        if found is not None:
            kind, entry = found
            source: Source = getattr(entry, kind)
            detail = f"closed by the server; joining again in {delay:.0f} s"
            setattr(entry, kind, replace(source, detail=detail))
            self._changed()
        log.warning("%s closed by the server; joining again in %.1f s", topic, delay)
        await self.sleep(delay)
        self._count("rejoins", f"joining {topic} again (closed by the server)")
        self.pool.rejoin(topic)

    # -- drift: re-reading the truth while live ----------------------------------------------

    async def _resync_loop(self) -> None:
        while True:
            at = self.resync.next_at()
            wait = LONGEST_WAIT_S if at is None else max(0.0, at - self.monotonic())
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(min(wait, LONGEST_WAIT_S)):
                    await self._resync_wake.wait()
            self._resync_wake.clear()
            for ident, reason in self.resync.due(self.monotonic()):
                entry = self.departments.get(ident)
                if entry is not None:
                    try:
                        self._resync(entry, reason)
                    except Exception:
                        self._internal_error(f"re-reading {ident}")

    def _is_live(self, entry: _Department) -> bool:
        """The department's socket is up and both its sources synced: whatever the other
        sockets do, its truth can be re-read now."""
        socket = self.pool.socket_of(entry.topics[0])
        return (
            socket is not None
            and self.pool.is_open(socket)
            and entry.queue.state is SourceState.SYNCED
            and entry.presence.state is SourceState.SYNCED
        )

    def _resync(self, entry: _Department, reason: str) -> None:
        """Re-read the department's truth without leaving live: the queue over REST, the
        presence by joining its channel again (a fresh ``presence_state``)."""
        if not self._is_live(entry):
            return  # not live: the joins in progress reconcile anyway
        if entry.snapshot_task is None or entry.snapshot_task.done():
            self._start_snapshot(entry, reason)
        if entry.presence_resync is None:
            entry.presence_resync = entry.agents_key()
            self.pool.rejoin(entry.topics[1])

    def _suspect_gap(self, entry: _Department, why: str) -> None:
        if not self._is_live(entry):
            return  # still joining: the join's own snapshot settles it
        ident = entry.book.department.id
        if self.resync.gap(ident, self.monotonic()):
            log.info("possible gap in %s (%s): re-reading it soon", ident, why)
            self._resync_wake.set()

    def _drifted(self, entry: _Department, what: str, gone: int, new: int) -> None:
        log.warning(
            "%s of %s had drifted while live (%d to remove, %d to add): repaired",
            what,
            entry.book.department.id,
            gone,
            new,
        )
        self.counters = replace(self.counters, drift_repaired=self.counters.drift_repaired + 1)

    def _on_join_failed(self, topic: str, reason: str, permanent: bool) -> None:
        """A refusal for good (no access, no such department, no such topic) is an answer,
        shown as such. Any other (a timeout, "too many channels joined", a crashed join) is
        retried, here or on another socket: the source stays "joining", with the reason, and
        is never shown as refused nor as an empty queue."""
        found = self._department_of(topic)
        log.warning("join of %s refused: %s", topic, reason)
        if found is None:
            return
        kind, entry = found
        source: Source = getattr(entry, kind)
        if permanent:
            state = PERMANENT_REFUSALS.get(reason, SourceState.ERROR)
            setattr(entry, kind, replace(source, state=state, detail=reason))
        else:
            state = SourceState.STALE if source.state is SourceState.STALE else SourceState.JOINING
            setattr(entry, kind, replace(source, state=state, detail=f"{reason}; retrying"))
        self._changed()

    def _on_channel_down(self, topic: str, link: _Link) -> None:
        found = self._department_of(topic)
        if found is None:
            return
        kind, entry = found
        if kind == "queue":
            self._cancel_snapshot(entry)
        source: Source = getattr(entry, kind)
        if source.state is SourceState.SYNCED:
            as_of = link.last_rx or source.as_of
            setattr(entry, kind, replace(source, state=SourceState.STALE, as_of=as_of))
            self._changed()

    @staticmethod
    def _cancel_snapshot(entry: _Department) -> None:
        """A snapshot taken for a join that is gone must not mark the queue synced."""
        if entry.snapshot_task is not None:
            entry.snapshot_task.cancel()
            entry.snapshot_task = None

    def _on_message(
        self, topic: str, name: str, payload: Mapping[str, Any], join_ref: str | None, now: datetime
    ) -> None:
        if topic.startswith("notification:"):
            self._on_notification(name, payload)
            return
        found = self._department_of(topic)
        if found is None:
            self._count("unknown_events", f"event {name!r} on unexpected topic {topic!r}")
            return
        kind, entry = found
        if kind == "presence":
            self._on_presence(entry, name, payload, join_ref, now)
            return
        parser = wire.QUEUE_PARSERS.get(name)
        if parser is None:
            self._count("unknown_events", f"unknown event {name!r} on {topic}")
            return
        try:
            event = parser(payload, entry.book.department.id, now)
        except wire.InvalidPayload as exc:
            self._count("invalid_payloads", f"{name} on {topic}: {exc}")
            return
        if not isinstance(event, CustomerLeft) and event.suspect_time:
            self._count("outlier_times", f"{name} on {topic}: implausible server time ignored")
        queue = entry.book.queue
        before, unknown = len(queue), queue.unknown_ends
        if entry.book.apply(event, now):
            self._changed()
        if queue.unknown_ends != unknown:
            self._suspect_gap(entry, f"{name} for a call never seen waiting")
        position = getattr(event, "position", None)
        if position is not None and len(queue) == before + 1 and position != len(queue):
            self._suspect_gap(entry, f"{name} at position {position} of {len(queue)} known")

    def _on_presence(
        self,
        entry: _Department,
        name: str,
        payload: Mapping[str, Any],
        join_ref: str | None,
        now: datetime,
    ) -> None:
        if name not in (entry.tracker.state_event, entry.tracker.diff_event):
            self._count("unknown_events", f"unknown presence event {name!r}")
            return
        tracker = entry.tracker
        malformed, unknown = tracker.malformed, tracker.unknown_leaves
        change = tracker.handle(name, payload, join_ref)
        if tracker.malformed != malformed:
            self._count("invalid_payloads", f"malformed {name}")
        if tracker.unknown_leaves != unknown:
            self._count("unknown_events", f"presence leave for an unknown key ({name})")
            self._suspect_gap(entry, "a presence leave for someone not there")
        if change is None:
            return
        if change.from_state:
            entry.book.set_presence(change.state)
            entry.presence = Source(SourceState.SYNCED, now)
            entry.presence_misses = 0
            before, entry.presence_resync = entry.presence_resync, None
            if before is not None and before != entry.agents_key():
                after = set(entry.agents_key())
                self._drifted(entry, "presence", len(set(before) - after), len(after - set(before)))
            self._summarise()
        else:
            keys = {key for key, _, _ in change.joins} | {key for key, _, _ in change.leaves}
            entry.book.update_presence(change.state, keys)
            entry.presence = replace(entry.presence, as_of=now)
        self._changed()

    def _on_notification(self, name: str, payload: Mapping[str, Any]) -> None:
        if name not in wire.NOTIFICATION_EVENTS:
            self._count("unknown_events", f"unknown notification event {name!r}")
            return
        try:
            note = wire.notification(name, payload)
        except wire.InvalidPayload as exc:
            self._count("invalid_payloads", f"{name}: {exc}")
            return
        self._notify(note)

    def _count(self, counter: str, message: str) -> None:
        log.warning("%s", message)
        self.counters = replace(self.counters, **{counter: getattr(self.counters, counter) + 1})
        self._changed()

    # -- REST --------------------------------------------------------------------------------

    async def _take_snapshot(self, entry: _Department, reason: str) -> None:
        """The REST truth of the queue, after a join (``reason`` "join") or to catch drift
        while live ("periodic", "gap"); retried with backoff until it works."""
        department_id = entry.book.department.id
        failures = 0
        while True:
            token = entry.book.begin_snapshot()
            before = entry.waiting_ids()
            try:
                calls = await self.client.calls(
                    status="queued",
                    department_id=department_id,
                    sort_by="inserted_at",
                    sort_order="asc",
                )
            except asyncio.CancelledError:
                entry.book.abort_snapshot(token)
                raise
            except AuthError as exc:
                entry.book.abort_snapshot(token)
                self._lose_session(exc)
                return
            except Exception as exc:  # a failed attempt, expected (VokiError) or not
                entry.book.abort_snapshot(token)
                if isinstance(exc, VokiError):
                    self._count("snapshot_failures", f"queue snapshot of {department_id}: {exc}")
                    entry.queue = replace(entry.queue, detail=exc.message)
                else:
                    self._internal_error(f"the queue snapshot of {department_id}")
                failures += 1
                await self.sleep(SERVER_DOWN.delay(failures, self._rng))
                continue
            now = self.clock()
            items = [
                wire.queued_item(call, department_id, now)
                for call in calls
                if call.department_id in (None, department_id)
            ]
            for item in items:
                if item.suspect_time:
                    self._count("outlier_times", f"queued_at of {item.call_id}: implausible")
            if entry.book.reconcile(items, now, token=token):
                after = entry.waiting_ids()
                if reason != "join" and after != before:
                    self._drifted(entry, "queue", len(before - after), len(after - before))
                entry.queue = Source(SourceState.SYNCED, now)
                self._changed()
                self._summarise()
                return

    async def _backfill(self, entry: _Department) -> None:
        """The department's metrics window from REST, so its figures are right from the first
        second (its ``history`` source says when they are). A failure is tried again later
        (``HISTORY_RETRY``); a refusal is an answer; one bad call is skipped, not the hour.
        At most ``HISTORY_REQUESTS`` departments read theirs at once."""
        department_id = entry.book.department.id
        failures = 0
        while True:
            try:
                async with self._history_slots:
                    since = self.clock() - timedelta(seconds=self.window_s)
                    calls = await self.client.calls(department_id=department_id, date_from=since)
            except AuthError as exc:
                self._lose_session(exc)
                return
            except (ForbiddenError, NotFoundError) as exc:
                state = (
                    SourceState.UNAUTHORIZED
                    if isinstance(exc, ForbiddenError)
                    else SourceState.NOT_FOUND
                )
                log.warning("history of %s refused: %s", department_id, exc.message)
                entry.history = replace(entry.history, state=state, detail=exc.message)
                self._changed()
                return
            except VokiError as exc:
                self._count("snapshot_failures", f"history of {department_id}: {exc}")
                failures += 1
                delay = HISTORY_RETRY.delay(failures, self._rng)
                entry.history = replace(
                    entry.history, detail=f"{exc.message}; retrying in {delay:.0f} s"
                )
                self._changed()
                await self.sleep(delay)
                continue
            records = []
            now = self.clock()
            for call in calls:
                try:
                    record = wire.call_record(call, department_id, now)
                except (wire.InvalidPayload, ValueError, OverflowError) as exc:
                    self._count("invalid_payloads", f"history item of {department_id}: {exc}")
                    continue
                if record.suspect_time:
                    self._count("outlier_times", f"history of {department_id}: {call.call_id}")
                records.append(record)
            entry.book.backfill(records, now)
            entry.history = Source(SourceState.SYNCED, now)
            self._changed()
            return

    # -- publishing --------------------------------------------------------------------------

    def _emit(self) -> None:
        self._dirty.clear()
        self._urgent.clear()
        try:
            self._publish(self.snapshot())
        except Exception:
            self._internal_error("publishing a snapshot")

    async def _publisher(self) -> None:
        """Coalesce changes: a change after a quiet spell is published at once (leading edge);
        changes within ``publish_interval`` of the last snapshot wait for its end (trailing
        edge), so a burst costs one snapshot and a lone event no delay. A new link state
        (connecting, syncing, live, reconnecting...) does not wait: the first live snapshot
        came up to a pause late, on every start and every reconnect."""
        loop = asyncio.get_running_loop()
        self._emit()
        last = loop.time()
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.refresh_interval):
                    await self._dirty.wait()
            remaining = self.publish_interval - (loop.time() - last)
            if remaining > 0:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(remaining):
                        await self._urgent.wait()
            try:
                for socket, client in self.pool.clients().items():
                    link = self._link(socket)
                    frames = client.core.stats.frames_in
                    if frames != link.frames_seen:  # heartbeat replies count: the link is up
                        link.frames_seen = frames
                        link.last_rx = self._last_rx = self.clock()
                self._emit()
            except Exception:
                self._internal_error("publishing")
            last = loop.time()
