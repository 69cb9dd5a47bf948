"""The feed's state, changed only by steps: the live feed and a replay are two drivers of it.

``FeedMachine`` holds everything the board is computed from: each department's book and the
freshness of its sources, each socket's link as the feed knows it, the connection summed up
over them, the counters. It is sans-I/O, like the Phoenix core: a step
(``voki_tui.live.steps``) goes in with the moment it happened (the server's time, and this
process's monotonic time), the state changes, and what the driver should do about it comes out
as effects (take a REST snapshot, join a channel again, show a notification). It never reads a
clock, draws a random number or touches a socket.

``LiveFeed`` feeds it what the sockets and the REST API say, as it happens, and publishes
``snapshot(now)``; ``voki-tui replay`` feeds it the same steps from a recording and asks for
``snapshot(T)``. One implementation: what replay shows at T is what the feed published at T.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from voki_tui.live import wire
from voki_tui.live.book import DepartmentBook
from voki_tui.live.events import CustomerLeft
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
from voki_tui.phoenix.presence import PresenceTracker

log = logging.getLogger(__name__)

#: Join refusals that stay (core.PERMANENT_JOIN_ERRORS) and how each is shown.
PERMANENT_REFUSALS = {
    "unauthorized": SourceState.UNAUTHORIZED,
    "forbidden": SourceState.UNAUTHORIZED,
    "not_found": SourceState.NOT_FOUND,
}

# -- effects: what the driver should do after a step --------------------------------------------


@dataclass(frozen=True, slots=True)
class Added:
    """A department is watched from now on: read its history, plan its re-reads."""

    department: str


@dataclass(frozen=True, slots=True)
class Removed:
    """A department is no longer watched: stop whatever the driver does for it."""

    department: str


@dataclass(frozen=True, slots=True)
class PoolWatch:
    """Carry exactly these groups of topics (a department's group is its id)."""

    groups: dict[str, tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class StartSnapshot:
    """Take the REST snapshot of a department's queue ("join", "periodic" or "gap")."""

    department: str
    reason: str


@dataclass(frozen=True, slots=True)
class CancelSnapshot:
    """The snapshot in flight is of no use any more (its token is already aborted)."""

    department: str


@dataclass(frozen=True, slots=True)
class ExpectPresence:
    """Watch that this join's ``presence_state`` comes in time."""

    department: str
    topic: str
    join_ref: str


@dataclass(frozen=True, slots=True)
class JoinAgain:
    """The server closed a channel the feed still wants: join it again after a backoff."""

    topic: str


@dataclass(frozen=True, slots=True)
class PoolRejoin:
    """Join ``topic`` again now, where it is."""

    topic: str


@dataclass(frozen=True, slots=True)
class SuspectGap:
    """An event that does not fit: re-read the department soon, if it is live."""

    department: str
    why: str


@dataclass(frozen=True, slots=True)
class Notify:
    notification: Notification


@dataclass(frozen=True, slots=True)
class CloseSockets:
    """The session is over: close every socket."""


Effect = (
    Added
    | Removed
    | PoolWatch
    | StartSnapshot
    | CancelSnapshot
    | ExpectPresence
    | JoinAgain
    | PoolRejoin
    | SuspectGap
    | Notify
    | CloseSockets
)

# -- the state ----------------------------------------------------------------------------------


class DepartmentState:
    """One department: its book and the freshness of its sources."""

    def __init__(self, department: Department, window_s: int) -> None:
        self.book = DepartmentBook(department, window_s=window_s)
        self.queue = Source()
        self.presence = Source()
        self.history = Source()  # the REST backfill of the metrics window
        self.tracker = PresenceTracker()
        #: The REST snapshot in flight: its token and the waiting call ids when it began.
        self.snapshot_token: int | None = None
        self.snapshot_before: frozenset[str] = frozenset()
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
class Link:
    """What the feed knows of one socket of the pool, for the status it sums up."""

    open: bool = False
    ever_open: bool = False  # connected at least once: a loss is "reconnecting"
    retry_at: datetime | None = None
    attempt: int = 0
    detail: str | None = None
    last_rx: datetime | None = None
    frames_seen: int = 0


@dataclass(slots=True)
class Outside:
    """What the last ``Tick`` said of the counters, the clock and the notices kept outside."""

    counters: dict[str, int] = field(default_factory=dict)
    offset_s: float = 0.0
    notices: tuple[str, ...] = ()


class FeedMachine:
    """The feed's state; ``apply`` a step, ``take_effects``, ``snapshot(now)``."""

    def __init__(self, server: str, tenant: str, now: datetime, *, window_s: int = 3600) -> None:
        self.server = server
        self.tenant = tenant
        self.window_s = window_s
        self.user: UserInfo | None = None
        self.departments: dict[str, DepartmentState] = {}
        self.connection = Connection(state=LinkState.CONNECTING, since=now)
        self.counters = Counters()
        self.links: dict[int, Link] = {}
        self.sockets: tuple[int, ...] = ()
        self.where: dict[str, int] = {}  # department -> its socket
        self.outside = Outside()
        self.version = 0
        self.last_rx: datetime | None = None
        self.auth_failed = False
        self.closes: dict[str, int] = {}  # topic -> server closes in a row
        self.effects: list[Effect] = []

    # -- public ------------------------------------------------------------------------------

    def apply(self, step: Step, now: datetime, monotonic: float) -> Any:
        """Apply ``step``, which happened at ``now`` (``monotonic`` on this process's clock).

        A step that fails in a way nobody foresaw costs that step, not the board: it is logged
        and counted, and the department it concerned is re-read soon."""
        try:
            return self._dispatch(step, now, monotonic)
        except Exception:
            self._internal_error(f"applying {type(step).__name__}")
            if isinstance(step, SocketEvent):
                topic = getattr(step.event, "topic", "")
                found = self._department_of(topic) if isinstance(topic, str) else None
                if found is not None:  # half-applied, perhaps: read the truth again soon
                    self._suspect_gap(found[1], f"an error while handling an event on {topic}")
            return None

    def take_effects(self) -> list[Effect]:
        effects, self.effects = self.effects, []
        return effects

    def snapshot(self, now: datetime) -> FeedSnapshot:
        """The state as of ``now``, as one immutable value."""
        connection = self.connection
        if connection.state is LinkState.LIVE:
            connection = replace(connection, data_as_of=now)
        views = tuple(self._view(entry, now) for entry in self.departments.values())
        return FeedSnapshot(
            version=self.version,
            taken_at=now,
            server=self.server,
            tenant=self.tenant,
            user=self.user,
            connection=connection,
            departments=views,
            clock_offset_s=self.outside.offset_s,
            notices=self.outside.notices,
            counters=self._counters(),
            links=len(self.sockets),
        )

    def _counters(self) -> Counters:
        """The machine's own counters, those its parts keep (the reducers, the presence
        trackers), summed over departments, and those kept outside it as the last ``Tick``
        said (the sockets, the REST client, the session)."""
        entries = list(self.departments.values())
        queues = [entry.book.queue for entry in entries]
        known = Counters.__dataclass_fields__
        outside = {k: v for k, v in self.outside.counters.items() if k in known}
        return replace(
            self.counters,
            duplicate_events=sum(q.duplicates for q in queues),
            late_joins=sum(q.late_joins for q in queues),
            stale_snapshots=sum(q.stale_snapshots for q in queues),
            buffer_overflows=sum(q.buffer_overflows for q in queues)
            + sum(entry.tracker.overflows for entry in entries),
            foreign_records=sum(q.foreign_records for q in queues),
            bad_fields=sum(entry.book.agents.bad_fields for entry in entries),
            **outside,
        )

    def awaiting_presence(self, topic: str, join_ref: str) -> DepartmentState | None:
        """The department whose join ``join_ref`` of ``topic`` still waits for its
        ``presence_state``; None once it came (or another join replaced it)."""
        found = self._department_of(topic)
        if found is None:
            return None
        tracker = found[1].tracker
        return None if tracker.join_ref != join_ref or tracker.synced else found[1]

    def socket_of(self, department: str) -> int | None:
        return self.where.get(department)

    # -- dispatch ----------------------------------------------------------------------------

    def _dispatch(self, step: Step, now: datetime, monotonic: float) -> Any:
        match step:
            case SocketEvent(socket=socket, event=event):
                self._on_socket_event(socket, event, now, monotonic)
            case Tick():
                self._on_tick(step, now)
            case Layout(sockets=sockets, where=where, after_watch=after_watch):
                self.sockets, self.where = sockets, dict(where)
                if after_watch:
                    self._changed()
                    self._summarise(now)
            case SnapshotBegun(department=ident):
                self._begin_snapshot(ident)
            case SnapshotTaken(department=ident, reason=reason, calls=calls):
                return self._snapshot_taken(ident, reason, calls, now)
            case SnapshotFailed(department=ident, message=message):
                self._snapshot_failed(ident, message)
            case SnapshotAborted(department=ident):
                entry = self.departments.get(ident)
                if entry is not None:
                    self._abort_snapshot(entry)
            case HistoryTaken(department=ident, calls=calls):
                self._history_taken(ident, calls, now)
            case HistoryFailed(department=ident, message=message, delay_s=delay):
                if step.unexpected:
                    self._internal_error(f"the history of {ident}", logged=True)
                else:
                    self._count("snapshot_failures", f"history of {ident}: {message}")
                entry = self.departments.get(ident)
                if entry is not None:
                    detail = f"{message}; retrying in {delay:.0f} s"
                    entry.history = replace(entry.history, detail=detail)
            case HistoryRefused(department=ident, forbidden=forbidden, message=message):
                self._history_refused(ident, forbidden, message)
            case SessionLost(message=message):
                self._lose_session(message, now)
            case PresenceOverdue(topic=topic, join_ref=join_ref, delay_s=delay):
                self._presence_overdue(topic, join_ref, delay, now)
            case CloseRetry(topic=topic, delay_s=delay):
                self._close_retry(topic, delay)
            case Rejoin(topic=topic, why=why):
                self._count("rejoins", f"joining {topic} again ({why})")
                self.effects.append(PoolRejoin(topic))
            case ResyncPresence(department=ident):
                entry = self.departments.get(ident)
                if entry is not None and entry.presence_resync is None:
                    entry.presence_resync = entry.agents_key()
                    self.effects.append(PoolRejoin(entry.topics[1]))
            case LinkDetail(socket=socket, detail=detail):
                self._link(socket).detail = detail
                self._summarise(now)
            case InternalError(what=what):  # the feed logged it, with its traceback
                self._internal_error(what, logged=True)
            case Watch(departments=departments):
                self._watch(departments)
            case Start(user=user):
                self.user = user
        return None

    # -- departments -------------------------------------------------------------------------

    def _watch(self, departments: Iterable[Department]) -> None:
        """Watch exactly these departments from now on: the new ones are joined (and their
        hour of history read), the others left; sockets open and close to match."""
        wanted = {department.id: department for department in departments}
        for ident in [i for i in self.departments if i not in wanted]:
            entry = self.departments.pop(ident)
            self._abort_snapshot(entry)
            self.effects.append(Removed(ident))
            for topic in entry.topics:
                self.closes.pop(topic, None)
        for ident, department in wanted.items():
            if ident not in self.departments:
                self.departments[ident] = DepartmentState(department, self.window_s)
                self.effects.append(Added(ident))
        groups: dict[str, tuple[str, ...]] = {}
        if self.user is not None:
            notifications = f"notification:{self.user.id}"
            groups[notifications] = (notifications,)
        for ident, entry in self.departments.items():
            groups[ident] = entry.topics
        self.effects.append(PoolWatch(groups))
        self._changed()

    def _view(self, entry: DepartmentState, now: datetime) -> DepartmentView:
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

    def _department_of(self, topic: str) -> tuple[str, DepartmentState] | None:
        kind, _, ident = topic.partition(":")
        entry = self.departments.get(ident)
        if entry is None or kind not in ("queue", "presence"):
            return None
        return kind, entry

    def _on_socket(self, socket: int) -> list[DepartmentState]:
        """The departments whose topics are on ``socket``."""
        return [
            entry for ident, entry in self.departments.items() if self.where.get(ident) == socket
        ]

    # -- sockets -----------------------------------------------------------------------------

    def _link(self, socket: int) -> Link:
        found = self.links.get(socket)
        if found is None:
            found = self.links[socket] = Link()
        return found

    def _on_tick(self, tick: Tick, now: datetime) -> None:
        for socket, frames in tick.frames:
            link = self._link(socket)
            if frames != link.frames_seen:  # heartbeat replies count: the link is up
                link.frames_seen = frames
                link.last_rx = self.last_rx = now
        self.outside = Outside(dict(tick.counters), tick.offset_s, tick.notices)

    def _on_socket_event(
        self, socket: int, event: core.Event, now: datetime, monotonic: float
    ) -> None:
        link = self._link(socket)
        if isinstance(event, core.Message):
            link.last_rx = self.last_rx = now
            self._on_message(event.topic, event.event, event.payload, event.join_ref, now)
            return  # a message changes no source's state but a presence_state's (it says)
        if isinstance(event, core.ChannelJoined | core.Connected):
            link.last_rx = self.last_rx = now
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
                link.retry_at = now + timedelta(seconds=max(0.0, at - monotonic))
                link.attempt = attempt
            case core.AuthFailed(status=status, refresh_requested=True):
                log.info("websocket upgrade refused (HTTP %d); refreshing the token", status)
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
                self.effects.append(JoinAgain(topic))
            case core.ProtocolViolation(reason=reason):
                log.warning("protocol violation: %s", reason)
            case _:
                pass
        self._changed()
        self._summarise(now)

    def _set_link(
        self, state: LinkState, now: datetime, as_of: datetime | None = None, **changes: Any
    ) -> None:
        """Enter ``state``; data shown from now on was last known true ``as_of`` (default:
        the last frame received) when this leaves LIVE."""
        previous = self.connection
        data_as_of = previous.data_as_of
        if previous.state is LinkState.LIVE and state is not LinkState.LIVE:
            data_as_of = as_of or self.last_rx or now
        since = previous.since if previous.state is state else now
        self.connection = replace(
            previous, state=state, since=since, data_as_of=data_as_of, **changes
        )
        self._changed()

    def _summarise(self, now: datetime) -> None:
        """The connection the status bar shows, summed up over every socket and department:
        reconnecting while any socket that was up is down, connecting until one is up, then
        syncing until every socket is up and every department has answered, then live."""
        if self.auth_failed:
            return
        sockets = self.sockets
        for gone in [s for s in self.links if s not in sockets]:
            del self.links[gone]
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
            self._set_link(state, now, as_of, retry_at=retry_at, attempt=attempt, detail=detail)

    def _mark(self, entries: Iterable[DepartmentState], state: SourceState) -> None:
        """Every synced or joining source of ``entries`` becomes ``state``; one that goes
        stale was true until the last frame its socket received (not until it was last
        reconciled)."""
        for entry in entries:
            socket = self.where.get(entry.book.department.id)
            link = self.links.get(socket) if socket is not None else None
            as_of = link.last_rx if link is not None else self.last_rx
            for name in ("queue", "presence"):
                source: Source = getattr(entry, name)
                if source.state is SourceState.SYNCED and state is SourceState.STALE:
                    setattr(entry, name, replace(source, state=state, as_of=as_of or source.as_of))
                elif source.state in (SourceState.SYNCED, SourceState.JOINING):
                    setattr(entry, name, replace(source, state=state))

    # -- channels ----------------------------------------------------------------------------

    def _on_joined(self, topic: str, join_ref: str) -> None:
        found = self._department_of(topic)
        if found is None:
            return
        kind, entry = found
        self.closes.pop(topic, None)
        ident = entry.book.department.id
        if kind == "presence":
            entry.tracker.joined(join_ref)
            if entry.presence_resync is None:
                entry.presence = replace(entry.presence, state=SourceState.JOINING, detail=None)
            self.effects.append(ExpectPresence(ident, topic, join_ref))
        else:
            entry.queue = replace(entry.queue, state=SourceState.JOINING, detail=None)
            self.effects.append(StartSnapshot(ident, "join"))
        self._changed()

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

    def _on_channel_down(self, topic: str, link: Link) -> None:
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

    def _presence_overdue(self, topic: str, join_ref: str, delay: float, now: datetime) -> None:
        """A join whose ``presence_state`` never came would say "syncing" for good (or, for a
        resync, keep old agents as if current): the feed joins again after ``delay``."""
        entry = self.awaiting_presence(topic, join_ref)
        if entry is None:
            return
        entry.presence_misses += 1
        log.warning("no presence_state on %s; joining again in %.1f s", topic, delay)
        entry.presence_resync = None
        entry.presence = replace(
            entry.presence, state=SourceState.STALE, detail="no presence state from the server"
        )
        self._changed()
        self._summarise(now)

    def _close_retry(self, topic: str, delay: float) -> None:
        self.closes[topic] = self.closes.get(topic, 0) + 1
        found = self._department_of(topic)
        if found is not None:
            kind, entry = found
            source: Source = getattr(entry, kind)
            detail = f"closed by the server; joining again in {delay:.0f} s"
            setattr(entry, kind, replace(source, detail=detail))
            self._changed()
        log.warning("%s closed by the server; joining again in %.1f s", topic, delay)

    # -- messages ----------------------------------------------------------------------------

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
        entry: DepartmentState,
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
            self._summarise(now)
        else:
            keys = [key for key, _, _ in change.joins]
            keys += [key for key, _, _ in change.leaves if key not in keys]
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
        self.effects.append(Notify(note))

    # -- REST --------------------------------------------------------------------------------

    def _begin_snapshot(self, ident: str) -> None:
        entry = self.departments.get(ident)
        if entry is None:
            return
        self._abort_snapshot(entry)  # a snapshot superseded by this one
        entry.snapshot_token = entry.book.begin_snapshot()
        entry.snapshot_before = entry.waiting_ids()

    def _abort_snapshot(self, entry: DepartmentState) -> None:
        if entry.snapshot_token is not None:
            entry.book.abort_snapshot(entry.snapshot_token)
            entry.snapshot_token = None

    def _cancel_snapshot(self, entry: DepartmentState) -> None:
        """A snapshot taken for a join that is gone must not mark the queue synced."""
        self._abort_snapshot(entry)
        self.effects.append(CancelSnapshot(entry.book.department.id))

    def _snapshot_failed(self, ident: str, message: str | None) -> None:
        entry = self.departments.get(ident)
        if entry is None:
            return
        self._abort_snapshot(entry)
        if message is None:  # the feed logged it, with its traceback
            self._internal_error(f"the queue snapshot of {ident}", logged=True)
        else:
            self._count("snapshot_failures", f"queue snapshot of {ident}: {message}")
            entry.queue = replace(entry.queue, detail=message)

    def _snapshot_taken(self, ident: str, reason: str, calls: Iterable[Any], now: datetime) -> bool:
        """The REST truth of the queue, after a join (``reason`` "join") or to catch drift
        while live ("periodic", "gap"). False when it could not be used (superseded, or its
        events overflowed): the feed asks again."""
        entry = self.departments.get(ident)
        if entry is None or entry.snapshot_token is None:
            return False
        token, before = entry.snapshot_token, entry.snapshot_before
        entry.snapshot_token = None
        items = [
            wire.queued_item(call, ident, now)
            for call in calls
            if call.department_id in (None, ident)
        ]
        for item in items:
            if item.suspect_time:
                self._count("outlier_times", f"queued_at of {item.call_id}: implausible")
        if not entry.book.reconcile(items, now, token=token):
            return False
        after = entry.waiting_ids()
        if reason != "join" and after != before:
            self._drifted(entry, "queue", len(before - after), len(after - before))
        entry.queue = Source(SourceState.SYNCED, now)
        self._changed()
        self._summarise(now)
        return True

    def _history_taken(self, ident: str, calls: Iterable[Any], now: datetime) -> None:
        """The department's metrics window from REST, so its figures are right from the first
        second (its ``history`` source says when they are); one bad call is skipped, not the
        hour."""
        entry = self.departments.get(ident)
        if entry is None:
            return
        records = []
        for call in calls:
            try:
                record = wire.call_record(call, ident, now)
            except (wire.InvalidPayload, ValueError, OverflowError) as exc:
                self._count("invalid_payloads", f"history item of {ident}: {exc}")
                continue
            if record.suspect_time:
                self._count("outlier_times", f"history of {ident}: {call.call_id}")
            records.append(record)
        entry.book.backfill(records, now)
        entry.history = Source(SourceState.SYNCED, now)
        self._changed()

    def _history_refused(self, ident: str, forbidden: bool, message: str) -> None:
        entry = self.departments.get(ident)
        if entry is None:
            return
        state = SourceState.UNAUTHORIZED if forbidden else SourceState.NOT_FOUND
        log.warning("history of %s refused: %s", ident, message)
        entry.history = replace(entry.history, state=state, detail=message)
        self._changed()

    # -- session, drift, counters ------------------------------------------------------------

    def _lose_session(self, message: str, now: datetime) -> None:
        """Only a person can log in again: stop, keep the data, say why."""
        if self.auth_failed:
            return
        log.warning("session lost: %s", message)
        self.auth_failed = True
        self._mark(self.departments.values(), SourceState.STALE)
        self._set_link(LinkState.AUTH_FAILED, now, detail=message)
        self.effects.append(CloseSockets())

    def _suspect_gap(self, entry: DepartmentState, why: str) -> None:
        self.effects.append(SuspectGap(entry.book.department.id, why))

    def _drifted(self, entry: DepartmentState, what: str, gone: int, new: int) -> None:
        log.warning(
            "%s of %s had drifted while live (%d to remove, %d to add): repaired",
            what,
            entry.book.department.id,
            gone,
            new,
        )
        self.counters = replace(self.counters, drift_repaired=self.counters.drift_repaired + 1)

    def _count(self, counter: str, message: str) -> None:
        log.warning("%s", message)
        self.counters = replace(self.counters, **{counter: getattr(self.counters, counter) + 1})
        self._changed()

    def _internal_error(self, what: str, *, logged: bool = False) -> None:
        if not logged:
            log.exception("internal error in %s; carrying on", what)
        self.counters = replace(self.counters, internal_errors=self.counters.internal_errors + 1)
        self._changed()

    def _changed(self) -> None:
        self.version += 1
