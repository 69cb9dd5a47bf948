"""The channel state machine of phoenix-protocol.md §4.3, the socket of §4.2 and our §6.1 changes.

Every test drives the core with a fake clock; no sockets, no sleeping.
"""

from __future__ import annotations

import random

import pytest

from voki_tui.phoenix.core import (
    RECONNECT,
    AuthFailed,
    ChannelErrored,
    ChannelJoined,
    ChannelState,
    Client,
    CloseConnection,
    Connected,
    Disconnected,
    JoinFailed,
    LinkState,
    OpenConnection,
    PushTimeout,
    ReconnectScheduled,
    Reply,
    Settings,
)

from .harness import Harness, exact


@pytest.fixture
def h() -> Harness:
    harness = Harness()
    harness.connect()
    return harness


def joins(h: Harness, topic: str) -> list[list[object]]:
    return [f for f in h.sent_events("phx_join") if f[2] == topic]


# --------------------------------------------------------------------------- §4.3 rows


def test_row_join_allowed_once_per_topic(h: Harness) -> None:
    h.client.join("queue:1")
    with pytest.raises(ValueError):
        h.client.join("queue:1")


def test_row_rejoin_makes_new_join_ref_and_reevaluates_params(h: Harness) -> None:
    calls = iter(range(100))
    h.client.join("queue:1", lambda: {"n": next(calls)}, now=h.now)
    h.pump()
    first = h.last_sent()
    h.reply(first, "error", {"reason": "join crashed"})
    h.advance(1.0)
    second = h.last_sent()
    assert first[4] == {"n": 0} and second[4] == {"n": 1}
    assert second[0] == second[1] != first[0]


def test_row_join_reply_ok_flushes_buffered_pushes_in_order(h: Harness) -> None:
    h.client.join("queue:1", now=h.now)
    h.pump()
    join = h.last_sent()
    refs = [h.client.push("queue:1", f"e{i}", {}, now=h.now) for i in range(3)]
    h.pump()
    assert h.last_sent() == join  # buffered while joining
    h.reply(join, "ok", {})
    assert [f[1] for f in h.sent[-3:]] == refs
    assert all(f[0] == join[0] for f in h.sent[-3:])


def test_row_join_error_retries_on_rejoin_table_forever(h: Harness) -> None:
    h.client.join("queue:1", now=h.now)
    h.pump()
    delays = []
    for _ in range(6):
        h.reply(h.last_sent(), "error", {"reason": "join crashed"})
        start = h.now
        before = len(joins(h, "queue:1"))
        while len(joins(h, "queue:1")) == before:
            h.advance(0.25)
        delays.append(round(h.now - start, 2))
    assert delays == [1.0, 2.0, 5.0, 10.0, 10.0, 10.0]


def test_row_join_timeout_sends_leave_with_timed_out_join_ref_then_rejoins(h: Harness) -> None:
    h.client.join("queue:1", now=h.now)
    h.pump()
    join = h.last_sent()
    h.advance(9.9)
    assert h.last_sent() == join
    h.advance(0.1)
    leave = h.last_sent()
    assert leave[0] == join[0] and leave[2:4] == ["queue:1", "phx_leave"]
    assert h.of_type(JoinFailed) == [JoinFailed("queue:1", "timeout", False)]
    h.advance(1.0)
    rejoin = h.last_sent()
    assert rejoin[3] == "phx_join" and rejoin[0] != join[0]
    # the late reply to the timed-out join is stale and ignored
    h.reply(join, "ok", {})
    assert h.client.channel_state("queue:1") is ChannelState.JOINING


def test_row_phx_error_while_joining_resets_join_and_rejoins(h: Harness) -> None:
    h.client.join("queue:1", now=h.now)
    h.pump()
    join = h.last_sent()
    h.receive([join[0], join[0], "queue:1", "phx_error", {}])
    assert h.client.channel_state("queue:1") is ChannelState.ERRORED
    h.advance(10.0)  # the join timeout no longer fires: exactly one rejoin after 1 s
    assert not h.of_type(JoinFailed)
    assert len(joins(h, "queue:1")) == 2


