"""Random presence states and diffs, shaped like the server's but with many collisions.

Small pools of keys and refs make joins, leaves, replays, ``phx_ref_prev`` updates and leaves of
unknown keys frequent. Integer-like keys are included on purpose (JS orders them first).
"""

from __future__ import annotations

import random
from typing import Any

from voki_tui.phoenix.presence import sync_diff, sync_state

KEYS = ["1", "2", "17", "100", "alice", "bob", "carol", "__proto__", "constructor"]
REFS = [f"R{i}" for i in range(12)]
STATUSES = ["available", "busy", "away"]

Meta = dict[str, Any]
PMap = dict[str, dict[str, Any]]


def _meta(rng: random.Random, ref: str) -> Meta:
    meta: Meta = {"phx_ref": ref, "status": rng.choice(STATUSES)}
    if rng.random() < 0.2:
        meta["phx_ref_prev"] = rng.choice(REFS)
    return meta


def _presence(rng: random.Random, refs: list[str]) -> dict[str, Any]:
    presence: dict[str, Any] = {"metas": [_meta(rng, r) for r in refs]}
    if rng.random() < 0.2:
        presence["user"] = {"name": rng.choice(["A", "B"])}
    return presence


def random_map(rng: random.Random, max_keys: int = 4) -> PMap:
    keys = rng.sample(KEYS, rng.randint(0, max_keys))
    return {k: _presence(rng, rng.sample(REFS, rng.randint(1, 3))) for k in keys}


def random_diff(rng: random.Random, state: PMap) -> dict[str, PMap]:
    """Leaves mostly name metas that exist (sometimes not); joins are new or replayed metas."""
    joins = random_map(rng, 3)
    for key, presence in state.items():
        if rng.random() < 0.2:  # replay a meta already present
            joins[key] = {"metas": [dict(rng.choice(presence["metas"]))]}
    leaves: PMap = {}
    for key, presence in state.items():
        if rng.random() < 0.4:
            metas = presence["metas"]
            chosen = rng.sample(metas, rng.randint(1, len(metas)))
            leaves[key] = {"metas": [dict(m) for m in chosen]}
    if rng.random() < 0.3:
        leaves.update(random_map(rng, 2))
    if rng.random() < 0.2 and joins:  # phx_ref_prev style update: same key in both
        key = rng.choice(list(joins))
        leaves[key] = {"metas": [_meta(rng, rng.choice(REFS))]}
    return {"joins": joins, "leaves": leaves}


def random_case(rng: random.Random, steps: int = 6) -> dict[str, Any]:
    """A start state and a sequence of ``state``/``diff`` steps, applied in order."""
    start = random_map(rng)
    current: PMap = start
    out = []
    for _ in range(steps):
        if rng.random() < 0.25:
            data: Any = random_map(rng)
            out.append({"kind": "state", "data": data})
            current = sync_state(current, data)  # type: ignore[assignment]
        else:
            data = random_diff(rng, current)
            out.append({"kind": "diff", "data": data})
            current = sync_diff(current, data)  # type: ignore[assignment]
    return {"state": start, "steps": out}
