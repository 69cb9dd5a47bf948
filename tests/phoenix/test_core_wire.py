"""One test per row of phoenix-protocol.md §2.2 (which fields are null when) and per rule of §3."""

from __future__ import annotations

import pytest

from voki_tui.phoenix.core import (
    ChannelClosed,
    ChannelErrored,
    ChannelJoined,
    ChannelState,
    JoinFailed,
    Message,
    ProtocolViolation,
    Reply,
)

from .harness import Harness


@pytest.fixture
def h() -> Harness:
    harness = Harness()
    harness.connect()
    return harness


# --------------------------------------------------------------------------- §2.2 rows


def test_row_phx_join_join_ref_equals_its_ref(h: Harness) -> None:
    h.client.join("queue:42", {"a": 1}, now=h.now)
    h.pump()
    join_ref, ref, topic, event, payload = h.last_sent()
    assert (topic, event, payload) == ("queue:42", "phx_join", {"a": 1})
    assert isinstance(join_ref, str) and join_ref == ref


def test_row_channel_push_carries_current_join_ref_and_new_ref(h: Harness) -> None:
    join_ref = h.join("queue:42")
    ref = h.client.push("queue:42", "ping", {"x": 1}, now=h.now)
    h.pump()
    assert h.last_sent() == [join_ref, ref, "queue:42", "ping", {"x": 1}]
    assert ref != join_ref


def test_row_phx_leave_carries_current_join_ref_and_new_ref(h: Harness) -> None:
    join_ref = h.join("queue:42")
    h.client.leave("queue:42")
    h.pump()
    leave = h.last_sent()
    assert leave[0] == join_ref and leave[1] not in (None, join_ref)
    assert leave[2:] == ["queue:42", "phx_leave", {}]


def test_row_heartbeat_null_join_ref_topic_phoenix(h: Harness) -> None:
    h.advance(30.0)
    join_ref, ref, topic, event, payload = h.last_sent()
    assert (join_ref, topic, event, payload) == (None, "phoenix", "heartbeat", {})
    assert isinstance(ref, str)


def test_row_reply_to_join_push_and_leave_routed_by_ref(h: Harness) -> None:
    join_ref = h.join("queue:42")
    assert h.of_type(ChannelJoined) == [ChannelJoined("queue:42", join_ref, {})]
    ref = h.client.push("queue:42", "echo", {"n": 1}, now=h.now)
    h.pump()
    h.reply(h.last_sent(), "ok", {"n": 1})
    assert h.of_type(Reply) == [Reply("queue:42", ref, "ok", {"n": 1})]


def test_row_heartbeat_reply_null_join_ref_clears_pending(h: Harness) -> None:
    h.advance(30.0)
    beat = h.last_sent()
    h.advance(1.0)
    h.reply(beat, "ok", {})
    assert h.client.stats.last_heartbeat_rtt == pytest.approx(1.0)
    # next heartbeat 30 s after the reply, not after the send
    h.advance(29.5)
    assert h.sent_events("heartbeat") == [beat]
    h.advance(0.5)
    assert len(h.sent_events("heartbeat")) == 2


def test_row_unmatched_topic_reply_has_null_join_ref_and_fails_the_join(h: Harness) -> None:
    h.client.join("nosuch:topic", now=h.now)
    h.pump()
    ref = h.last_sent()[1]
    h.receive(
        [
            None,
            ref,
            "nosuch:topic",
            "phx_reply",
            {"status": "error", "response": {"reason": "unmatched topic"}},
        ]
    )
    assert h.of_type(JoinFailed) == [JoinFailed("nosuch:topic", "unmatched topic", True)]


def test_row_unmatched_topic_reply_to_a_push_is_a_reply(h: Harness) -> None:
    h.join("queue:42")
    ref = h.client.push("queue:42", "ping", {}, now=h.now)
    h.pump()
    h.receive(
        [
            None,
            ref,
            "queue:42",
            "phx_reply",
            {"status": "error", "response": {"reason": "unmatched topic"}},
        ]
    )
    assert h.of_type(Reply) == [Reply("queue:42", ref, "error", {"reason": "unmatched topic"})]


def test_row_server_push_with_join_ref_delivered(h: Harness) -> None:
    join_ref = h.join("presence:42")
    state = {"17": {"metas": [{"phx_ref": "F1", "status": "online"}]}}
    h.receive([join_ref, None, "presence:42", "presence_state", state])
    assert h.of_type(Message) == [Message("presence:42", "presence_state", state, join_ref)]


def test_row_broadcast_with_null_refs_delivered(h: Harness) -> None:
    h.join("presence:42")
    diff: dict[str, dict[str, object]] = {"joins": {}, "leaves": {}}
    h.receive([None, None, "presence:42", "presence_diff", diff])
    h.receive([None, None, "queue:42", "customer_joined", {}])  # not joined: unrouted
    assert h.of_type(Message) == [Message("presence:42", "presence_diff", diff, None)]
    assert h.client.stats.unrouted == 1


def test_row_same_app_event_accepted_with_or_without_join_ref(h: Harness) -> None:
    join_ref = h.join("queue:42")
    h.receive([None, None, "queue:42", "call_queued", {"id": 1}])
    h.receive([join_ref, None, "queue:42", "call_queued", {"id": 2}])
    assert [m.payload["id"] for m in h.of_type(Message)] == [1, 2]


def test_row_phx_close_with_current_join_ref_closes_without_rejoin(h: Harness) -> None:
    join_ref = h.join("queue:42")
    h.receive([join_ref, join_ref, "queue:42", "phx_close", {}])
    assert h.of_type(ChannelClosed) == [ChannelClosed("queue:42")]
    assert h.client.channel_state("queue:42") is None
    h.run_until(h.now + 120)
    assert len(h.sent_events("phx_join")) == 1