def test_row_phx_error_during_backoff_does_not_reset_backoff(h: Harness) -> None:
    join_ref = h.join("queue:1")
    h.receive([join_ref, join_ref, "queue:1", "phx_error", {}])
    h.advance(0.5)
    h.receive([None, None, "queue:1", "phx_error", {}])
    assert len(h.of_type(ChannelErrored)) == 1
    h.advance(0.5)
    assert len(joins(h, "queue:1")) == 2


def test_row_phx_close_removes_channel_no_rejoin(h: Harness) -> None:
    join_ref = h.join("queue:1")
    h.client.push("queue:1", "ping", {}, now=h.now)
    h.receive([join_ref, join_ref, "queue:1", "phx_close", {}])
    h.advance(25.0)
    assert len(joins(h, "queue:1")) == 1
    # the channel is forgotten, so the topic can be joined afresh
    h.join("queue:1")
    assert len(joins(h, "queue:1")) == 2


def test_row_leave_closes_at_once_and_cancels_timers(h: Harness) -> None:
    h.client.join("queue:1", now=h.now)
    h.pump()
    h.client.leave("queue:1")
    h.pump()
    assert h.client.channel_state("queue:1") is None
    h.run_until(h.now + 60)
    assert len(joins(h, "queue:1")) == 1
    assert not h.of_type(JoinFailed)


def test_row_socket_open_rejoins_errored_channels_immediately(h: Harness) -> None:
    h.join("queue:1")
    h.join("queue:2")
    h.client.on_close(h.now, 1006, "")
    h.pump()
    assert h.client.channel_state("queue:1") is ChannelState.ERRORED
    h.advance(0.01)
    assert h.events[-1] == OpenConnection()
    h.client.on_open(h.now)
    h.pump()
    assert [f[2] for f in h.sent[-2:]] == ["queue:1", "queue:2"]
    assert all(f[3] == "phx_join" for f in h.sent[-2:])


def test_row_transport_error_errors_live_channels_once(h: Harness) -> None:
    h.join("queue:1")
    h.client.join("queue:2", now=h.now)  # joining
    h.pump()
    h.client.on_close(h.now, 1011, "")
    h.pump()
    errored = h.of_type(ChannelErrored)
    assert sorted(e.topic for e in errored) == ["queue:1", "queue:2"]
    assert {e.reason for e in errored} == {"connection_closed"}


# --------------------------------------------------------------------------- socket §4.2 / §6.1


def test_joins_not_sent_before_connection_and_sent_once_on_open() -> None:
    h = Harness()
    h.client.join("queue:1")
    h.client.connect()
    h.pump()
    assert h.sent == []
    h.client.on_open(h.now)
    h.pump()
    assert len(joins(h, "queue:1")) == 1


@pytest.mark.parametrize("code", [1000, 1001, 1006, 1011, 1012])
def test_reconnect_after_any_close_we_did_not_ask_for(h: Harness, code: int) -> None:
    h.client.on_close(h.now, code, "bye")
    out = h.pump()
    assert out[0] == Disconnected(code, "bye", h.now + 0.01)
    assert out[1] == ReconnectScheduled(h.now + 0.01, 1)
    h.advance(0.01)
    assert h.events[-1] == OpenConnection() and h.opens == 2


def test_reconnect_table_then_5s_and_reset_on_open() -> None:
    h = Harness()
    h.client.connect()
    h.pump()
    delays = []
    for _ in range(12):
        h.client.on_connect_failed(h.now, None)
        scheduled = h.pump()[-1]
        assert isinstance(scheduled, ReconnectScheduled)
        delays.append(round(scheduled.at - h.now, 3))
        h.now = scheduled.at
        h.client.tick(h.now)
        assert h.pump() == [OpenConnection()]
    assert delays == [*RECONNECT.steps, 5.0, 5.0, 5.0]
    h.client.on_open(h.now)
    h.client.on_close(h.now, 1006, "")
    assert h.pump()[-1] == ReconnectScheduled(h.now + 0.01, 1)


