"""The immutable picture of the world that the live feed publishes and every screen renders.

These types are the contract between ``voki_tui.live`` (which builds them from frames and REST
snapshots) and ``voki_tui.ui`` / the headless commands (which only read them). They are frozen
so a snapshot handed to the UI can never change under it; the feed publishes a new
``FeedSnapshot`` whenever something changed, and consumers compare ``version`` numbers.

Times are timezone-aware UTC ``datetime`` values taken from the server where the server gave
one (``queued_at``, ``since``) and from the feed's injectable clock otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from voki_tui.language import N_
from voki_tui.live.rules import SL_THRESHOLD_S, Rules


class LinkState(StrEnum):
    """Where the websocket link stands, as the status bar says it."""

    CONNECTING = "connecting"  # first connection attempt in progress
    LIVE = "live"  # connected, channels joined and REST snapshots reconciled
    SYNCING = "syncing"  # connected, (re)joining or taking the REST snapshots
    RECONNECTING = "reconnecting"  # link lost; next attempt at ``Connection.retry_at``
    OFFLINE = "offline"  # stopped by us (logout, quit) or given up
    AUTH_FAILED = "auth_failed"  # refresh token rejected: only a new login helps


class SourceState(StrEnum):
    """The state of one subscription (a department's queue or presence channel)."""

    JOINING = "joining"
    SYNCED = "synced"  # joined and reconciled with the REST snapshot / presence_state
    STALE = "stale"  # was synced; the link or channel dropped since ``Source.as_of``
    UNAUTHORIZED = "unauthorized"  # the server refused the join for this user
    NOT_FOUND = "not_found"
    ERROR = "error"  # refused for another reason that stays (``Source.detail`` says which)


#: A source in one of these states is still to come (a retried failure keeps it here).
PENDING = frozenset({SourceState.JOINING, SourceState.STALE})
#: A source in one of these states will not come: the server said no.
REFUSED = frozenset({SourceState.UNAUTHORIZED, SourceState.NOT_FOUND, SourceState.ERROR})


@dataclass(frozen=True, slots=True)
class Source:
    """Freshness of one data source: the figures it feeds are true as of ``as_of``."""

    state: SourceState = SourceState.JOINING
    as_of: datetime | None = None  # last instant the data was known to be true
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class Connection:
    """The link as a whole. ``data_as_of`` is when the data shown was last known true."""

    state: LinkState = LinkState.CONNECTING
    since: datetime | None = None  # when ``state`` was entered
    retry_at: datetime | None = None  # next reconnect attempt, when RECONNECTING
    attempt: int = 0  # consecutive failed attempts
    data_as_of: datetime | None = None
    detail: str | None = None  # human-readable cause of the current state (never a secret)

    def data_age_s(self, now: datetime) -> float | None:
        """Seconds since the data was last known true; 0 while live, None before any data."""
        if self.state is LinkState.LIVE:
            return 0.0
        if self.data_as_of is None:
            return None
        return max(0.0, (now - self.data_as_of).total_seconds())


@dataclass(frozen=True, slots=True)
class UserInfo:
    id: str
    name: str
    email: str
    role: str  # attendant | supervisor | manager (others shown verbatim)
    locale: str | None = None


@dataclass(frozen=True, slots=True)
class Department:
    """A department as the server describes it, plus its resolved ``rules``.

    ``max_queue_size`` and ``max_wait_time`` are the server's own values; the limits every
    figure is judged against are ``rules`` (``voki_tui.live.rules``: config, server, default),
    None until resolved, when ``voki_tui.live.figures`` falls back to the server's values.
    ``sla_threshold_s`` is the service-level threshold the metrics window counts with.
    """

    id: str
    name: str
    max_queue_size: int | None = None
    max_wait_time: int | None = None  # seconds
    sla_threshold_s: int = SL_THRESHOLD_S
    active: bool = True  # the server's ``active``; an inactive one is off the wallboard
    rules: Rules | None = None


@dataclass(frozen=True, slots=True)
class WaitingCustomer:
    call_id: str
    department_id: str
    customer_name: str
    reason: str | None
    queued_at: datetime
    position: int | None = None  # as the server last said; display order is by queued_at
    first_seen: datetime | None = None  # when this client learned of it (for "new" marks)
    customer_email: str | None = None  # shown masked unless --show-contact
    customer_phone: str | None = None


@dataclass(frozen=True, slots=True)
class Agent:
    """One present agent. ``status``/``since``/``call_id`` come from their most recent meta."""

    user_id: str
    name: str
    status: str  # available | in_call | away | paused | anything else, verbatim
    since: datetime | None
    devices: int  # number of presence metas (tabs / devices)
    call_id: str | None = None
    role: str | None = None
    reason: str | None = None  # a pause or away reason, when the server sends one


@dataclass(frozen=True, slots=True)
class Metrics:
    """The figures of one department at one instant; see ``voki_tui.live.metrics``."""

    waiting: int
    longest_wait_s: float | None
    asa_s: float | None  # mean wait of calls assigned in the window
    answered: int  # calls assigned in the window
    answered_within: int  # ... of which waited <= threshold
    abandoned: int  # customer_left reason=abandoned in the window
    abandoned_after_threshold: int  # ... of which waited > threshold
    service_level: float | None  # answered_within / (answered + abandoned_after_threshold)
    abandonment_rate: float | None  # abandoned / (answered + abandoned)
    agents_present: int
    agents_available: int
    agents_in_call: int
    agents_away: int  # away or paused
    agents_other: int  # any status we do not know
    window_s: int
    threshold_s: int


@dataclass(frozen=True, slots=True)
class Notification:
    id: str
    kind: str  # new_notification kind, or "appointment_reminder"
    title: str
    body: str
    at: datetime | None


@dataclass(frozen=True, slots=True)
class DepartmentView:
    """Everything shown about one department."""

    department: Department
    waiting: tuple[WaitingCustomer, ...] = ()  # oldest first
    agents: tuple[Agent, ...] = ()  # sorted by name, then user_id
    metrics: Metrics | None = None  # as of FeedSnapshot.taken_at
    queue: Source = field(default_factory=Source)
    presence: Source = field(default_factory=Source)
    waiting_history: tuple[tuple[datetime, int], ...] = ()  # (minute, waiting) for sparklines
    #: The REST backfill of the metrics window (ASA, service level, abandonment): until it is
    #: synced those figures count only what was seen live.
    history: Source = field(default_factory=Source)

    @property
    def complete(self) -> bool:
        """Every figure the server can give is in and current."""
        return all(
            source.state is SourceState.SYNCED
            for source in (self.queue, self.presence, self.history)
        )

    @property
    def refused(self) -> bool:
        """The server refused this department (or does not know it), for good."""
        return any(source.state in REFUSED for source in (self.queue, self.presence, self.history))


def _counter(label: str) -> int:
    """A counter field; ``label`` is how help names it (the JSON uses the field name)."""
    return field(default=0, metadata={"label": label})


@dataclass(frozen=True, slots=True)
class Counters:
    """What went wrong and was survived; shown in the help screen and the JSON output.

    One field per counter, with its label: the help page and the JSON read them from here.
    """

    frames_received: int = _counter(N_("frames received"))
    malformed_frames: int = _counter(N_("malformed frames"))
    unknown_events: int = _counter(N_("unknown events"))
    invalid_payloads: int = _counter(N_("invalid payloads"))
    reconnects: int = _counter(N_("reconnects"))
    snapshot_failures: int = _counter(N_("snapshot failures"))
    unrouted_frames: int = _counter(N_("frames for topics not joined"))  # dropped
    drift_repaired: int = _counter(N_("drift repaired while live"))  # a resync found a difference
    rejoins: int = _counter(N_("channels joined again"))  # closed by the server, no state, a resync
    outlier_times: int = _counter(N_("implausible server times ignored"))
    internal_errors: int = _counter(N_("internal errors survived"))
    heartbeat_timeouts: int = _counter(N_("dead links found by heartbeat"))
    stale_frames: int = _counter(N_("frames of an old join dropped"))
    duplicate_events: int = _counter(N_("repeated events ignored"))
    late_joins: int = _counter(N_("joins of finished calls ignored"))  # ghosts prevented
    stale_snapshots: int = _counter(N_("superseded snapshots dropped"))
    buffer_overflows: int = _counter(N_("event buffers overflowed"))  # a fresh snapshot follows
    foreign_records: int = _counter(N_("history calls, wrong department"))
    bad_fields: int = _counter(N_("bad presence fields replaced"))
    skipped_items: int = _counter(N_("unusable REST list items skipped"))
    token_refreshes: int = _counter(N_("token refreshes"))
    adopted_refreshes: int = _counter(N_("refreshes by another process"))
    relogins: int = _counter(N_("sign-ins from a password source"))


@dataclass(frozen=True, slots=True)
class FeedSnapshot:
    version: int
    taken_at: datetime
    server: str
    tenant: str
    user: UserInfo | None
    connection: Connection
    departments: tuple[DepartmentView, ...] = ()
    counters: Counters = field(default_factory=Counters)
    #: The server's clock minus this box's (``taken_at`` and every age use the server's):
    #: the screens add it to their own clock, and say so when the box is far off.
    clock_offset_s: float = 0.0
    #: Things the user should know that are not the link's state (the session cannot be
    #: saved, say): shown on the board and listed in help.
    notices: tuple[str, ...] = ()
    #: Sockets the feed has open (or opening): one per ``max_channels_per_transport`` topics.
    links: int = 1