@pytest.mark.parametrize(
    ("payload", "reason"), [({"reason": "channel_crash"}, "channel_crash"), ({}, "error")]
)
def test_row_phx_error_errors_channel_and_rejoins(
    h: Harness, payload: dict[str, str], reason: str
) -> None:
    join_ref = h.join("queue:42")
    h.receive([join_ref, join_ref, "queue:42", "phx_error", payload])
    assert h.of_type(ChannelErrored) == [ChannelErrored("queue:42", reason)]
    assert h.client.channel_state("queue:42") is ChannelState.ERRORED
    h.advance(0.999)
    assert len(h.sent_events("phx_join")) == 1
    h.advance(0.001)
    rejoin = h.last_sent()
    assert rejoin[3] == "phx_join" and rejoin[0] != join_ref


def test_numeric_refs_from_the_server_match_string_refs(h: Harness) -> None:
    h.client.join("queue:42", now=h.now)
    h.pump()
    ref = int(h.last_sent()[1])
    h.receive([ref, ref, "queue:42", "phx_reply", {"status": "ok", "response": {}}])
    assert h.client.channel_state("queue:42") is ChannelState.JOINED


# --------------------------------------------------------------------------- §3


def test_join_ok_with_response_carries_snapshot(h: Harness) -> None:
    h.client.join("queue:dep1", now=h.now)
    h.pump()
    snapshot = {"customers": [{"id": "c-1"}]}
    h.reply(h.last_sent(), "ok", snapshot)
    assert h.of_type(ChannelJoined)[0].response == snapshot


@pytest.mark.parametrize(
    ("reason", "permanent"),
    [
        ("unauthorized", True),
        ("not_found", True),
        ("join crashed", False),
        ("too many channels joined", False),
    ],
)
def test_join_error_reply(h: Harness, reason: str, permanent: bool) -> None:
    h.client.join("queue:x", now=h.now)
    h.pump()
    h.reply(h.last_sent(), "error", {"reason": reason})
    assert h.of_type(JoinFailed) == [JoinFailed("queue:x", reason, permanent)]
    assert h.client.channel_state("queue:x") is ChannelState.ERRORED


def test_join_refused_is_not_followed_by_close(h: Harness) -> None:
    h.client.join("queue:forbidden", now=h.now)
    h.pump()
    h.reply(h.last_sent(), "error", {"reason": "unauthorized"})
    assert not h.of_type(ChannelClosed)


def test_leave_reply_and_close_after_leave_are_dropped(h: Harness) -> None:
    join_ref = h.join("queue:dep2")
    h.client.leave("queue:dep2")
    h.pump()
    assert h.of_type(ChannelClosed) == [ChannelClosed("queue:dep2")]
    leave = h.last_sent()
    h.reply(leave, "ok", {})
    h.receive([join_ref, join_ref, "queue:dep2", "phx_close", {}])
    assert h.of_type(ChannelClosed) == [ChannelClosed("queue:dep2")]
    assert not h.of_type(Reply) and not h.of_type(ProtocolViolation)


def test_stale_message_from_previous_join_dropped(h: Harness) -> None:
    old = h.join("queue:42")
    h.receive([old, old, "queue:42", "phx_error", {}])
    h.advance(1.0)
    h.reply(h.last_sent(), "ok", {})
    h.receive([old, None, "queue:42", "late_push", {}])
    h.receive([old, old, "queue:42", "phx_error", {}])
    assert not [m for m in h.of_type(Message) if m.event == "late_push"]
    assert h.client.channel_state("queue:42") is ChannelState.JOINED
    assert h.client.stats.stale_dropped == 2


def test_duplicate_join_old_phx_close_ignored(h: Harness) -> None:
    """Transcript 7: the new join's reply comes first, then phx_close for the OLD join_ref."""
    old = h.join("queue:dep1")
    h.receive([old, old, "queue:dep1", "phx_error", {}])
    h.advance(1.0)
    new_join = h.last_sent()
    h.reply(new_join, "ok", {})
    h.receive([old, old, "queue:dep1", "phx_close", {}])
    assert not h.of_type(ChannelClosed)
    assert h.client.join_ref("queue:dep1") == new_join[0]
    assert h.client.channel_state("queue:dep1") is ChannelState.JOINED


def test_reply_without_status_is_a_violation_and_connection_kept(h: Harness) -> None:
    h.join("queue:42")
    h.receive([None, "99", "queue:42", "phx_reply", {"response": {}}])
    h.receive("this is not json")
    h.receive('[null,"1","phoenix","heartbeat"]')
    assert len(h.of_type(ProtocolViolation)) == 3
    assert h.client.stats.malformed == 3
    assert not h.closes


def test_binary_frame_counted_as_violation(h: Harness) -> None:
    h.client.on_binary(h.now, 12)
    assert [type(e) for e in h.pump()] == [ProtocolViolation]
    assert h.client.stats.malformed == 1


def test_unknown_event_on_phoenix_topic_ignored(h: Harness) -> None:
    h.receive(
        [
            None,
            "50",
            "phoenix",
            "phx_reply",
            {"status": "error", "response": {"reason": "unmatched topic"}},
        ]
    )
    assert h.pump() == [] and not h.of_type(Message)


def test_join_of_reserved_or_duplicate_topic_is_a_programming_error(h: Harness) -> None:
    h.join("queue:1")
    with pytest.raises(ValueError, match="already"):
        h.client.join("queue:1")
    with pytest.raises(ValueError, match="reserved"):
        h.client.join("phoenix")
    with pytest.raises(ValueError, match="before join"):
        h.client.push("queue:2", "x", {})
