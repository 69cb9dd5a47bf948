"""Phoenix Presence: phoenix.js's ``syncState``/``syncDiff``/``list`` and a pending-diff tracker.

The pure functions follow presence.js exactly (phoenix-protocol.md §5.2): joins before leaves,
metas matched only by ``phx_ref``, callbacks with the same arguments (``None`` where JS passes
undefined), surviving old metas first. Unlike JS they never modify their inputs; and instead of
deep-cloning the whole state on every call they copy only the keys a diff touches, sharing
untouched presence objects between the old and the new state. So treat every state (and every
payload handed in) as immutable. The tracker goes one step further and applies diffs to its own
state dict in place: a diff then costs the keys it touches, not the size of the state.

A presence map is ``{key: {"metas": [{"phx_ref": ..., ...}, ...], ...extras}}``; the functions
assume that shape (use :func:`is_presence_map` on untrusted input first).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

Presence = Mapping[str, Any]
PresenceMap = Mapping[str, Presence]
OnJoin = Callable[[str, Presence | None, Presence], object]
OnLeave = Callable[[str, Presence, Presence], object]
#: onJoin / onLeave arguments: ``(key, current_or_None, joined)``, ``(key, current, left)``.
Joined = tuple[str, Presence | None, Presence]
Left = tuple[str, Presence, Presence]

_MISSING = object()


def _ref_id(meta: Mapping[str, Any]) -> Hashable:
    """A hashable stand-in for ``meta.phx_ref`` that is equal exactly when JS's ``===`` is.

    Strings (the real case) are their own id. A missing ref (undefined) differs from null,
    true differs from 1, and objects never match (JS compares them by identity, and the
    algorithm always compares clones).
    """
    ref = meta.get("phx_ref", _MISSING)
    if type(ref) is str or ref is None or ref is _MISSING:
        return ref
    if isinstance(ref, bool):
        return ("bool", ref)
    if isinstance(ref, int | float):
        return ("num", ref)
    return object()


def _ref_ids(metas: list[Mapping[str, Any]]) -> set[Hashable]:
    """The ``_ref_id`` of every meta; string refs (the real case) without a call each."""
    ids: set[Hashable] = set()
    for meta in metas:
        ref = meta.get("phx_ref", _MISSING)
        ids.add(ref if type(ref) is str else _ref_id(meta))
    return ids


def _metas_without(metas: list[Mapping[str, Any]], ids: set[Hashable]) -> list[Mapping[str, Any]]:
    """``metas`` minus those whose ref id is in ``ids``, order kept."""
    kept = []
    for meta in metas:
        ref = meta.get("phx_ref", _MISSING)
        if (ref if type(ref) is str else _ref_id(meta)) not in ids:
            kept.append(meta)
    return kept


_EMPTY: PresenceMap = {}


def _diff_shaped(joins: object, leaves: object) -> bool:
    """``is_presence_map(joins) and is_presence_map(leaves)`` in one call: run per diff."""
    if not (isinstance(joins, dict) and isinstance(leaves, dict)):
        return False
    for presences in (joins, leaves):
        for presence in presences.values():
            if not isinstance(presence, dict):
                return False
            metas = presence.get("metas")
            if not isinstance(metas, list):
                return False
            for meta in metas:
                if not isinstance(meta, dict):
                    return False
    return True


def is_presence_map(value: object) -> bool:
    """True if ``value`` has the shape the sync functions need."""
    if not isinstance(value, dict):
        return False
    for presence in value.values():
        if not isinstance(presence, dict):
            return False
        metas = presence.get("metas")
        if not isinstance(metas, list):
            return False
        for meta in metas:
            if not isinstance(meta, dict):
                return False
    return True


def sync_state(
    state: PresenceMap,
    new_state: PresenceMap,
    on_join: OnJoin | None = None,
    on_leave: OnLeave | None = None,
) -> dict[str, Presence]:
    """Reconcile ``state`` with a full ``presence_state``; returns the new state."""
    joins: dict[str, Presence] = {}
    leaves: dict[str, Presence] = {}
    for key, presence in state.items():
        if key not in new_state:
            leaves[key] = presence
    for key, new_presence in new_state.items():
        current = state.get(key)
        if current is None:
            joins[key] = new_presence
            continue
        new_metas = new_presence["metas"]
        cur_metas = current["metas"]
        new_refs = {_ref_id(m) for m in new_metas}
        cur_refs = {_ref_id(m) for m in cur_metas}
        joined = [m for m in new_metas if _ref_id(m) not in cur_refs]
        left = [m for m in cur_metas if _ref_id(m) not in new_refs]
        if joined:
            joins[key] = {**new_presence, "metas": joined}
        if left:
            leaves[key] = {**current, "metas": left}
    return sync_diff(state, {"joins": joins, "leaves": leaves}, on_join, on_leave)


def sync_diff(
    state: PresenceMap,
    diff: Mapping[str, PresenceMap],
    on_join: OnJoin | None = None,
    on_leave: OnLeave | None = None,
) -> dict[str, Presence]:
    """Apply a ``presence_diff`` (``{"joins": ..., "leaves": ...}``); returns the new state.

    A missing ``joins`` or ``leaves`` counts as empty.
    """
    result = dict(state)
    joined: list[Joined] = []
    left: list[Left] = []
    _apply_diff(result, diff.get("joins", {}), diff.get("leaves", {}), joined, left)
    # Called after the fact, in phoenix.js's order (joins, then leaves): nothing the callbacks
    # receive is modified by the diff, so they see exactly what they would have seen inline.
    if on_join is not None:
        for key, current, new_presence in joined:
            on_join(key, current, new_presence)
    if on_leave is not None:
        for key, current, left_presence in left:
            on_leave(key, current, left_presence)
    return result


def _apply_diff(
    result: dict[str, Presence],
    joins: PresenceMap,
    leaves: PresenceMap,
    joined: list[Joined],
    left: list[Left],
) -> list[str] | None:
    """:func:`sync_diff` on ``result`` itself, the onJoin/onLeave arguments appended to
    ``joined``/``left``; returns the keys of leaves ``result`` did not hold (skipped, as
    phoenix.js does), or None if there were none. Only ``result``'s top level changes (a
    touched key gets a new presence object); the presence objects and meta lists it held are
    never modified.

    The hot path of every diff: a one-meta list with a string ``phx_ref`` (what Phoenix sends)
    is matched by comparing that string, without building a set of ref ids.
    """
    get = result.get
    for key, new_presence in joins.items():
        current = get(key)
        metas = new_presence["metas"]
        if current is None:
            metas = list(metas)
        else:
            ref = metas[0].get("phx_ref", _MISSING) if len(metas) == 1 else _MISSING
            if type(ref) is str:
                kept = []  # a loop, not a comprehension: 3.11 builds a function for one
                for meta in current["metas"]:
                    if meta.get("phx_ref") != ref:
                        kept.append(meta)
            else:
                kept = _metas_without(current["metas"], _ref_ids(metas))
            metas = kept + metas
        result[key] = {**new_presence, "metas": metas}
        joined.append((key, current, new_presence))
    unknown: list[str] | None = None
    for key, left_presence in leaves.items():
        current = get(key)
        if current is None:
            if unknown is None:
                unknown = []
            unknown.append(key)
            continue
        gone = left_presence["metas"]
        ref = gone[0].get("phx_ref", _MISSING) if len(gone) == 1 else _MISSING
        if type(ref) is str:
            remaining = []
            for meta in current["metas"]:
                if meta.get("phx_ref") != ref:
                    remaining.append(meta)
        else:
            remaining = _metas_without(current["metas"], _ref_ids(gone))
        updated = {**current, "metas": remaining}
        left.append((key, updated, left_presence))
        if remaining:
            result[key] = updated
        else:
            del result[key]
    return unknown


def list_presences(
    state: PresenceMap, chooser: Callable[[str, Presence], Any] | None = None
) -> list[Any]:
    """``chooser(key, presence)`` for every key (the presence itself by default).

    Order is the state's insertion order, not JS's integer-keys-first order: sort if it matters.
    """
    if chooser is None:
        return list(state.values())
    return [chooser(key, presence) for key, presence in state.items()]


# ----------------------------------------------------------------------------- tracker


@dataclass(slots=True)  # read-only by convention; frozen would triple the cost of building one
class PresenceChange:
    """What one applied ``presence_state`` or ``presence_diff`` did (phoenix.js's onSync).

    ``joins`` holds ``(key, current_or_None, joined)`` and ``leaves`` ``(key, current, left)``,
    the onJoin/onLeave arguments in call order. ``state`` is the tracker's
    own state, which later diffs update in place: read it now, copy it to keep it.
    """

    state: Mapping[str, Presence]
    joins: Sequence[Joined]
    leaves: Sequence[Left]
    from_state: bool


@dataclass(slots=True)
class PresenceTracker:
    """One channel's presence, holding diffs until the current join's ``presence_state``.

    Call :meth:`joined` on every ChannelJoined, then feed every ``Message`` of the channel to
    :meth:`handle`. Differs from phoenix.js on purpose: diffs received *before* the join reply
    are discarded by :meth:`joined` (they belong to the previous subscription and could resurrect
    a presence that left while we were away; the server writes the join reply before any
    broadcast of the new subscription), and the pending buffer is bounded.
    """

    max_pending: int = 1000
    state_event: str = "presence_state"
    diff_event: str = "presence_diff"
    state: dict[str, Presence] = field(default_factory=dict)
    join_ref: str | None = None  # the channel's current join
    synced: bool = False  # the current join's presence_state has been applied
    pending: list[Mapping[str, PresenceMap]] = field(default_factory=list)
    overflows: int = 0  # times the pending buffer was full and dropped (a state follows)
    malformed: int = 0
    unknown_leaves: int = 0  # leaves of a key or meta we never had (phoenix.js skips them)

    def joined(self, join_ref: str) -> None:
        """A (re)join succeeded: hold diffs until its presence_state; the old state stays."""
        if join_ref != self.join_ref:
            self.join_ref = join_ref
            self.synced = False
        self.pending.clear()

    def handle(
        self, event: str, payload: Mapping[str, Any], join_ref: str | None
    ) -> PresenceChange | None:
        """Apply a presence event; None when it was buffered, stale, malformed or not presence."""
        if event == self.state_event:
            return self._on_state(payload, join_ref)
        if event == self.diff_event:
            return self._on_diff(payload)
        return None

    def list(self, chooser: Callable[[str, Presence], Any] | None = None) -> list[Any]:
        return list_presences(self.state, chooser)

    def _bad(self, what: str) -> None:
        self.malformed += 1
        log.warning("ignoring malformed %s", what)

    def _on_state(self, payload: Mapping[str, Any], join_ref: str | None) -> PresenceChange | None:
        if join_ref is not None and self.join_ref is not None and join_ref != self.join_ref:
            return None  # the state of an earlier join
        if not is_presence_map(payload):
            self._bad(self.state_event)
            return None
        joins: list[Joined] = []
        leaves: list[Left] = []

        def on_join(key: str, cur: Presence | None, new: Presence) -> None:
            joins.append((key, cur, new))

        def on_leave(key: str, cur: Presence, left: Presence) -> None:
            leaves.append((key, cur, left))

        state = sync_state(self.state, payload, on_join, on_leave)
        for diff in self.pending:
            state = sync_diff(state, diff, on_join, on_leave)
        self.pending.clear()
        self.state = state
        self.join_ref = join_ref if join_ref is not None else self.join_ref
        self.synced = True
        return PresenceChange(state, joins, leaves, True)

    def _on_diff(self, payload: Mapping[str, Any]) -> PresenceChange | None:
        joins = payload.get("joins", _EMPTY)
        leaves = payload.get("leaves", _EMPTY)
        if not _diff_shaped(joins, leaves):
            self._bad(self.diff_event)
            return None
        if not self.synced:
            if len(self.pending) >= self.max_pending:
                log.warning("presence: %d diffs pending, no state yet; dropped", len(self.pending))
                self.pending.clear()
                self.overflows += 1
            self.pending.append(payload)
            return None
        joined: list[Joined] = []
        left: list[Left] = []
        # In place: the tracker owns its state, so a diff costs the keys it touches, not a
        # copy of every key (phoenix.js deep-clones the whole state here).
        unknown = _apply_diff(self.state, joins, leaves, joined, left)
        if unknown is not None:
            # Skipped, as phoenix.js does, but a sign that our state and the server's drifted.
            self.unknown_leaves += len(unknown)
            for key in unknown:
                log.warning("presence leave for unknown key %r ignored", key[:80])
        return PresenceChange(self.state, joined, left, False)
