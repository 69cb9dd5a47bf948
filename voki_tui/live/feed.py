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

The feed does the I/O and the waiting; the state lives in a ``FeedMachine``
(``voki_tui.live.machine``), which only steps change (``voki_tui.live.steps``): each socket
event, each REST answer, each decision taken on a timer. With ``--record`` every step is
written as it is applied (``voki_tui.live.record``), and ``voki-tui replay`` applies them again.

It publishes a ``FeedSnapshot`` whenever something changed: at once when the feed has been
quiet, otherwise at most one snapshot every ``publish_interval`` seconds (a burst of events
becomes one repaint), and every ``refresh_interval`` seconds anyway (the rolling window moves
even when nothing happens).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import ssl
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from voki_tui.api.client import VokiClient
from voki_tui.api.errors import AuthError, ForbiddenError, NotFoundError, VokiError
from voki_tui.api.servertime import JUMP_S
from voki_tui.api.session import Session
from voki_tui.live import machine as m
from voki_tui.live.machine import DepartmentState, FeedMachine
from voki_tui.live.resync import RESYNC_EVERY_S, ResyncPlanner
from voki_tui.live.state import (
    Connection,
    Counters,
    Department,
    FeedSnapshot,
    Notification,
    SourceState,
    UserInfo,
)
from voki_tui.live.steps import (
    CloseRetry,
    HistoryFailed,
    HistoryRefused,
    HistoryTaken,
    InternalError,
    Layout,
    LinkDetail,
    PresenceOverdue,
    Rejoin,
    ResyncPresence,
    SessionLost,
    SnapshotAborted,
    SnapshotBegun,
    SnapshotFailed,
    SnapshotTaken,
    SocketEvent,
    Start,
    Step,
    Tick,
    Watch,
)
from voki_tui.phoenix import core
from voki_tui.phoenix.placement import MAX_CHANNELS_PER_SOCKET
from voki_tui.phoenix.pool import SocketPool
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


class StepLog(Protocol):
    """Where ``--record`` writes each step, before it is applied (``voki_tui.live.record``)."""

    def write(self, step: Step, now: datetime, monotonic: float, machine: FeedMachine) -> None:
        """Write ``step``; ``machine`` is the state it applies to (a new file starts with it)."""
        ...

    def flush(self) -> None: ...

    def close(self) -> None: ...

    @property
    def problem(self) -> str | None:
        """Why recording stopped, to say on the board; None while it works."""
        ...


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


class ForwardClock:
    """The server's time as the feed stamps what happens: every reading is later than the
    one before.

    ``ServerTime``'s estimate of the server's clock is refined by every REST answer, and a
    refinement may step back by a fraction of a second. A moment the feed has stamped must not
    come again: two states of the board would share an instant, and ``replay --at`` could not
    tell which one was published. A reading that would go back by less than ``JUMP_S`` is one
    microsecond past the last one instead (ages stand still for that fraction of a second); a
    step back of more is the server's clock itself jumping, and is followed."""

    def __init__(self, source: WallClock) -> None:
        self.source = source
        self.last: datetime | None = None

    def __call__(self) -> datetime:
        now, last = self.source(), self.last
        if last is not None and last - timedelta(seconds=JUMP_S) < now <= last:
            now = last + timedelta(microseconds=1)
        self.last = now
        return now


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
        recorder: StepLog | None = None,
    ) -> None:
        self.client = client
        self.session = session
        # Ages are ``now - a server timestamp``: "now" is the server's (see ServerTime).
        self.clock = clock if clock is not None else ForwardClock(client.server_time.now_utc)
        self.monotonic = monotonic
        # Every retry waits here (snapshot, history, rejoins): tests pass a sleep that records
        # the delay and returns at once, so a schedule is checked without waiting it out.
        self.sleep = sleep
        self.window_s = window_s
        self.publish_interval = publish_interval
        self.refresh_interval = refresh_interval
        self.endpoint = websocket_endpoint(client.server)
        self.recorder = recorder
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
        self.machine = FeedMachine(client.server, client.tenant, self.clock(), window_s=window_s)
        self._layout_seen = -1
        self._version_seen = 0
        self._effects: list[m.Effect] = []
        self._running_effects = False
        self._dirty = asyncio.Event()
        self._urgent = asyncio.Event()  # the link's state changed: publish without pause
        self._publish: Publish = lambda _snapshot: None
        self._notify: Notify = lambda _notification: None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._snapshots: dict[str, asyncio.Task[None]] = {}  # department -> its REST snapshot
        self._histories: dict[str, asyncio.Task[Any]] = {}  # department -> its backfill
        self._history_slots = asyncio.Semaphore(HISTORY_REQUESTS)
        self.resync = ResyncPlanner(resync_interval, rng=self._rng)
        self._resync_wake = asyncio.Event()
        # The token of each socket's last upgrade attempt, and whether the server refused it:
        # kept here, never in the machine (which --record writes out).
        self._refused: set[int] = set()
        self._attempt_tokens: dict[int, str] = {}

    # -- the state, read through the machine -------------------------------------------------

    @property
    def departments(self) -> dict[str, DepartmentState]:
        return self.machine.departments

    @property
    def connection(self) -> Connection:
        return self.machine.connection

    @property
    def counters(self) -> Counters:
        return self.machine.counters

    @property
    def user(self) -> UserInfo | None:
        return self.machine.user

    # -- public ------------------------------------------------------------------------------

    async def run(
        self, departments: Sequence[Department], publish: Publish, notify: Notify
    ) -> None:
        """Run until cancelled, or until the session is lost for good (AUTH_FAILED)."""
        self._publish, self._notify = publish, notify
        self._step(Start(user_info(self.session)))
        self.watch(departments)
        self._spawn(self._keep_session(), "keep-session")
        self._spawn(self._resync_loop(), "resync")
        sockets = asyncio.create_task(self.pool.run(), name="phoenix-pool")
        publisher = asyncio.create_task(self._publisher(), name="feed-publisher")
        try:
            await sockets
        finally:
            publisher.cancel()
            tasks = (*self._tasks, *self._snapshots.values(), *self._histories.values())
            for task in (*tasks, sockets):
                task.cancel()
            try:
                await asyncio.gather(publisher, sockets, *tasks, return_exceptions=True)
                with contextlib.suppress(Exception):
                    await self.pool.close()
                if self.machine.auth_failed:
                    self._emit()
            finally:  # cancelled again while closing, too: gzip cannot read an unfinished part
                if self.recorder is not None:
                    self.recorder.close()

    def watch(self, departments: Sequence[Department]) -> None:
        """Watch exactly these departments from now on: the new ones are joined (and their
        hour of history read), the others left; sockets open and close to match."""
        self._step(Watch(tuple(departments)))

    def snapshot(self) -> FeedSnapshot:
        """The current state as one immutable value."""
        now = self._tick()
        return self.machine.snapshot(now)

    # -- steps and effects -------------------------------------------------------------------

    def _step(self, step: Step) -> Any:
        """Apply ``step`` now (after the pool's layout, if that changed since the last one),
        then do what it asked for."""
        self._sync_layout()
        return self._apply(step, self.clock())

    def _apply(self, step: Step, now: datetime) -> Any:
        monotonic = self.monotonic()
        if self.recorder is not None:
            self.recorder.write(step, now, monotonic, self.machine)
        state = self.machine.connection.state
        result = self.machine.apply(step, now, monotonic)
        if self.machine.connection.state is not state:
            self._urgent.set()
        if self.machine.version != self._version_seen:
            self._version_seen = self.machine.version
            self._dirty.set()
        self._effects += self.machine.take_effects()
        if not self._running_effects:  # a step applied by an effect leaves its own for later
            self._running_effects = True
            try:
                while self._effects:
                    self._do(self._effects.pop(0))
            finally:
                self._running_effects = False
        return result

    def _sync_layout(self, *, after_watch: bool = False) -> None:
        """The machine knows which socket carries which department only from ``Layout``."""
        if after_watch or self.pool.layout_version != self._layout_seen:
            self._layout_seen = self.pool.layout_version
            sockets, where = self.pool.layout()
            self._apply(Layout(sockets, where, after_watch), self.clock())

    def _do(self, effect: m.Effect) -> None:
        try:
            self._effect(effect)
        except Exception:
            log.exception("internal error in %s; carrying on", type(effect).__name__)
            self._step(InternalError(f"doing {type(effect).__name__}"))

    def _effect(self, effect: m.Effect) -> None:
        match effect:
            case m.StartSnapshot(department=ident, reason=reason):
                self._start_snapshot(ident, reason)
            case m.CancelSnapshot(department=ident):
                task = self._snapshots.pop(ident, None)
                if task is not None:
                    task.cancel()
            case m.ExpectPresence(department=ident, topic=topic, join_ref=join_ref):
                self._spawn(self._expect_presence_state(topic, join_ref), f"watch-{topic}")
            case m.JoinAgain(topic=topic):
                self._spawn(self._join_again(topic), f"rejoin-{topic}")
            case m.PoolRejoin(topic=topic):
                self.pool.rejoin(topic)
            case m.SuspectGap(department=ident, why=why):
                self._suspect_gap(ident, why)
            case m.Notify(notification=note):
                self._notify(note)
            case m.Added(department=ident):
                self.resync.add(ident, self.monotonic())
                self._histories[ident] = self._spawn(self._backfill(ident), f"history-{ident}")
            case m.Removed(department=ident):
                for tasks in (self._snapshots, self._histories):
                    task = tasks.pop(ident, None)
                    if task is not None:
                        task.cancel()
                self.resync.remove(ident)
            case m.PoolWatch(groups=groups):
                self.pool.watch(groups)
                self._sync_layout(after_watch=True)  # even if no socket changed: it sums up
            case m.CloseSockets():
                self._spawn(self.pool.close(), "close-after-auth-failure")

    # -- socket plumbing ---------------------------------------------------------------------

    def _on_event(self, socket: int, event: core.Event) -> None:
        if isinstance(event, core.AuthFailed) and event.refresh_requested:
            self._refused.add(socket)
        self._step(SocketEvent(socket, event))

    async def _socket_url(self, socket: int) -> str:
        """The URL for the socket's next attempt, with a fresh token if its last one was
        refused.

        A refresh that fails for another reason than a refused session (rate limited, server
        down) fails this attempt; the core retries on its backoff schedule and we try the
        refresh again then, within the session's auth rate limit.
        """
        try:
            if socket in self._refused:
                await self._refresh_token(socket)
            token = await self.session.access_token()
        except AuthError as exc:
            self._step(SessionLost(exc.message))
            raise
        except VokiError as exc:
            self._step(LinkDetail(socket, f"token refresh: {exc.message}"))
            raise
        self._attempt_tokens[socket] = token  # until the upgrade succeeds, the one to replace
        return socket_url(self.endpoint, {"token": token})

    async def _refresh_after_refusal(self, socket: int) -> None:
        """The upgrade was refused (401/403): refresh now; a refused refresh ends the session."""
        try:
            await self._refresh_token(socket)
        except AuthError as exc:
            self._step(SessionLost(exc.message))
            raise

    async def _refresh_token(self, socket: int) -> None:
        """Replace the refused token, unless another socket's or a REST call's refresh
        already has (the session refreshes once for them all)."""
        await self.session.on_unauthorized(self._attempt_tokens.get(socket, ""))
        self._refused.discard(socket)

    async def _keep_session(self) -> None:
        """Refresh the tokens ahead of expiry, connected or not (see ``Session.keep_fresh``).

        A failure nobody expected (a token file that cannot be written, a reply that breaks a
        parser) must not end the refreshing for good, or the refresh token would expire on a
        board left up for weeks: it is counted and the refreshing starts again after a pause."""
        failures = 0
        while True:
            try:
                await self.session.keep_fresh()
            except AuthError as exc:
                self._step(SessionLost(exc.message))
                return
            except Exception:
                log.exception("internal error in keeping the session fresh; carrying on")
                self._step(InternalError("keeping the session fresh"))
                failures += 1
                await self.sleep(SERVER_DOWN.delay(failures, self._rng))

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
            log.exception("internal error in task %s; carrying on", name)
            self._step(InternalError(f"task {name}"))

    # -- channels ----------------------------------------------------------------------------

    async def _expect_presence_state(self, topic: str, join_ref: str) -> None:
        """A join whose ``presence_state`` never comes would say "syncing" for good (or, for a
        resync, keep old agents as if current): join again, with backoff, and say why."""
        await self.sleep(self.pool.settings.push_timeout)
        entry = self.machine.awaiting_presence(topic, join_ref)
        if entry is None:
            return
        delay = self.pool.settings.rejoin.delay(entry.presence_misses + 1, self._rng)
        self._step(PresenceOverdue(topic, join_ref, delay))
        await self.sleep(delay)
        if self.machine.awaiting_presence(topic, join_ref) is not None:
            self._step(Rejoin(topic, "no presence_state"))

    async def _join_again(self, topic: str) -> None:
        """The server closed a channel we still want (``phx_close``): join it again, with a
        backoff that grows while it keeps doing so."""
        tries = self.machine.closes.get(topic, 0) + 1
        delay = self.pool.settings.rejoin.delay(tries, self._rng)
        self._step(CloseRetry(topic, delay))
        await self.sleep(delay)
        self._step(Rejoin(topic, "closed by the server"))

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
                try:
                    self._resync(ident, reason)
                except Exception:
                    log.exception("internal error in re-reading %s; carrying on", ident)
                    self._step(InternalError(f"re-reading {ident}"))

    def _is_live(self, ident: str) -> bool:
        """The department's socket is up and both its sources synced: whatever the other
        sockets do, its truth can be re-read now."""
        entry = self.machine.departments.get(ident)
        socket = self.pool.socket_of(f"queue:{ident}")
        return (
            entry is not None
            and socket is not None
            and self.pool.is_open(socket)
            and entry.queue.state is SourceState.SYNCED
            and entry.presence.state is SourceState.SYNCED
        )

    def _resync(self, ident: str, reason: str) -> None:
        """Re-read the department's truth without leaving live: the queue over REST, the
        presence by joining its channel again (a fresh ``presence_state``)."""
        if not self._is_live(ident):
            return  # not live: the joins in progress reconcile anyway
        task = self._snapshots.get(ident)
        if task is None or task.done():
            self._start_snapshot(ident, reason)
        self._step(ResyncPresence(ident))

    def _suspect_gap(self, ident: str, why: str) -> None:
        if not self._is_live(ident):
            return  # still joining: the join's own snapshot settles it
        if self.resync.gap(ident, self.monotonic()):
            log.info("possible gap in %s (%s): re-reading it soon", ident, why)
            self._resync_wake.set()

    # -- REST --------------------------------------------------------------------------------

    def _start_snapshot(self, ident: str, reason: str) -> None:
        previous = self._snapshots.pop(ident, None)
        if previous is not None:
            previous.cancel()
        self._snapshots[ident] = asyncio.create_task(
            self._take_snapshot(ident, reason), name=f"snapshot-{ident}"
        )

    async def _take_snapshot(self, ident: str, reason: str) -> None:
        """The REST truth of the queue, after a join (``reason`` "join") or to catch drift
        while live ("periodic", "gap"); retried with backoff until it works. Cancelled when
        the join it was taken for is gone (the machine has dropped its token by then)."""
        failures = 0
        while True:
            self._step(SnapshotBegun(ident))
            try:
                calls = await self.client.calls(
                    status="queued",
                    department_id=ident,
                    sort_by="inserted_at",
                    sort_order="asc",
                )
            except asyncio.CancelledError:
                raise
            except AuthError as exc:
                self._step(SnapshotAborted(ident))
                self._step(SessionLost(exc.message))
                return
            except Exception as exc:  # a failed attempt, expected (VokiError) or not
                if isinstance(exc, VokiError):
                    self._step(SnapshotFailed(ident, exc.message))
                else:
                    log.exception("internal error in the queue snapshot of %s", ident)
                    self._step(SnapshotFailed(ident, None))
                failures += 1
                await self.sleep(SERVER_DOWN.delay(failures, self._rng))
                continue
            if self._step(SnapshotTaken(ident, reason, tuple(calls))):
                return

    async def _backfill(self, ident: str) -> None:
        """The department's metrics window from REST, so its figures are right from the first
        second (its ``history`` source says when they are). A failure, expected or not, is
        tried again later (``HISTORY_RETRY``); a refusal is an answer. At most
        ``HISTORY_REQUESTS`` departments read theirs at once."""
        failures = 0
        while True:
            try:
                async with self._history_slots:
                    since = self.clock() - timedelta(seconds=self.window_s)
                    calls = await self.client.calls(department_id=ident, date_from=since)
            except AuthError as exc:
                self._step(SessionLost(exc.message))
                return
            except (ForbiddenError, NotFoundError) as exc:
                forbidden = isinstance(exc, ForbiddenError)
                self._step(HistoryRefused(ident, forbidden, exc.message))
                return
            except Exception as exc:  # a failed attempt, expected (VokiError) or not
                failures += 1
                delay = HISTORY_RETRY.delay(failures, self._rng)
                if isinstance(exc, VokiError):
                    self._step(HistoryFailed(ident, exc.message, delay))
                else:
                    log.exception("internal error in the history of %s; carrying on", ident)
                    why = f"internal error ({type(exc).__name__})"
                    self._step(HistoryFailed(ident, why, delay, unexpected=True))
                await self.sleep(delay)
                continue
            self._step(HistoryTaken(ident, tuple(calls)))
            return

    # -- publishing --------------------------------------------------------------------------

    def _tick(self) -> datetime:
        """What the state needs from outside it, as of now (a ``Tick``); now."""
        self._sync_layout()
        stats = self.pool.stats()
        session = self.session
        frames = tuple((s, c.core.stats.frames_in) for s, c in self.pool.clients().items())
        counters = (  # what the sockets, the REST client and the session count
            ("frames_received", stats.frames_in),
            ("malformed_frames", stats.malformed),
            ("reconnects", stats.reconnects),
            ("unrouted_frames", stats.unrouted),
            ("heartbeat_timeouts", stats.heartbeat_timeouts),
            ("stale_frames", stats.stale_dropped),
            ("skipped_items", self.client.skipped_items),
            ("token_refreshes", session.refresh_count),
            ("adopted_refreshes", session.adopted_count),
            ("relogins", session.relogin_count),
        )
        notices = [self.session.not_saved]
        if self.recorder is not None:
            notices.append(self.recorder.problem)
        offset = self.client.server_time.offset_s
        now = self.clock()
        self._apply(Tick(frames, counters, offset, tuple(n for n in notices if n)), now)
        return now

    def _emit(self) -> None:
        self._dirty.clear()
        self._urgent.clear()
        try:
            self._publish(self.snapshot())
        except Exception:
            log.exception("internal error in publishing a snapshot; carrying on")
            self._step(InternalError("publishing a snapshot"))

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
            self._emit()
            if self.recorder is not None:
                self.recorder.flush()
            last = loop.time()
