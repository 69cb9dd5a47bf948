"""The recording's codec: every step and the whole state come back equal through JSON, and
nothing but the listed types can come back at all."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from enum import IntEnum
from pathlib import Path
from typing import Any

import pytest

from voki_tui.api.models import Call
from voki_tui.live import steps
from voki_tui.live.codec import CodecError, decode, encode, micros
from voki_tui.live.document import snapshot_document
from voki_tui.live.machine import FeedMachine
from voki_tui.live.recording import Player, open_recording
from voki_tui.live.state import UserInfo
from voki_tui.phoenix import core
from voki_tui.testing.recorded import DEPARTMENTS, record_session

T = datetime(2026, 3, 2, 9, 0, 0, 123456, tzinfo=UTC)


def through_json(value: Any) -> Any:
    return decode(json.loads(json.dumps(encode(value))))


class CloseCode(IntEnum):  # as websockets gives the close code of a lost connection
    ABNORMAL_CLOSURE = 1006


CALLS = tuple(
    Call.model_validate(item)
    for item in (
        {"id": "c1", "customer": {"name": "Zé", "email": "z@x.test"}, "inserted_at": T.isoformat()},
        {"call_id": "c2", "customer_name": "Ana", "queued_at": 1772442000, "position": "3"},
        {"id": "c3", "status": "completed", "wait_time": 12, "rating": 4.5, "department_id": 7},
    )
)
STEPS: list[steps.Step] = [
    steps.Start(UserInfo("u1", "Marina", "m@x.test", "supervisor", "pt-BR")),
    steps.Start(None),
    steps.Watch(DEPARTMENTS),
    steps.Layout((0, 1), (("d-support", 0), ("d-sales", 1))),
    steps.SocketEvent(0, core.Connected()),
    steps.SocketEvent(2, core.Disconnected(1006, "gone", None)),
    steps.SocketEvent(0, core.ReconnectScheduled(at=5012.25, attempt=3)),
    steps.SocketEvent(0, core.AuthFailed(403, refresh_requested=True)),
    steps.SocketEvent(0, core.ChannelJoined("queue:1", "7", {"queue": [{"call_id": "x"}]})),
    steps.SocketEvent(0, core.JoinFailed("queue:1", "too many channels joined", False)),
    steps.SocketEvent(0, core.ChannelErrored("queue:1", "crash")),
    steps.SocketEvent(0, core.ChannelClosed("presence:1")),
    steps.SocketEvent(0, core.Reply("queue:1", "9", "ok", None)),
    steps.SocketEvent(0, core.PushTimeout("queue:1", "9")),
    steps.SocketEvent(0, core.ProtocolViolation("not JSON")),
    # A payload as hostile as the wire allows: a "$" key, nesting, numbers of every kind.
    steps.SocketEvent(
        1,
        core.Message(
            "queue:1",
            "customer_joined",
            {"$": "FeedMachine", "k": [1, 2.5, None, {"$": "t", "v": []}], "n": 2**70},
            None,
        ),
    ),
    steps.Tick(((0, 41), (1, 7)), (("frames_received", 48),), -3.25, ("cannot save",)),
    steps.SnapshotBegun("d-support"),
    steps.SnapshotAborted("d-support"),
    steps.SnapshotFailed("d-support", "server error (503)"),
    steps.SnapshotFailed("d-support", None),
    steps.SnapshotTaken("d-support", "join", CALLS),
    steps.HistoryTaken("d-support", CALLS),
    steps.HistoryFailed("d-support", "timeout", 31.5),
    steps.HistoryRefused("d-support", True, "forbidden"),
    steps.SessionLost("refresh token revoked"),
    steps.PresenceOverdue("presence:1", "4", 2.5),
    steps.CloseRetry("queue:1", 1.2),
    steps.Rejoin("queue:1", "closed by the server"),
    steps.ResyncPresence("d-support"),
    steps.LinkDetail(0, "token refresh: rate limited"),
    steps.InternalError("task history-d-support"),
]


def test_every_kind_of_step_is_covered() -> None:
    assert {type(step) for step in STEPS} == set(steps.STEP_TYPES)


@pytest.mark.parametrize("step", STEPS, ids=lambda step: type(step).__name__)
def test_a_step_comes_back_equal(step: steps.Step) -> None:
    assert through_json(step) == step


def test_another_librarys_int_flavour_is_written_as_its_value() -> None:
    step = steps.SocketEvent(0, core.Disconnected(CloseCode.ABNORMAL_CLOSURE, "", None))
    back = through_json(step)
    assert back == step and type(back.event.code) is int
    assert f"{back.event.code}" == "1006"


def test_times_are_exact_to_the_microsecond() -> None:
    assert through_json(T) == T
    assert micros(T) % 1_000_000 == 123456
    assert through_json(timedelta(seconds=1.000001)) == timedelta(seconds=1.000001)


def test_the_whole_state_comes_back_and_goes_on_the_same(tmp_path: Path) -> None:
    """The state in the middle of a session, through JSON, then the rest of the session
    applied to both: the same board at every step."""
    directory = tmp_path / "rec"
    asyncio.run(record_session(directory, seconds=60))
    recording = open_recording(directory)
    player = Player(recording)
    middle = recording.start + timedelta(seconds=30)
    player.seek(middle)
    copy = through_json(player.machine)
    assert isinstance(copy, FeedMachine)
    original = player.machine
    assert snapshot_document(copy.snapshot(middle)) == snapshot_document(original.snapshot(middle))
    later = [e for e in recording.load(0).entries if e.t > micros(middle)]
    assert len(later) > 50
    for entry in later:
        now = datetime.fromtimestamp(0, UTC) + timedelta(microseconds=entry.t)
        copy.apply(entry.step, now, entry.m)
        original.apply(entry.step, now, entry.m)
        assert snapshot_document(copy.snapshot(now)) == snapshot_document(original.snapshot(now))


@pytest.mark.parametrize(
    "data",
    [
        {"$": "posix.system", "command": "touch /tmp/owned"},
        {"$": "Popen"},
        {"$": "e", "c": "Counters", "v": 1},  # not an enum
        {"$": "FeedMachine", "apply": 1},  # a method replaced by data
        {"$": "FeedMachine", "__class__": "x"},
        {"$": "dt", "v": 1.5},
        {"$": "s", "v": [[1, 2]]},  # a list cannot be in a set
        {"$": "Source", "state": "synced", "nonsense": 1},
        {"$": "Call", "v": {"customer_name": "no id"}},
    ],
)
def test_anything_else_is_refused(data: dict[str, Any]) -> None:
    with pytest.raises(CodecError):
        decode(data)


def test_a_value_of_an_unlisted_type_cannot_be_written() -> None:
    with pytest.raises(CodecError, match="cannot write"):
        encode(object())
    with pytest.raises(CodecError, match="time zone"):
        encode(datetime(2026, 3, 2))
