"""Phoenix serializers (V2 arrays, V1 objects) and WebSocket text-frame encoding.

JSON is written compact with keys sorted, as Jason does on the real server, so frames are
byte-comparable with the captured transcripts. Server frames are unmasked (RFC 6455 5.1),
which lets a broadcast be framed once and written as the same bytes to every subscriber.
"""

from __future__ import annotations

import json
import re
import struct
from dataclasses import dataclass
from typing import Any

_SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)(?:\+[0-9A-Za-z.-]+)?$")


class FrameError(ValueError):
    """A client frame the serializer cannot decode; Phoenix crashes the socket (1011)."""


@dataclass(frozen=True, slots=True)
class Message:
    join_ref: Any  # echoed with its JSON type
    ref: Any
    topic: str
    event: str
    payload: Any


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def text_frame(text: str) -> bytes:
    """One final, unmasked WebSocket text frame carrying ``text``."""
    data = text.encode("utf-8")
    n = len(data)
    if n < 126:
        header = struct.pack("!BB", 0x81, n)
    elif n < 65536:
        header = struct.pack("!BBH", 0x81, 126, n)
    else:
        header = struct.pack("!BBQ", 0x81, 127, n)
    return header + data


class V2Serializer:
    """``[join_ref, ref, topic, event, payload]``."""

    name = "v2"

    def encode(self, join_ref: Any, ref: Any, topic: str, event: str, payload: Any) -> str:
        return dumps([join_ref, ref, topic, event, payload])

    def decode(self, text: str) -> Message:
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise FrameError("not JSON") from exc
        if not isinstance(value, list) or len(value) < 5:
            raise FrameError("not a V2 array of five elements")
        join_ref, ref, topic, event, payload = value[:5]
        if not isinstance(topic, str) or not isinstance(event, str):
            raise FrameError("topic and event must be strings")
        return Message(join_ref, ref, topic, event, payload)


class V1Serializer:
    """``{"topic", "event", "payload", "ref"}``; no join_ref on output."""

    name = "v1"

    def encode(self, join_ref: Any, ref: Any, topic: str, event: str, payload: Any) -> str:
        return dumps({"topic": topic, "event": event, "payload": payload, "ref": ref})

    def decode(self, text: str) -> Message:
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise FrameError("not JSON") from exc
        if not isinstance(value, dict) or not {"topic", "event", "payload", "ref"} <= set(value):
            raise FrameError("not a V1 message object")
        topic, event = value["topic"], value["event"]
        if not isinstance(topic, str) or not isinstance(event, str):
            raise FrameError("topic and event must be strings")
        return Message(value.get("join_ref"), value["ref"], topic, event, value["payload"])


Serializer = V1Serializer | V2Serializer
V1 = V1Serializer()
V2 = V2Serializer()


def serializer_for(vsn: str | None) -> Serializer | None:
    """Phoenix's negotiation: no vsn means 1.0.0; ``~> 1.0.0`` is V1, ``~> 2.0.0`` is V2."""
    match = _SEMVER.match("1.0.0" if vsn is None else vsn)
    if match is None:
        return None
    major, minor = int(match.group(1)), int(match.group(2))
    if (major, minor) == (2, 0):
        return V2
    if (major, minor) == (1, 0):
        return V1
    return None
