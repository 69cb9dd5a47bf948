"""Server-side Phoenix.Presence: per-topic metas, ``phx_ref`` ids and diff broadcasts.

Every tracked meta gets a fresh 16-character URL-safe ``phx_ref`` built like Phoenix's
(nanosecond time + a node hash + a unique counter, 12 bytes, base64url). An update is a new
meta with ``phx_ref_prev`` and is reported as one diff holding the key in both ``joins`` and
``leaves``, exactly as ``Presence.update/3`` does.
"""

from __future__ import annotations

import base64
import itertools
import os
import time
from collections.abc import Callable
from typing import Any

Meta = dict[str, Any]
Broadcast = Callable[[str, str, dict[str, Any]], None]

_NODE_HASH = int.from_bytes(os.urandom(2), "big")
_unique = itertools.count(1)


def new_phx_ref(now_ns: int | None = None) -> str:
    """``now_ns``: the server clock's epoch nanoseconds (the host's by default)."""
    raw = (
        ((time.time_ns() if now_ns is None else now_ns) % 2**64).to_bytes(8, "big")
        + _NODE_HASH.to_bytes(2, "big")
        + (next(_unique) % 65536).to_bytes(2, "big")
    )
    return base64.urlsafe_b64encode(raw).decode("ascii")


class PresenceBook:
    """All presences by topic; every change is broadcast as a ``presence_diff``."""

    def __init__(self, broadcast: Broadcast, now_ns: Callable[[], int] = time.time_ns) -> None:
        self._broadcast = broadcast
        self._now_ns = now_ns
        self._topics: dict[str, dict[str, list[Meta]]] = {}

    def snapshot(self, topic: str) -> dict[str, dict[str, list[Meta]]]:
        """``Presence.list``: the ``presence_state`` payload: ``{key: {"metas": [...]}}``."""
        return {key: {"metas": list(metas)} for key, metas in self._topics.get(topic, {}).items()}

    def count(self, topic: str) -> int:
        """How many keys (users) are present on ``topic``, without copying anything."""
        return len(self._topics.get(topic, {}))

    def metas(self, topic: str, key: str) -> list[Meta]:
        return list(self._topics.get(topic, {}).get(key, []))

    def track(self, topic: str, key: str, fields: Meta) -> str:
        """Add a meta; returns its ``phx_ref``."""
        meta = {**fields, "phx_ref": new_phx_ref(self._now_ns())}
        self._topics.setdefault(topic, {}).setdefault(key, []).append(meta)
        self._broadcast(topic, "presence_diff", {"joins": {key: {"metas": [meta]}}, "leaves": {}})
        return str(meta["phx_ref"])

    def untrack(self, topic: str, key: str, phx_ref: str) -> None:
        metas = self._topics.get(topic, {}).get(key, [])
        gone = [m for m in metas if m["phx_ref"] == phx_ref]
        if not gone:
            return
        self._set(topic, key, [m for m in metas if m["phx_ref"] != phx_ref])
        self._broadcast(topic, "presence_diff", {"joins": {}, "leaves": {key: {"metas": gone}}})

    def update(self, topic: str, key: str, phx_ref: str, fields: Meta) -> str:
        """Replace the meta ``phx_ref`` with ``fields``; returns the new ``phx_ref``."""
        metas = self._topics.get(topic, {}).get(key, [])
        old = next((m for m in metas if m["phx_ref"] == phx_ref), None)
        if old is None:
            return self.track(topic, key, fields)
        new = {**fields, "phx_ref": new_phx_ref(self._now_ns()), "phx_ref_prev": phx_ref}
        self._set(topic, key, [m for m in metas if m is not old] + [new])
        self._broadcast(
            topic,
            "presence_diff",
            {"joins": {key: {"metas": [new]}}, "leaves": {key: {"metas": [old]}}},
        )
        return str(new["phx_ref"])

    def _set(self, topic: str, key: str, metas: list[Meta]) -> None:
        keys = self._topics.setdefault(topic, {})
        if metas:
            keys[key] = metas
        else:
            keys.pop(key, None)
