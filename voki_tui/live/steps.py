"""The inputs of the feed's state machine (``voki_tui.live.machine``), one type per kind.

The live feed (``voki_tui.live.feed``) does the I/O: sockets, REST calls, timers, the clocks.
Everything it learns reaches the state through one of these steps, applied with the moment it
happened (the server's time and this process's monotonic time). Nothing else changes the
state, so the same steps applied in the same order at the same moments give the same state:
that is what ``--record`` writes and ``voki-tui replay`` reads back (``voki_tui.live.record``,
``voki_tui.live.replay``). A step carries what the feed decided outside the state, such as a
retry delay drawn at random, never a token.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeGuard

from voki_tui.api.models import Call
from voki_tui.live.state import Department, UserInfo
from voki_tui.phoenix import core


@dataclass(frozen=True, slots=True)
class Start:
    """The feed starts for this user (None: not known, as in tests)."""

    user: UserInfo | None


@dataclass(frozen=True, slots=True)
class Watch:
    """Watch exactly these departments from now on."""

    departments: tuple[Department, ...]


@dataclass(frozen=True, slots=True)
class Layout:
    """The sockets of the pool and the socket each department's group is on (a group waiting
    to move to another socket is on none). ``after_watch``: the pool has just placed the
    departments of a ``Watch``, and the connection is summed up again."""

    sockets: tuple[int, ...]
    where: tuple[tuple[str, int], ...]
    after_watch: bool = False


@dataclass(frozen=True, slots=True)
class SocketEvent:
    """A socket of the pool told the feed something (a frame's event, a connection change)."""

    socket: int
    event: core.Event


@dataclass(frozen=True, slots=True)
class Tick:
    """The feed is about to publish: what it counts outside the state, at this moment.

    ``frames`` is each socket's count of frames received (heartbeat replies included: a link
    that answers is up), ``counters`` the counters kept by the sockets and the session,
    ``offset_s`` the server's clock minus this box's, ``notices`` the session's notices."""

    frames: tuple[tuple[int, int], ...]
    counters: tuple[tuple[str, int], ...]
    offset_s: float
    notices: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SnapshotBegun:
    """The REST snapshot of a department's queue is requested now (events from here on are
    kept, to be applied again on top of its answer)."""

    department: str


@dataclass(frozen=True, slots=True)
class SnapshotAborted:
    """The snapshot in flight will not be used (the session ended while it was out)."""

    department: str


@dataclass(frozen=True, slots=True)
class SnapshotFailed:
    """The snapshot failed; ``message`` is the server's or the network's reason, None for a
    failure nobody expected (logged by the feed with its traceback)."""

    department: str
    message: str | None


@dataclass(frozen=True, slots=True)
class SnapshotTaken:
    """The answer of the snapshot in flight: the queued calls, oldest first. ``reason`` is
    why it was taken: "join", or "periodic" / "gap" to catch drift while live."""

    department: str
    reason: str
    calls: tuple[Call, ...]


@dataclass(frozen=True, slots=True)
class HistoryTaken:
    """The department's calls of the metrics window, read over REST."""

    department: str
    calls: tuple[Call, ...]


@dataclass(frozen=True, slots=True)
class HistoryFailed:
    """Reading the history failed; the feed tries again in ``delay_s``. ``unexpected``: a
    failure nobody foresaw (logged by the feed with its traceback), not the server's."""

    department: str
    message: str
    delay_s: float
    unexpected: bool = False


@dataclass(frozen=True, slots=True)
class HistoryRefused:
    """The server refused the history: ``forbidden`` (403), else not found (404)."""

    department: str
    forbidden: bool
    message: str


@dataclass(frozen=True, slots=True)
class SessionLost:
    """The server refused the session for good: only a person can log in again."""

    message: str


@dataclass(frozen=True, slots=True)
class PresenceOverdue:
    """The ``presence_state`` of this join never came; joining again in ``delay_s``."""

    topic: str
    join_ref: str
    delay_s: float


@dataclass(frozen=True, slots=True)
class CloseRetry:
    """The server closed a channel the feed still wants; joining again in ``delay_s``."""

    topic: str
    delay_s: float


@dataclass(frozen=True, slots=True)
class Rejoin:
    """Joining ``topic`` again now, for ``why`` (counted as a rejoin)."""

    topic: str
    why: str


@dataclass(frozen=True, slots=True)
class ResyncPresence:
    """Re-read a live department's presence by joining its channel again."""

    department: str


@dataclass(frozen=True, slots=True)
class LinkDetail:
    """Why the socket's next attempt cannot be made (a token refresh that failed)."""

    socket: int
    detail: str


@dataclass(frozen=True, slots=True)
class InternalError:
    """Something in the feed's own I/O failed in a way nobody foresaw (logged by the feed)."""

    what: str


Step = (
    Start
    | Watch
    | Layout
    | SocketEvent
    | Tick
    | SnapshotBegun
    | SnapshotAborted
    | SnapshotFailed
    | SnapshotTaken
    | HistoryTaken
    | HistoryFailed
    | HistoryRefused
    | SessionLost
    | PresenceOverdue
    | CloseRetry
    | Rejoin
    | ResyncPresence
    | LinkDetail
    | InternalError
)

STEP_TYPES: tuple[type, ...] = (
    Start,
    Watch,
    Layout,
    SocketEvent,
    Tick,
    SnapshotBegun,
    SnapshotAborted,
    SnapshotFailed,
    SnapshotTaken,
    HistoryTaken,
    HistoryFailed,
    HistoryRefused,
    SessionLost,
    PresenceOverdue,
    CloseRetry,
    Rejoin,
    ResyncPresence,
    LinkDetail,
    InternalError,
)


def is_step(value: object) -> TypeGuard[Step]:
    return isinstance(value, STEP_TYPES)
