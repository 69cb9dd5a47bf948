"""The Phoenix V2 JSON frame codec: ``[join_ref, ref, topic, event, payload]``.

Kept apart from the state machine so that every malformed input the server (or a hostile
proxy) can produce is rejected here, with one exception type and a short reason, and the core
only ever sees well-typed frames. Refs keep their JSON type (the server echoes a numeric ref
as a number), and :func:`ref_key` gives the string form used for every comparison.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

try:
    import orjson
except ImportError:  # pragma: no cover - the stdlib fallback below is tested on its own
    orjson = None  # type: ignore[assignment]

#: Refs are strings on the wire, but a server echoes whatever JSON type it was sent.
Ref = str | int | None

#: Larger frames are refused before parsing; matches the transport's ``max_size``.
MAX_FRAME_CHARS = 16 * 1024 * 1024

_REASON_LIMIT = 80


class FrameError(ValueError):
    """A text frame that is not a valid V2 frame. The message never quotes the input at length."""


@dataclass(frozen=True, slots=True)
class Frame:
    """One V2 message. ``payload`` is a dict for server frames; any JSON value client-side."""

    join_ref: Ref
    ref: Ref
    topic: str
    event: str
    payload: Any


def ref_key(ref: Ref) -> str | None:
    """The comparable form of a ref: ``7`` and ``"7"`` name the same request."""
    return None if ref is None else str(ref)


def _reject_constant(name: str) -> Any:
    raise FrameError(f"non-standard JSON constant {name}")


def _parse_int(digits: str) -> int | float:
    """A JSON integer as orjson reads it: exact within 64 bits (signed or unsigned), the
    nearest float beyond (as phoenix.js's ``JSON.parse`` reads every number), so a frame
    decodes the same with either parser."""
    value = int(digits)
    return value if -(2**63) <= value < 2**64 else float(value)


#: One decoder for every frame: ``json.loads`` with an option builds a new one per call.
_DECODER = json.JSONDecoder(parse_constant=_reject_constant, parse_int=_parse_int)


#: The decoder's C scanner: ``scan(text, 0)`` parses one value and returns ``(value, end)``,
#: without ``JSONDecoder.decode``'s two Python-level whitespace regex matches; it rejects the
#: same constants. A caller's fast path on it must check ``end == len(text)`` and the field
#: types itself, and hand anything else to :func:`decode_fields` for the exact reason.
scan: Callable[[str, int], tuple[Any, int]] = _DECODER.scan_once  # type: ignore[attr-defined]


def _scan_whole(text: str) -> Any:
    """The stdlib's fast parse of a whole text: the C scanner, nothing around the value."""
    data, end = scan(text, 0)
    if end != len(text):
        raise ValueError("more than one JSON value")
    return data


#: The hot path's parser: ``orjson.loads`` where orjson is installed (about 3.5x the stdlib
#: scanner on voki-sim's frames, which made JSON decoding most of the core's time), else
#: :func:`_scan_whole`. It may raise anything on input it does not take; callers then parse
#: again with the stdlib decoder (:func:`decode_fields`), which gives the exact reason, and
#: also takes what orjson refuses and the stdlib accepts (a float beyond the double range,
#: lone surrogate escapes). Where both parse, they agree (``tests/phoenix/test_frames.py``).
fast_loads: Callable[[str], Any] = orjson.loads if orjson is not None else _scan_whole

#: The five fields of a frame, as :func:`decode_fields` returns them.
Fields = tuple[Ref, Ref, str, str, dict[str, Any]]


def _check_ref(value: object, field: str) -> Ref:
    # bool is an int subclass in Python but not a ref in JSON.
    if (
        value is None
        or isinstance(value, str)
        or (isinstance(value, int) and not isinstance(value, bool))
    ):
        return value
    raise FrameError(f"{field} must be a string, integer or null, not {type(value).__name__}")


def _parse(text: str) -> Any:
    """The slow, exact path: whitespace around the value, and every error's reason."""
    try:
        return _DECODER.decode(text)
    except FrameError:
        raise
    except json.JSONDecodeError as exc:
        raise FrameError(f"not JSON: {exc.msg[:_REASON_LIMIT]} at {exc.pos}") from None
    except RecursionError:
        raise FrameError("JSON nested too deeply") from None
    except ValueError as exc:  # e.g. an integer with too many digits
        raise FrameError(f"not JSON: {str(exc)[:_REASON_LIMIT]}") from None


def _fields(data: Any) -> Fields:
    """Validate the parsed array; the message names the first field that is wrong."""
    if not isinstance(data, list):
        raise FrameError(f"expected a JSON array, got {type(data).__name__}")
    if len(data) < 5:
        raise FrameError(f"expected 5 elements, got {len(data)}")
    join_ref, ref, topic, event, payload = data[:5]
    if not isinstance(topic, str):
        raise FrameError(f"topic must be a string, not {type(topic).__name__}")
    if not isinstance(event, str):
        raise FrameError(f"event must be a string, not {type(event).__name__}")
    if not isinstance(payload, dict):
        raise FrameError(f"payload must be an object, not {type(payload).__name__}")
    return _check_ref(join_ref, "join_ref"), _check_ref(ref, "ref"), topic, event, payload


def decode_fields(text: str | bytes, *, max_chars: int = MAX_FRAME_CHARS) -> Fields:
    """Parse one server→client text frame into ``(join_ref, ref, topic, event, payload)``.

    The core's hot path: no :class:`Frame` is built. Same rules and errors as :func:`decode`.
    """
    if len(text) > max_chars:
        raise FrameError(f"frame of {len(text)} characters exceeds the {max_chars} limit")
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FrameError(f"invalid UTF-8 at byte {exc.start}") from None
    # Fast path for the frame every server sends. JSON only produces exact types (no
    # subclasses, bool apart from int), so ``type() is`` suffices.
    try:
        data = fast_loads(text)
    except Exception:  # any failure is re-parsed below, for its exact reason
        data = None
    if type(data) is list and len(data) >= 5:
        join_ref, ref, topic, event, payload = data[0], data[1], data[2], data[3], data[4]
        if (
            type(topic) is str
            and type(event) is str
            and type(payload) is dict
            and (join_ref is None or type(join_ref) is str or type(join_ref) is int)
            and (ref is None or type(ref) is str or type(ref) is int)
        ):
            return join_ref, ref, topic, event, payload
    return _fields(_parse(text))


def decode(text: str | bytes, *, max_chars: int = MAX_FRAME_CHARS) -> Frame:
    """Parse one server→client text frame.

    Extra trailing array elements are ignored, as the server's own decoder does.
    Raises :class:`FrameError` for anything else that is not a V2 frame.
    """
    return Frame(*decode_fields(text, max_chars=max_chars))


def encode(frame: Frame) -> str:
    """Serialise compactly, byte-identical to phoenix.js's ``JSON.stringify`` for ASCII data."""
    return json.dumps(
        [frame.join_ref, frame.ref, frame.topic, frame.event, frame.payload],
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )
