"""Codec vectors from phoenix-protocol.md §2.1 and the malformed inputs a server can send."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voki_tui.phoenix import frames
from voki_tui.phoenix.frames import Frame, FrameError, decode, encode, ref_key


@pytest.fixture(autouse=True)
def each_parser(parser: str) -> str:
    """Every test here runs with orjson and with the stdlib fallback (``conftest.parser``)."""
    return parser


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


#: Integers round-trip exactly within 64 bits; beyond, a number decodes to its nearest float
#: with either parser (as phoenix.js reads every number), which a test below holds.
exact_integers = st.integers(min_value=-(2**63), max_value=2**64 - 1)
json_values = st.recursive(
    st.none() | st.booleans() | exact_integers | st.text(),
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


def strict_equal(a: object, b: object) -> bool:
    """Equal with the same JSON types all the way down (``1 == 1.0 == True`` in Python)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        pairs = zip(a, b, strict=False)  # type: ignore[call-overload]
        return len(a) == len(b) and all(strict_equal(x, y) for x, y in pairs)  # type: ignore[arg-type]
    if isinstance(a, dict):
        return list(a) == list(b) and all(strict_equal(a[k], b[k]) for k in a)  # type: ignore[index]
    if isinstance(a, float):
        return repr(a) == repr(b)  # -0.0 and 0.0 differ, as do their signs in JSON
    return a == b


json_texts = st.one_of(
    st.text(max_size=60),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
        max_leaves=12,
    ).map(lambda v: json.dumps(v, ensure_ascii=False, allow_nan=True)),
    st.sampled_from(
        [
            "[1,2,3,4,{}] ",
            ' ["1","2","t","e",{}]',
            '[null,null,"t","e",{"n":123456789012345678901234567890}]',
            '[null,null,"t","e",{"s":"\\ud800"}]',
            '[null,null,"t","e",{"f":1e400,"z":-0,"m":-0.0}]',
            '[null,null,"t","e",{"a":1,"a":2}]',
            '[null,null,"t","e",{"c":"\x01"}]',
            '[null,null,"t","e",{}]\x00',
        ]
    ),
)


@given(json_texts)
def test_the_fast_parser_agrees_with_the_stdlib_decoder_where_it_parses(text: str) -> None:
    """orjson on the hot path may refuse more than the stdlib (the caller then asks the stdlib),
    never accept something the stdlib refuses, and never parse it differently."""
    try:
        fast = frames.fast_loads(text)
    except Exception:
        return
    assert strict_equal(fast, frames._DECODER.decode(text))


def test_what_orjson_refuses_and_the_stdlib_takes_still_decodes() -> None:
    assert decode('[null,null,"t","e",{"s":"\\ud800"}]').payload == {"s": "\ud800"}
    assert decode('[null,null,"t","e",{"f":1e400}]').payload == {"f": float("inf")}


def test_integers_are_exact_within_64_bits_and_floats_beyond_with_either_parser() -> None:
    text = '[null,null,"t","e",{"u":18446744073709551615,"i":-9223372036854775808}]'
    assert decode(text).payload == {"u": 2**64 - 1, "i": -(2**63)}
    big = decode('[null,null,"t","e",{"n":18446744073709551616}]').payload["n"]
    assert type(big) is float and big == 2.0**64