@pytest.mark.parametrize("seed", range(20))
def test_backoff_jitter_within_20_percent(seed: int) -> None:
    quiet = Settings(heartbeat_interval=1e6, heartbeat_timeout=1e6)  # only backoff timers
    client = Client(quiet, random.Random(seed))
    client.connect()
    now = 0.0
    for attempt in range(1, 12):
        client.on_connect_failed(now, None)
        (scheduled,) = [o for o in client.drain() if isinstance(o, ReconnectScheduled)]
        base = RECONNECT.base(attempt)
        assert base * 0.8 <= scheduled.at - now <= base * 1.2
        now = scheduled.at
        client.tick(now)
    client.on_open(now)
    client.join("q:1", now=now)
    for tries in range(1, 7):
        (join,) = [o for o in client.drain() if hasattr(o, "text")]
        ref = join.text.split('"')[1]
        client.on_text(
            now, f'["{ref}","{ref}","q:1","phx_reply",{{"status":"error","response":{{}}}}]'
        )
        client.drain()
        base = (1.0, 2.0, 5.0)[tries - 1] if tries <= 3 else 10.0
        deadline = client.next_deadline()
        assert deadline is not None
        # the heartbeat is due at now + 30 at most; the rejoin is earlier
        assert base * 0.8 <= deadline - now <= base * 1.2
        now = deadline
        client.tick(now)


def test_jitter_actually_varies_delays() -> None:
    seen = set()
    for seed in range(10):
        client = Client(Settings(), random.Random(seed))
        client.connect()
        client.on_connect_failed(0.0, None)
        seen.add(client.next_deadline())
    assert len(seen) > 5


def test_pending_heartbeat_and_pushes_cleared_on_reconnect(h: Harness) -> None:
    h.join("queue:1")
    ref = h.client.push("queue:1", "ping", {}, now=h.now)
    h.advance(30.0)  # heartbeat now pending
    h.client.on_close(h.now, 1006, "")
    h.pump()
    assert h.of_type(PushTimeout) == [PushTimeout("queue:1", ref)]
    h.advance(0.01)
    h.client.on_open(h.now)
    h.pump()
    # a fresh connection: no heartbeat timeout carried over, next beat 30 s after open
    h.advance(29.9)
    assert len(h.sent_events("heartbeat")) == 1
    h.advance(0.1)
    assert len(h.sent_events("heartbeat")) == 2
    assert not h.closes


def test_heartbeat_timeout_closes_1000_and_reconnects() -> None:
    h = Harness(exact(heartbeat_interval=2.0, heartbeat_timeout=3.0))
    h.connect()
    h.join("queue:1")
    h.advance(2.0)
    assert h.last_sent()[3] == "heartbeat"
    h.advance(2.9)
    assert not h.closes
    out = h.advance(0.1)
    assert out[0] == CloseConnection(1000, "heartbeat timeout")
    assert ChannelErrored("queue:1", "heartbeat_timeout") in out
    assert Disconnected(1000, "heartbeat timeout", h.now + 0.01) in out
    assert h.client.stats.heartbeat_timeouts == 1
    # the transport does not report the close of a socket we closed: on_close is ignored
    h.client.on_close(h.now, 1000, "heartbeat timeout")
    assert h.pump() == []
    h.advance(0.01)
    assert h.events[-1] == OpenConnection()


def test_default_dead_link_detected_within_60s_of_last_traffic(h: Harness) -> None:
    out = h.run_until(h.now + 60.0)
    assert CloseConnection(1000, "heartbeat timeout") in out


def test_heartbeat_not_delayed_by_incoming_traffic(h: Harness) -> None:
    join_ref = h.join("queue:1")
    for _ in range(30):
        h.advance(1.0)
        h.receive([join_ref, None, "queue:1", "tick", {}])
    assert len(h.sent_events("heartbeat")) == 1


def test_clock_jump_probes_liveness_at_once(h: Harness) -> None:
    h.advance(10.0)
    assert h.sent_events("heartbeat") == []
    h.jump(3600.0)  # laptop suspended for an hour
    beats = h.sent_events("heartbeat")
    assert len(beats) == 1
    # the probe must be answered quickly, not within the full 30 s
    out = h.advance(10.0)
    assert CloseConnection(1000, "heartbeat timeout") in out


def test_clock_jump_with_pending_heartbeat_sends_fresh_probe(h: Harness) -> None:
    h.advance(30.0)
    first = h.last_sent()
    h.jump(3600.0)
    probe = h.last_sent()
    assert probe[3] == "heartbeat" and probe[1] != first[1]
    assert not h.closes
    h.reply(first, "ok", {})  # the old beat's reply does not count
    h.reply(probe, "ok", {})
    h.advance(10.0)
    assert not h.closes


def test_disconnect_closes_without_reconnect_and_connect_rejoins(h: Harness) -> None:
    h.join("queue:1")
    h.client.disconnect()
    out = h.pump()
    assert out[0] == CloseConnection(1000, "client disconnect")
    assert Disconnected(1000, "client disconnect", None) in out
    assert h.client.next_deadline() is None
    h.run_until(h.now + 120)
    assert h.opens == 1  # the first connection only
    h.client.connect()
    h.client.on_open(h.now)
    h.pump()
    assert len(joins(h, "queue:1")) == 2


def test_push_timeout_for_sent_push(h: Harness) -> None:
    h.join("queue:1")
    ref = h.client.push("queue:1", "noreply", {}, timeout=2.0, now=h.now)
    h.advance(1.9)
    assert not h.of_type(PushTimeout)
    h.advance(0.1)
    assert h.of_type(PushTimeout) == [PushTimeout("queue:1", ref)]
    h.reply([h.client.join_ref("queue:1"), ref, "queue:1"], "ok", {})
    assert not h.of_type(Reply)


def test_buffered_push_that_times_out_is_never_sent(h: Harness) -> None:
    h.client.join("queue:1", now=h.now)
    h.pump()
    join = h.last_sent()
    ref = h.client.push("queue:1", "ping", {}, timeout=1.0, now=h.now)
    h.advance(1.0)
    assert h.of_type(PushTimeout) == [PushTimeout("queue:1", ref)]
    h.reply(join, "ok", {})
    assert not h.sent_events("ping")


def test_permanent_join_error_retried_slowly_and_on_new_connection() -> None:
    h = Harness(exact(permanent_rejoin_interval=60.0))
    h.connect()
    h.client.join("nosuch:1", now=h.now)
    h.pump()
    h.reply(h.last_sent(), "error", {"reason": "unmatched topic"})
    h.advance(59.0)
    assert len(joins(h, "nosuch:1")) == 1
    h.run_until(h.now + 1.0)
    assert len(joins(h, "nosuch:1")) == 2
    h.reply(h.last_sent(), "error", {"reason": "unmatched topic"})
    h.client.on_close(h.now, 1006, "")
    h.advance(0.01)
    h.client.on_open(h.now)
    h.pump()
    assert len(joins(h, "nosuch:1")) == 3


def test_permanent_join_error_never_retried_when_disabled() -> None:
    h = Harness(exact(permanent_rejoin_interval=None))
    h.connect()
    h.client.join("queue:x", now=h.now)
    h.pump()
    h.reply(h.last_sent(), "error", {"reason": "unauthorized"})
    h.run_until(h.now + 600)
    assert len(joins(h, "queue:x")) == 1


# --------------------------------------------------------------------------- auth failure


