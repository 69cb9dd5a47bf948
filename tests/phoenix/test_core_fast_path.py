"""``Client.on_text`` routes the common frame without ``decode_fields``; every frame that path
does not fully vouch for must get exactly the general path's treatment."""

from __future__ import annotations

import pytest

from voki_tui.phoenix.core import Message, Output, ProtocolViolation

from .harness import Harness

TOPIC = "queue:7"


@pytest.fixture
def h(parser: str) -> Harness:
    """A joined channel; each test runs with orjson and with the stdlib parser."""
    harness = Harness()
    harness.connect()
    harness.join(TOPIC)
    return harness


def _only(outputs: list[Output]) -> Output:
    assert len(outputs) == 1, outputs
    return outputs[0]


def test_broadcast_and_current_join_ref_are_messages(h: Harness) -> None:
    join_ref = h.client.join_ref(TOPIC)
    assert join_ref is not None
    out = h.receive(f'[null,null,"{TOPIC}","customer_left",{{"call_id":"c"}}]')
    assert _only(out) == Message(TOPIC, "customer_left", {"call_id": "c"}, None)
    out = h.receive(f'["{join_ref}","9","{TOPIC}","ev",{{}}]')
    assert _only(out) == Message(TOPIC, "ev", {}, join_ref)


def test_numeric_join_ref_and_surrounding_whitespace_take_the_general_path(h: Harness) -> None:
    join_ref = h.client.join_ref(TOPIC)
    assert join_ref is not None
    out = h.receive(f'[{int(join_ref)},null,"{TOPIC}","ev",{{}}]')
    assert _only(out) == Message(TOPIC, "ev", {}, join_ref)
    out = h.receive(f' [null,null,"{TOPIC}","ev",{{}}]\n')
    assert _only(out) == Message(TOPIC, "ev", {}, None)
    h.client.on_text(h.now, f'[null,null,"{TOPIC}","ev",{{}}]'.encode())
    assert _only(h.pump()) == Message(TOPIC, "ev", {}, None)


def test_stale_join_ref_is_dropped(h: Harness) -> None:
    dropped = h.client.stats.stale_dropped
    assert h.receive(f'["999",null,"{TOPIC}","ev",{{}}]') == []
    assert h.client.stats.stale_dropped == dropped + 1


@pytest.mark.parametrize(
    "text",
    [
        f'[null,{{}},"{TOPIC}","ev",{{}}]',  # ref of a wrong type
        f'[1.5,null,"{TOPIC}","ev",{{}}]',  # join_ref of a wrong type
        f'[null,null,"{TOPIC}","ev",[]]',  # payload not an object
        f'[null,null,"{TOPIC}",7,{{}}]',  # event not a string
        '[null,null,["queue:7"],"ev",{}]',  # topic unhashable
        f'[null,null,"{TOPIC}","ev",{{"n":NaN}}]',  # non-standard constant
        f'[null,null,"{TOPIC}","ev",{{}}]x',  # trailing garbage
        f'[null,null,"{TOPIC}","ev"]',  # too short
    ],
)
def test_malformed_frames_on_a_joined_topic_are_violations(h: Harness, text: str) -> None:
    malformed = h.client.stats.malformed
    assert isinstance(_only(h.receive(text)), ProtocolViolation)
    assert h.client.stats.malformed == malformed + 1
