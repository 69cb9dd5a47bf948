"""``LiveFeed`` without a network: core events in, link and source states out, fake clocks.

The REST side is a small scripted stand-in (``FakeRest``) whose ``calls`` answers when the
test releases it, so the order of "snapshot answered" and "link lost" is under test control.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest

from voki_tui.api.client import VokiClient
from voki_tui.api.errors import AuthError, ServerError
from voki_tui.api.models import Call
from voki_tui.api.servertime import ServerTime
from voki_tui.api.session import Session
from voki_tui.live.feed import LiveFeed, Sleep
from voki_tui.live.machine import DepartmentState
from voki_tui.live.state import Department, FeedSnapshot, LinkState, SourceState
from voki_tui.phoenix import core
from voki_tui.retry import SERVER_DOWN

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.seconds = 0.0

    def wall(self) -> datetime:
        return T0 + timedelta(seconds=self.seconds)

    def monotonic(self) -> float:
        return 1000.0 + self.seconds


class FakeRest:
    """``calls(status="queued", ...)`` answers with ``queued`` once ``release`` is set."""

    server = "http://voki.test"
    tenant = "demo"
    insecure = False

    def __init__(self) -> None:
        self.queued: list[Call] = []
        self.release = asyncio.Event()
        self.release.set()
        self.requests = 0  # queue snapshots
        self.history_requests = 0
        self.error: Exception | None = None
        self.server_time = ServerTime()
        self.skipped_items = 0

    async def calls(self, **filters: Any) -> list[Call]:
        if filters.get("status") != "queued":
            self.history_requests += 1
            return []
        self.requests += 1
        await self.release.wait()
        if self.error is not None:
            raise self.error
        return list(self.queued) if filters.get("status") == "queued" else []


class SessionStandIn:
    """What the feed reads of a session when no test drives the session itself: the session
    is saved, and it never refreshed (the counters the feed reads from it stay 0)."""

    not_saved: str | None = None
    refresh_count = relogin_count = adopted_count = 0


def make_feed(rest: FakeRest, clock: Clock, sleep: Sleep = asyncio.sleep) -> LiveFeed:
    feed = LiveFeed(
        cast(VokiClient, rest),
        cast(Session, SessionStandIn()),
        clock=clock.wall,
        monotonic=clock.monotonic,
        sleep=sleep,
    )
    feed.watch([Department("1", "Suporte")])
    return feed


def link(feed: LiveFeed) -> LinkState:
    """The link state, read through a call so each assertion re-reads it (and mypy agrees)."""
    return feed.connection.state


async def settle() -> None:
    for _ in range(10):
        await asyncio.sleep(0)


def presence_state(feed: LiveFeed, join_ref: str = "2") -> None:
    feed._on_event(0, core.ChannelJoined("presence:1", join_ref, {}))
    metas = {"metas": [{"phx_ref": "a", "status": "available", "name": "Ana"}]}
    feed._on_event(0, core.Message("presence:1", "presence_state", {"7": metas}, join_ref))


async def go_live(feed: LiveFeed) -> None:
    feed._on_event(0, core.Connected())
    feed._on_event(0, core.ChannelJoined("queue:1", "1", {}))
    presence_state(feed)
    await settle()


async def test_connected_is_syncing_until_queue_snapshot_and_presence_state() -> None:
    rest, clock = FakeRest(), Clock()
    rest.release.clear()
    feed = make_feed(rest, clock)
    feed._on_event(0, core.Connected())
    assert link(feed) is LinkState.SYNCING
    feed._on_event(0, core.ChannelJoined("queue:1", "1", {}))
    presence_state(feed)
    await settle()
    assert link(feed) is LinkState.SYNCING  # the REST snapshot is still out
    rest.release.set()
    await settle()
    assert link(feed) is LinkState.LIVE
    entry = feed.departments["1"]
    assert (entry.queue.state, entry.presence.state) == (SourceState.SYNCED, SourceState.SYNCED)


async def test_disconnect_marks_everything_stale_and_ages_the_data() -> None:
    rest, clock = FakeRest(), Clock()
    feed = make_feed(rest, clock)
    await go_live(feed)
    clock.seconds = 4.0
    feed._on_event(0, core.Disconnected(1006, "", 0.0))
    assert link(feed) is LinkState.RECONNECTING
    entry = feed.departments["1"]
    assert (entry.queue.state, entry.presence.state) == (SourceState.STALE, SourceState.STALE)
    clock.seconds = 34.0
    snapshot = feed.snapshot()
    assert snapshot.connection.data_age_s(snapshot.taken_at) == pytest.approx(34.0)


async def test_reconnect_scheduled_gives_a_wall_clock_retry_time() -> None:
    rest, clock = FakeRest(), Clock()
    feed = make_feed(rest, clock)
    await go_live(feed)
    feed._on_event(0, core.Disconnected(1006, "", 0.0))
    feed._on_event(0, core.ReconnectScheduled(at=clock.monotonic() + 2.5, attempt=3))
    assert feed.connection.retry_at == T0 + timedelta(seconds=2.5)
    assert feed.connection.attempt == 3


async def test_rejoin_after_reconnect_goes_live_again_only_after_a_new_snapshot() -> None:
    rest, clock = FakeRest(), Clock()
    feed = make_feed(rest, clock)
    await go_live(feed)
    feed._on_event(0, core.Disconnected(1006, "", 0.0))
    rest.release.clear()
    feed._on_event(0, core.Connected())
    feed._on_event(0, core.ChannelJoined("queue:1", "3", {}))
    presence_state(feed, "4")
    await settle()
    assert link(feed) is LinkState.SYNCING
    rest.release.set()
    await settle()
    assert link(feed) is LinkState.LIVE
    assert rest.requests == 2


async def test_a_snapshot_answered_after_the_link_dropped_is_not_synced() -> None:
    """The REST answer is true when it arrives, but with the link down events are being
    missed from then on: the queue is stale, not synced."""
    rest, clock = FakeRest(), Clock()
    rest.release.clear()
    feed = make_feed(rest, clock)
    feed._on_event(0, core.Connected())
    feed._on_event(0, core.ChannelJoined("queue:1", "1", {}))
    await settle()
    feed._on_event(0, core.Disconnected(1006, "", 0.0))
    rest.release.set()
    await settle()
    assert feed.departments["1"].queue.state is SourceState.STALE


async def test_a_snapshot_answered_after_the_channel_crashed_does_not_go_live() -> None:
    rest, clock = FakeRest(), Clock()
    feed = make_feed(rest, clock)
    await go_live(feed)
    rest.release.clear()
    feed._on_event(0, core.ChannelErrored("queue:1", "channel_crash"))
    feed._on_event(0, core.ChannelJoined("queue:1", "5", {}))
    await settle()
    feed._on_event(0, core.ChannelErrored("queue:1", "channel_crash"))
    rest.release.set()
    await settle()
    assert feed.departments["1"].queue.state is not SourceState.SYNCED
    assert link(feed) is LinkState.SYNCING


async def test_refused_departments_do_not_block_live() -> None:
    rest, clock = FakeRest(), Clock()
    feed = make_feed(rest, clock)
    feed.departments["2"] = DepartmentState(Department("2", "Vendas"), window_s=3600)
    await go_live(feed)
    assert link(feed) is LinkState.SYNCING
    feed._on_event(0, core.JoinFailed("queue:2", "unauthorized", True))
    feed._on_event(0, core.JoinFailed("presence:2", "not_found", True))
    entry = feed.departments["2"]
    assert (entry.queue.state, entry.presence.state) == (
        SourceState.UNAUTHORIZED,
        SourceState.NOT_FOUND,
    )
    assert link(feed) is LinkState.LIVE


async def test_bad_input_is_counted_and_the_state_is_untouched() -> None:
    rest, clock = FakeRest(), Clock()
    feed = make_feed(rest, clock)
    await go_live(feed)
    book = feed.departments["1"].book
    before = feed.snapshot().departments
    feed._on_event(0, core.Message("queue:1", "mystery", {}, None))
    feed._on_event(0, core.Message("queue:1", "customer_joined", {"customer_name": "x"}, None))
    feed._on_event(0, core.Message("queue:9", "customer_joined", {"call_id": "c"}, None))
    feed._on_event(0, core.Message("presence:1", "presence_diff", {"joins": 5}, None))
    feed._on_event(0, core.Message("notification:2", "new_notification", {}, None))
    counters = feed.counters
    assert counters.unknown_events == 2
    assert counters.invalid_payloads == 3
    assert feed.snapshot().departments == before
    assert book.department.id == "1"


async def test_events_reach_the_book() -> None:
    rest, clock = FakeRest(), Clock()
    feed = make_feed(rest, clock)
    await go_live(feed)
    joined = {"call_id": "c1", "customer_name": "Ana", "queued_at": "2026-03-02T08:59:00Z"}
    feed._on_event(0, core.Message("queue:1", "customer_joined", joined, None))
    (view,) = feed.snapshot().departments
    assert [c.call_id for c in view.waiting] == ["c1"]
    feed._on_event(0, core.Message("queue:1", "call_assigned", {"call_id": "c1"}, None))
    (view,) = feed.snapshot().departments
    assert view.waiting == ()
    assert [a.user_id for a in view.agents] == ["7"]


async def test_what_the_parts_survive_reaches_the_published_counters() -> None:
    """Repeated events, late joins, bad presence fields, dropped stale frames, skipped REST
    items and the session's refreshes are counted where they happen; the help screen and the
    JSON read ``FeedSnapshot.counters`` only, so each must arrive there."""
    rest, clock = FakeRest(), Clock()
    rest.skipped_items = 2
    feed = make_feed(rest, clock)
    session = cast(SessionStandIn, feed.session)
    session.refresh_count, session.relogin_count, session.adopted_count = 3, 1, 4
    await go_live(feed)
    assert feed.snapshot().counters.duplicate_events == 0
    bad_before = feed.snapshot().counters.bad_fields
    joined = {"call_id": "c1", "customer_name": "Ana", "queued_at": "2026-03-02T08:59:00Z"}
    feed._on_event(0, core.Message("queue:1", "customer_joined", joined, None))
    feed._on_event(0, core.Message("queue:1", "customer_joined", joined, None))  # repeated
    feed._on_event(0, core.Message("queue:1", "call_assigned", {"call_id": "c1"}, None))
    feed._on_event(0, core.Message("queue:1", "customer_joined", joined, None))  # late
    bad = {"joins": {"8": {"metas": [{"phx_ref": "b", "status": 5, "name": "Bea"}]}}, "leaves": {}}
    feed._on_event(0, core.Message("presence:1", "presence_diff", bad, "2"))
    stats = feed.pool.clients()[0].core.stats
    stats.stale_dropped, stats.heartbeat_timeouts = 5, 6
    counters = feed.snapshot().counters
    assert (counters.duplicate_events, counters.late_joins) == (1, 1)
    assert counters.bad_fields == bad_before + 1  # a status that is not text
    assert (counters.stale_frames, counters.heartbeat_timeouts) == (5, 6)
    assert (counters.skipped_items, counters.token_refreshes) == (2, 3)
    assert (counters.relogins, counters.adopted_refreshes) == (1, 4)


async def test_a_failing_snapshot_is_retried_on_the_server_down_schedule_without_waiting() -> None:
    """The retry waits go through the injected sleep: the schedule is checked, not waited."""
    rest, clock = FakeRest(), Clock()
    rest.error = ServerError("Service Unavailable", status=503)
    retries: list[float] = []

    async def sleep(seconds: float) -> None:
        if seconds != feed.pool.settings.push_timeout:  # the presence_state watch
            retries.append(seconds)
            if len(retries) == 3:
                rest.error = None
        await asyncio.sleep(0)

    feed = make_feed(rest, clock, sleep)
    await go_live(feed)
    await settle()
    assert link(feed) is LinkState.LIVE
    assert rest.requests == 4 and feed.snapshot().counters.snapshot_failures == 3
    jitter = SERVER_DOWN.jitter
    for failures, delay in enumerate(retries, 1):
        base = SERVER_DOWN.base(failures)
        assert base * (1 - jitter) <= delay <= base * (1 + jitter)


async def test_a_snapshot_refused_for_auth_ends_the_session() -> None:
    """Refresh token revoked while the socket stays up: the next REST snapshot cannot
    succeed, so the feed must say the session ended rather than retry for ever."""
    rest, clock = FakeRest(), Clock()
    rest.error = AuthError("Session expired")
    feed = make_feed(rest, clock)
    feed._on_event(0, core.Connected())
    feed._on_event(0, core.ChannelJoined("queue:1", "1", {}))
    await settle()
    assert link(feed) is LinkState.AUTH_FAILED
    feed._on_event(0, core.Disconnected(1000, "", 0.0))
    assert link(feed) is LinkState.AUTH_FAILED


async def test_publisher_coalesces_changes() -> None:
    rest, clock = FakeRest(), Clock()
    feed = make_feed(rest, clock)
    feed.publish_interval = 0.05
    published: list[FeedSnapshot] = []
    feed._publish = published.append
    publisher = asyncio.create_task(feed._publisher())
    await asyncio.sleep(0.01)
    for n in range(50):
        joined = {"call_id": f"c{n}", "customer_name": "Ana"}
        feed._on_event(0, core.Message("queue:1", "customer_joined", joined, None))
    await asyncio.sleep(0.12)
    publisher.cancel()
    await asyncio.gather(publisher, return_exceptions=True)
    assert 2 <= len(published) <= 4
    assert len(published[-1].departments[0].waiting) == 50


async def test_a_new_link_state_is_published_without_the_coalescing_pause() -> None:
    """Data changes within ``publish_interval`` of the last snapshot wait for its end; a new
    link state (here connecting -> syncing) does not: "live" must not come a pause late."""
    rest, clock = FakeRest(), Clock()
    feed = make_feed(rest, clock)
    feed.publish_interval = 30.0  # a pause no test waits out
    published: list[FeedSnapshot] = []
    feed._publish = published.append
    publisher = asyncio.create_task(feed._publisher())
    try:
        await asyncio.sleep(0.01)
        assert [s.connection.state for s in published] == [LinkState.CONNECTING]
        joined = {"call_id": "c1", "customer_name": "Ana"}
        feed._on_event(0, core.Message("queue:1", "customer_joined", joined, None))
        await asyncio.sleep(0.05)
        assert len(published) == 1  # a data change waits for the pause
        feed._on_event(0, core.Connected())
        await asyncio.sleep(0.05)
        assert [s.connection.state for s in published] == [
            LinkState.CONNECTING,
            LinkState.SYNCING,
        ]
        assert len(published[-1].departments[0].waiting) == 1  # with what waited
    finally:
        publisher.cancel()
        await asyncio.gather(publisher, return_exceptions=True)


async def test_customers_who_join_in_the_same_second_stay_in_arrival_order() -> None:
    """The server's timestamps have whole seconds; two customers joining in the same second
    must keep the order the server gave them (FIFO), as ``GET /__sim/state`` shows it."""
    rest, clock = FakeRest(), Clock()
    feed = make_feed(rest, clock)
    await go_live(feed)
    for call_id in ("zz-first", "aa-second"):
        joined = {"call_id": call_id, "customer_name": "Ana", "queued_at": "2026-03-02T08:59:00Z"}
        feed._on_event(0, core.Message("queue:1", "customer_joined", joined, None))
    (view,) = feed.snapshot().departments
    assert [c.call_id for c in view.waiting] == ["zz-first", "aa-second"]


class ScriptedSession(SessionStandIn):
    """``refresh`` fails with each scripted error in turn, then succeeds."""

    not_saved: str | None = None

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.refreshes = 0
        self.token = "old"

    async def refresh(self) -> None:
        self.refreshes += 1
        if self.errors:
            raise self.errors.pop(0)
        self.token = "new"

    async def access_token(self) -> str:
        return self.token

    async def on_unauthorized(self, rejected: str) -> str:
        if rejected == self.token:  # not yet replaced by someone else's refresh
            await self.refresh()
        return self.token


async def test_a_refused_token_is_refreshed_on_later_attempts_until_it_works() -> None:
    """A refresh after a 403 at upgrade can be rate limited; every later attempt must try again
    (not reconnect forever with the refused token), and a refused refresh ends the session."""
    from voki_tui.api.errors import RateLimitedError

    rest, clock = FakeRest(), Clock()
    session = ScriptedSession(RateLimitedError("slow down", 30), RateLimitedError("slow down", 5))
    feed = LiveFeed(cast(VokiClient, rest), cast(Session, session), clock=clock.wall)
    feed.watch([Department("1", "Suporte")])
    assert "token=old" in await feed._socket_url(0)  # the attempt the server refuses
    feed._on_event(0, core.AuthFailed(403, refresh_requested=True))
    for _ in range(2):
        with pytest.raises(RateLimitedError):
            await feed._socket_url(0)
    assert "token refresh" in (feed.connection.detail or "")
    url = await feed._socket_url(0)
    assert "token=new" in url and session.refreshes == 3
    assert await feed._socket_url(0) == url  # refreshed: no further refresh
    assert session.refreshes == 3

    # Refused again with the fresh token: not a token problem, so no refresh (the core backs
    # off hard instead), and the reason is shown.
    feed._on_event(0, core.AuthFailed(403, refresh_requested=False))
    assert await feed._socket_url(0) == url and session.refreshes == 3
    assert "live connection refused (HTTP 403)" in (feed.connection.detail or "")

    session.errors = [AuthError("refused")]
    session.token = "new"
    feed._on_event(0, core.AuthFailed(403, refresh_requested=True))  # a new run of refusals
    with pytest.raises(AuthError):
        await feed._socket_url(0)
    await settle()
    assert link(feed) is LinkState.AUTH_FAILED


async def test_a_refused_token_already_replaced_by_a_rest_refresh_is_not_refreshed_again() -> None:
    """Revoked tokens: a REST 401 and the refused upgrade both want a refresh; one is enough
    (every refresh spends the 5-a-minute auth budget)."""
    rest, clock = FakeRest(), Clock()
    session = ScriptedSession()
    feed = LiveFeed(cast(VokiClient, rest), cast(Session, session), clock=clock.wall)
    feed.watch([Department("1", "Suporte")])
    await feed._socket_url(0)  # tries "old"; the server refuses it
    session.token = "rest-refreshed"  # meanwhile a REST call's refresh replaced it
    feed._on_event(0, core.AuthFailed(403, refresh_requested=True))
    assert "token=rest-refreshed" in await feed._socket_url(0)
    assert session.refreshes == 0


async def test_stale_since_is_when_the_link_was_last_heard_not_when_it_synced() -> None:
    """Seen: "⚠ stale since 14:16:05" (the start) while the link was lost at 14:16:54."""
    from voki_tui.live.state import Source

    rest, clock = FakeRest(), Clock()
    feed = make_feed(rest, clock)
    feed._on_event(0, core.Connected())
    feed.departments["1"].queue = Source(SourceState.SYNCED, clock.wall())  # synced at start
    clock.seconds += 49
    feed._on_event(0, core.Message("queue:1", "an_event_we_ignore", {}, None))  # still heard
    heard = clock.wall()
    clock.seconds += 5
    feed._on_event(0, core.Disconnected(1006, "", 1010.0))
    stale = feed.departments["1"].queue
    assert stale.state is SourceState.STALE and stale.as_of == heard


# -- many sockets ----------------------------------------------------------------------------


def wide_feed(rest: FakeRest, clock: Clock, departments: int, limit: int) -> LiveFeed:
    """``departments`` departments "1", "2", ... over sockets of ``limit`` channels."""
    feed = LiveFeed(
        cast(VokiClient, rest),
        cast(Session, SessionStandIn()),
        clock=clock.wall,
        monotonic=clock.monotonic,
        max_channels=limit,
    )
    feed.watch([Department(str(n), f"D{n}") for n in range(1, departments + 1)])
    return feed


async def sync_socket(feed: LiveFeed, socket: int) -> None:
    """Socket ``socket`` connects and every department on it joins and syncs."""
    feed._on_event(socket, core.Connected())
    for ident, entry in feed.departments.items():
        if feed.pool.socket_of(entry.topics[0]) != socket:
            continue
        feed._on_event(socket, core.ChannelJoined(f"queue:{ident}", "1", {}))
        feed._on_event(socket, core.ChannelJoined(f"presence:{ident}", "2", {}))
        metas = {"metas": [{"phx_ref": "a", "status": "available", "name": "Ana"}]}
        presence = core.Message(f"presence:{ident}", "presence_state", {"7": metas}, "2")
        feed._on_event(socket, presence)
    await settle()


def states(feed: LiveFeed, ident: str) -> tuple[SourceState, SourceState]:
    entry = feed.departments[ident]
    return entry.queue.state, entry.presence.state


async def test_departments_spread_over_sockets_and_live_only_when_all_are() -> None:
    rest, clock = FakeRest(), Clock()
    feed = wide_feed(rest, clock, departments=3, limit=4)
    on = {ident: feed.pool.socket_of(f"queue:{ident}") for ident in ("1", "2", "3")}
    assert on == {"1": 0, "2": 0, "3": 1}  # two departments fill a socket of 4 channels
    await sync_socket(feed, 0)
    assert link(feed) is LinkState.SYNCING
    assert "2 of 3 departments live" in (feed.connection.detail or "")
    assert "1 of 2 connections opening" in (feed.connection.detail or "")
    await sync_socket(feed, 1)
    assert link(feed) is LinkState.LIVE
    assert feed.snapshot().links == 2


async def test_one_socket_lost_is_reconnecting_and_only_its_departments_go_stale() -> None:
    rest, clock = FakeRest(), Clock()
    feed = wide_feed(rest, clock, departments=3, limit=4)
    await sync_socket(feed, 0)
    await sync_socket(feed, 1)
    clock.seconds = 3.0
    feed._on_event(1, core.Disconnected(1006, "", 0.0))
    feed._on_event(1, core.ReconnectScheduled(at=clock.monotonic() + 2.0, attempt=1))
    assert link(feed) is LinkState.RECONNECTING
    assert feed.connection.retry_at == clock.wall() + timedelta(seconds=2)
    assert "1 of 2 connections" in (feed.connection.detail or "")
    assert "code 1006" in (feed.connection.detail or "")
    assert states(feed, "1") == states(feed, "2") == (SourceState.SYNCED, SourceState.SYNCED)
    assert states(feed, "3") == (SourceState.STALE, SourceState.STALE)
    await sync_socket(feed, 1)
    assert link(feed) is LinkState.LIVE


async def test_a_join_refused_for_room_is_retried_and_never_shown_as_refused() -> None:
    rest, clock = FakeRest(), Clock()
    feed = wide_feed(rest, clock, departments=2, limit=100)
    feed._on_event(0, core.Connected())
    feed._on_event(0, core.ChannelJoined("queue:1", "1", {}))
    presence_state(feed)
    feed._on_event(0, core.JoinFailed("queue:2", "too many channels joined", False))
    feed._on_event(0, core.JoinFailed("presence:2", "join crashed", False))
    await settle()
    entry = feed.departments["2"]
    assert states(feed, "2") == (SourceState.JOINING, SourceState.JOINING)
    assert entry.queue.detail == "too many channels joined; retrying"
    view = next(v for v in feed.snapshot().departments if v.department.id == "2")
    assert view.metrics is None  # never read: no figures, not an empty queue
    assert not view.refused and not view.complete
    assert link(feed) is LinkState.SYNCING  # the board is not live without it


async def test_watching_fewer_departments_closes_the_sockets_left_empty() -> None:
    rest, clock = FakeRest(), Clock()
    feed = wide_feed(rest, clock, departments=5, limit=4)
    assert len(feed.pool.clients()) == 3
    feed.watch([Department("1", "D1"), Department("5", "D5")])
    assert len(feed.pool.clients()) == 1  # packed again: 4 channels fit on one socket
    assert set(feed.departments) == {"1", "5"}
    assert feed.resync.next_at() is not None
    feed.watch([])
    assert feed.pool.clients() == {} and feed.departments == {}


async def test_a_feed_that_watches_nothing_yet_is_not_live() -> None:
    """Before ``run`` has watched anything (a board asked for a snapshot while starting), the
    link is still connecting: nothing is live until the sockets say so."""
    rest, clock = FakeRest(), Clock()
    feed = LiveFeed(cast(VokiClient, rest), cast(Session, SessionStandIn()), clock=clock.wall)
    assert feed.snapshot().connection.state is LinkState.CONNECTING
    feed.watch([Department("1", "Suporte")])
    assert feed.snapshot().connection.state is LinkState.CONNECTING
