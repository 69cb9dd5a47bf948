"""Codec vectors from phoenix-protocol.md §2.1 and the malformed inputs a server can send."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voki_tui.phoenix.frames import Frame, FrameError, decode, encode, ref_key


def test_serializer_vector_encodes_compact_array() -> None:
    frame = Frame("0", "1", "t", "e", {"foo": 1})
    assert encode(frame) == '["0","1","t","e",{"foo":1}]'


def test_serializer_vector_decodes() -> None:
    assert decode('["0","1","t","e",{"foo":1}]') == Frame("0", "1", "t", "e", {"foo": 1})


def test_heartbeat_matches_js_output() -> None:
    assert encode(Frame(None, "1", "phoenix", "heartbeat", {})) == (
        '[null,"1","phoenix","heartbeat",{}]'
    )


def test_extra_trailing_elements_ignored_like_the_server() -> None:
    assert decode('[null,null,"t","e",{},"extra",7]') == Frame(None, None, "t", "e", {})


def test_numeric_refs_kept_and_compared_as_strings() -> None:
    frame = decode('[5,7,"t","phx_reply",{}]')
    assert frame.join_ref == 5 and frame.ref == 7
    assert ref_key(frame.ref) == "7" and ref_key(None) is None


def test_bytes_input_decoded_as_utf8() -> None:
    assert decode('[null,null,"t","é",{}]'.encode()).event == "é"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("this is not json", "not JSON"),
        ('{"topic":"t"}', "array"),
        ('[null,"1","phoenix","heartbeat"]', "5 elements"),
        ("[]", "5 elements"),
        ('[null,null,1,"e",{}]', "topic"),
        ('[null,null,"t",null,{}]', "event"),
        ('[null,null,"t","e",[]]', "payload"),
        ('[null,null,"t","e",null]', "payload"),
        ('[true,null,"t","e",{}]', "join_ref"),
        ('[null,1.5,"t","e",{}]', "ref"),
        ('[null,{},"t","e",{}]', "ref"),
        ('[null,null,"t","e",{"x":NaN}]', "NaN"),
        ("[" * 100_000 + "]" * 100_000, "nested"),
        ('[null,null,"t","e",{"n":' + "9" * 5000 + "}]", "not JSON"),
    ],
)
def test_malformed_frames_rejected_with_short_reason(text: str, reason: str) -> None:
    with pytest.raises(FrameError, match=reason) as info:
        decode(text)
    assert len(str(info.value)) < 200


def test_invalid_utf8_rejected() -> None:
    with pytest.raises(FrameError, match="UTF-8"):
        decode(b'[null,null,"t","\xff",{}]')


def test_huge_frame_rejected_before_parsing() -> None:
    text = '[null,null,"t","e",{"x":"' + "a" * 2000 + '"}]'
    with pytest.raises(FrameError, match="exceeds"):
        decode(text, max_chars=1000)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=10,
)
refs = st.none() | st.text(max_size=5) | st.integers(min_value=-(2**53), max_value=2**53)


@given(refs, refs, st.text(), st.text(), st.dictionaries(st.text(), json_values, max_size=4))
def test_round_trip(
    join_ref: str | int | None,
    ref: str | int | None,
    topic: str,
    event: str,
    payload: dict[str, object],
) -> None:
    frame = Frame(join_ref, ref, topic, event, payload)
    text = encode(frame)
    assert decode(text) == frame
    assert json.loads(text) == [join_ref, ref, topic, event, payload]


@given(st.text(max_size=50))
def test_arbitrary_text_either_decodes_or_raises_frame_error(text: str) -> None:
    with contextlib.suppress(FrameError):
        decode(text)