def test_auth_failure_refresh_once_then_backoff() -> None:
    h = Harness()
    h.client.connect()
    h.pump()
    h.client.on_connect_failed(h.now, 403)
    out = h.pump()
    assert out[0] == AuthFailed(403, refresh_requested=True)
    assert h.client.link_state is LinkState.AUTH_WAIT
    h.client.auth_refreshed()
    assert h.pump() == [OpenConnection()]
    h.client.on_connect_failed(h.now, 401)
    out = h.pump()
    assert out[0] == AuthFailed(401, refresh_requested=False)
    # Refused again with a fresh token: not a token problem; back off hard (REFUSED).
    assert out[1] == ReconnectScheduled(h.now + 10.0, 2)
    h.client.auth_refreshed()  # not asked for: no immediate retry loop
    assert h.pump() == []
    h.advance(10.0)
    assert h.events[-1] == OpenConnection()
    h.client.on_open(h.now)
    h.client.on_close(h.now, 1006, "")
    h.advance(0.01)
    h.client.on_connect_failed(h.now, 403)
    assert h.pump()[0] == AuthFailed(403, refresh_requested=True)  # a fresh run of failures


def test_upgrades_refused_with_fresh_tokens_are_retried_rarely() -> None:
    """A proxy that blocks websockets while REST works answers 403 to every upgrade: after
    the one refresh, attempts space out to minutes instead of costing a refresh every 5 s."""
    h = Harness()
    h.client.connect()
    h.pump()
    h.client.on_connect_failed(h.now, 403)
    h.pump()
    h.client.auth_refreshed()
    h.pump()
    gaps = []
    for _ in range(6):
        h.client.on_connect_failed(h.now, 403)
        (scheduled,) = [o for o in h.pump() if isinstance(o, ReconnectScheduled)]
        gaps.append(scheduled.at - h.now)
        h.advance(scheduled.at - h.now)
    assert gaps == [10.0, 30.0, 60.0, 120.0, 300.0, 300.0]


def test_auth_wait_falls_back_to_a_slow_retry() -> None:
    h = Harness()
    h.client.connect()
    h.pump()
    h.client.on_connect_failed(h.now, 401)
    h.pump()
    h.advance(9.9)
    assert h.opens == 1
    h.advance(0.1)
    assert h.opens == 2


def test_other_failure_breaks_the_run_of_auth_failures() -> None:
    h = Harness()
    h.client.connect()
    h.client.on_connect_failed(h.now, 403)
    h.client.auth_refreshed()
    h.client.on_connect_failed(h.now, None)
    h.advance(1.0)
    h.client.on_connect_failed(h.now, 403)
    assert h.of_type(AuthFailed)[-1] == AuthFailed(403, refresh_requested=True)


def test_connected_event_and_channel_joined_order() -> None:
    h = Harness()
    h.client.join("queue:1")
    h.connect()
    h.reply(h.last_sent(), "ok", {})
    kinds = [type(e) for e in h.events]
    assert kinds == [OpenConnection, Connected, ChannelJoined]


def test_rejoin_leaves_the_old_join_and_drops_what_is_addressed_to_it() -> None:
    """A resync (fresh presence_state) on an open socket: phx_leave for the old join_ref, a new
    phx_join; the old join's leave reply, phx_close and late events are stale, not news."""
    h = Harness()
    h.connect()
    old = h.join("presence:d1")
    h.client.rejoin("presence:d1", now=h.now)
    h.pump()
    leave, join = h.sent[-2], h.sent[-1]
    assert (leave[0], leave[3]) == (old, "phx_leave")
    assert join[3] == "phx_join" and join[0] != old
    stale = h.client.stats.stale_dropped
    assert h.reply(leave, "ok", {}) == []
    assert h.receive([old, None, "presence:d1", "phx_close", {}]) == []
    assert h.receive([old, None, "presence:d1", "presence_diff", {}]) == []
    assert h.client.stats.stale_dropped == stale + 3
    out = h.reply(join, "ok", {})
    assert out == [ChannelJoined("presence:d1", str(join[0]), {})]
    assert h.client.join_ref("presence:d1") == str(join[0])


def test_rejoin_without_a_socket_waits_for_the_next_open() -> None:
    h = Harness()
    h.client.join("queue:d1", now=h.now)
    h.client.rejoin("queue:d1", now=h.now)
    assert h.pump() == [] and h.sent == []
    with pytest.raises(ValueError, match="not joined"):
        h.client.rejoin("queue:nope")
