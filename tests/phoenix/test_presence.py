"""Presence sync (phoenix-protocol.md §5.2): examples, a model, immutability and the tracker."""

from __future__ import annotations

import copy
import random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from voki_tui.phoenix.presence import (
    PresenceTracker,
    is_presence_map,
    list_presences,
    sync_diff,
    sync_state,
)

from .presence_cases import random_diff, random_map


def m(ref: str, **fields: Any) -> dict[str, Any]:
    return {"phx_ref": ref, **fields}


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, Any, Any]] = []

    def on_join(self, key: str, cur: Any, new: Any) -> None:
        self.calls.append(("join", key, copy.deepcopy(cur), copy.deepcopy(new)))

    def on_leave(self, key: str, cur: Any, left: Any) -> None:
        self.calls.append(("leave", key, copy.deepcopy(cur), copy.deepcopy(left)))


# --------------------------------------------------------------------------- §5.2 examples


def test_sync_state_of_empty_states_leaves_input_unchanged() -> None:
    state: dict[str, Any] = {}
    assert sync_state(state, {}) == {} and state == {}


def test_sync_state_joins_new_keys_and_calls_on_join_with_none() -> None:
    rec = Recorder()
    new = {"u1": {"metas": [m("1", id=1)]}}
    assert sync_state({}, new, rec.on_join, rec.on_leave) == new
    assert rec.calls == [("join", "u1", None, new["u1"])]


def test_sync_state_removes_missing_keys_with_empty_current_on_leave() -> None:
    rec = Recorder()
    state = {"u1": {"metas": [m("1")]}, "u2": {"metas": [m("2")]}}
    result = sync_state(state, {"u2": {"metas": [m("2")]}}, rec.on_join, rec.on_leave)
    assert result == {"u2": {"metas": [m("2")]}}
    assert rec.calls == [("leave", "u1", {"metas": []}, {"metas": [m("1")]})]


def test_sync_state_matches_metas_only_by_phx_ref() -> None:
    """Same ref, new content: the old content is kept (JS behaviour)."""
    rec = Recorder()
    state = {"u1": {"metas": [m("1", status="away")]}}
    result = sync_state(state, {"u1": {"metas": [m("1", status="busy")]}}, rec.on_join)
    assert result == state and rec.calls == []


def test_sync_state_reports_only_joined_and_left_metas_of_a_kept_key() -> None:
    rec = Recorder()
    state = {"u1": {"metas": [m("1"), m("2")], "user": "old"}}
    new = {"u1": {"metas": [m("2"), m("3")], "user": "new"}}
    result = sync_state(state, new, rec.on_join, rec.on_leave)
    assert result == {"u1": {"metas": [m("2"), m("3")], "user": "new"}}
    assert rec.calls == [
        ("join", "u1", state["u1"], {"metas": [m("3")], "user": "new"}),
        (
            "leave",
            "u1",
            {"metas": [m("2"), m("3")], "user": "new"},
            {"metas": [m("1")], "user": "old"},
        ),
    ]


def test_sync_diff_joins_before_leaves_for_phx_ref_prev_update() -> None:
    """Presence.update: new meta in joins, old in leaves, same key; the key never vanishes."""
    rec = Recorder()
    state = {"bob": {"metas": [m("A", status="available")]}}
    diff = {
        "joins": {"bob": {"metas": [m("B", status="busy", phx_ref_prev="A")]}},
        "leaves": {"bob": {"metas": [m("A", status="available")]}},
    }
    result = sync_diff(state, diff, rec.on_join, rec.on_leave)
    assert result == {"bob": {"metas": [m("B", status="busy", phx_ref_prev="A")]}}
    assert [c[0] for c in rec.calls] == ["join", "leave"]
    assert rec.calls[1][2] == result["bob"]  # onLeave sees the updated meta still present


def test_sync_diff_old_metas_first_and_replayed_join_deduplicated() -> None:
    state = {"u": {"metas": [m("1", v="old"), m("2")]}}
    diff = {"joins": {"u": {"metas": [m("1", v="new"), m("3")]}}, "leaves": {}}
    assert sync_diff(state, diff)["u"]["metas"] == [m("2"), m("1", v="new"), m("3")]


def test_sync_diff_ref_in_both_joins_and_leaves_is_removed() -> None:
    diff = {"joins": {"u": {"metas": [m("1")]}}, "leaves": {"u": {"metas": [m("1")]}}}
    assert sync_diff({}, diff) == {}


def test_sync_diff_leave_of_unknown_key_has_no_callback() -> None:
    rec = Recorder()
    assert (
        sync_diff({}, {"joins": {}, "leaves": {"x": {"metas": [m("1")]}}}, None, rec.on_leave) == {}
    )
    assert rec.calls == []


def test_sync_diff_on_join_fires_even_if_nothing_changed() -> None:
    rec = Recorder()
    state = {"u": {"metas": [m("1")]}}
    assert sync_diff(state, {"joins": state, "leaves": {}}, rec.on_join) == state
    assert rec.calls == [("join", "u", state["u"], state["u"])]


def test_sync_diff_missing_parts_count_as_empty() -> None:
    assert sync_diff({"u": {"metas": [m("1")]}}, {}) == {"u": {"metas": [m("1")]}}


def test_list_presences_with_count_chooser() -> None:
    state = {"u1": {"metas": [m("1", s="a"), m("2")]}, "u2": {"metas": [m("3")]}}
    assert list_presences(state) == [state["u1"], state["u2"]]
    chosen = list_presences(
        state, lambda k, p: (k, p["metas"][0]["s"] if k == "u1" else None, len(p["metas"]))
    )
    assert chosen == [("u1", "a", 2), ("u2", None, 1)]


def test_is_presence_map() -> None:
    assert is_presence_map({"u": {"metas": [{"phx_ref": "1"}]}})
    bad_maps: list[object] = [[], {"u": []}, {"u": {}}, {"u": {"metas": {}}}, {"u": {"metas": [1]}}]
    for bad in bad_maps:
        assert not is_presence_map(bad)


# --------------------------------------------------------------------------- model


def refs_of(state: dict[str, Any]) -> dict[str, list[str]]:
    return {k: [meta["phx_ref"] for meta in p["metas"]] for k, p in state.items()}


def model_diff(model: dict[str, dict[str, Any]], diff: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """key -> {phx_ref: meta}: apply every join, then every leave. Unique refs per key."""
    out = {k: dict(v) for k, v in model.items()}
    for key, presence in diff["joins"].items():
        joined = {meta["phx_ref"]: meta for meta in presence["metas"]}
        kept = {r: meta for r, meta in out.get(key, {}).items() if r not in joined}
        out[key] = {**kept, **joined}
    for key, presence in diff["leaves"].items():
        if key in out:
            for meta in presence["metas"]:
                out[key].pop(meta["phx_ref"], None)
            if not out[key]:
                del out[key]
    return out


def model_state(model: dict[str, dict[str, Any]], new: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out = {}
    for key, presence in new.items():
        refs = {meta["phx_ref"]: meta for meta in presence["metas"]}
        old = model.get(key, {})
        out[key] = {
            **{r: meta for r, meta in old.items() if r in refs},
            **{r: meta for r, meta in refs.items() if r not in old},
        }
    return out


def to_model(state: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: {meta["phx_ref"]: meta for meta in p["metas"]} for k, p in state.items()}


def unique_refs(pmap: dict[str, Any]) -> dict[str, Any]:
    return {
        k: {**p, "metas": list({x["phx_ref"]: x for x in p["metas"]}.values())}
        for k, p in pmap.items()
    }


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2**32), st.integers(1, 8))
def test_sync_matches_model_and_never_mutates_inputs(seed: int, steps: int) -> None:
    rng = random.Random(seed)
    state = unique_refs(random_map(rng))
    model = to_model(state)
    for _ in range(steps):
        if rng.random() < 0.3:
            new = unique_refs(random_map(rng))
            before = copy.deepcopy((state, new))
            state_after = sync_state(state, new)
            assert (state, new) == before
            model = model_state(model, new)
        else:
            diff = random_diff(rng, state)
            diff = {"joins": unique_refs(diff["joins"]), "leaves": diff["leaves"]}
            before = copy.deepcopy((state, diff))
            state_after = sync_diff(state, diff)
            assert (state, diff) == before
            model = model_diff(model, diff)
        state = state_after
        assert refs_of(state) == {k: list(v) for k, v in model.items()}
        assert all(p["metas"] for p in state.values())


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32))
def test_callbacks_account_for_every_change(seed: int) -> None:
    """Keys gained have an on_join with None; keys lost end with an on_leave of no metas."""
    rng = random.Random(seed)
    state = random_map(rng)
    diff = random_diff(rng, state)
    rec = Recorder()
    result = sync_diff(state, diff, rec.on_join, rec.on_leave)
    joined_keys = {c[1] for c in rec.calls if c[0] == "join"}
    assert joined_keys == set(diff["joins"])
    for key in set(state) - set(result):
        assert any(c[:2] == ("leave", key) and c[2]["metas"] == [] for c in rec.calls)
    for key in set(result) - set(state):
        assert any(c[:2] == ("join", key) and c[2] is None for c in rec.calls)


# --------------------------------------------------------------------------- tracker


ALICE = {"alice": {"metas": [m("A1", status="available")]}}
BOB_JOIN = {"joins": {"bob": {"metas": [m("B1")]}}, "leaves": {}}


def test_tracker_holds_diffs_until_state_of_current_join() -> None:
    """Transcript 11: the joining socket's own diff arrives before presence_state."""
    t = PresenceTracker()
    t.joined("40")
    assert t.handle("presence_diff", BOB_JOIN, None) is None
    assert t.state == {} and t.pending == [BOB_JOIN]
    change = t.handle("presence_state", ALICE, "40")
    assert change is not None and change.from_state and t.synced
    assert set(t.state) == {"alice", "bob"}
    assert [j[0] for j in change.joins] == ["alice", "bob"]
    assert t.pending == []


def test_tracker_applies_diffs_directly_once_synced() -> None:
    t = PresenceTracker()
    t.joined("1")
    t.handle("presence_state", ALICE, "1")
    change = t.handle("presence_diff", {"joins": {}, "leaves": ALICE}, None)
    assert change is not None and not change.from_state
    assert t.state == {} and change.leaves[0][0] == "alice"


def test_tracker_rejoin_keeps_old_state_until_new_state_and_drops_old_diffs() -> None:
    t = PresenceTracker()
    t.joined("1")
    t.handle("presence_state", {**ALICE, "bob": {"metas": [m("B1")]}}, "1")
    # disconnected: a stale diff from the old subscription arrives before the rejoin reply
    t.synced = False
    t.handle("presence_diff", BOB_JOIN, None)
    t.joined("2")
    assert not t.synced and set(t.state) == {"alice", "bob"}  # last known state stays
    assert t.handle("presence_state", ALICE, "1") is None  # state of the old join: stale
    change = t.handle("presence_state", ALICE, "2")
    assert change is not None and set(t.state) == {"alice"}  # bob left while we were away
    assert [lv[0] for lv in change.leaves] == ["bob"]


def test_tracker_pending_is_bounded_and_overflow_reported() -> None:
    t = PresenceTracker(max_pending=5)
    t.joined("1")
    for _ in range(7):
        t.handle("presence_diff", BOB_JOIN, None)
    assert t.overflows == 1 and len(t.pending) <= 5
    change = t.handle("presence_state", ALICE, "1")
    assert change is not None and set(change.state) == {"alice", "bob"}


def test_tracker_counts_malformed_payloads_and_carries_on() -> None:
    t = PresenceTracker()
    t.joined("1")
    assert t.handle("presence_state", {"alice": {"metas": "x"}}, "1") is None
    assert t.handle("presence_diff", {"joins": [], "leaves": {}}, None) is None
    assert t.malformed == 2
    assert t.handle("presence_state", ALICE, "1") is not None


def test_tracker_ignores_other_events() -> None:
    assert PresenceTracker().handle("customer_joined", {}, None) is None


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32), st.integers(1, 8))
def test_tracker_in_place_diffs_match_sync_diff_and_touch_no_presence_object(
    seed: int, steps: int
) -> None:
    """The tracker applies diffs to its own dict: the result and the callback arguments must
    equal the pure sync_diff's, and no payload or earlier presence object may change."""
    rng = random.Random(seed)
    start = random_map(rng)
    t = PresenceTracker()
    t.joined("1")
    t.handle("presence_state", start, "1")
    expected: dict[str, Any] = dict(t.state)
    for _ in range(steps):
        diff = random_diff(rng, expected)
        held = list(t.state.values())  # presence objects of the state before the diff
        before = copy.deepcopy((diff, held))
        rec = Recorder()
        expected = sync_diff(expected, diff, rec.on_join, rec.on_leave)
        change = t.handle("presence_diff", diff, None)
        assert change is not None and change.state is t.state
        assert t.state == expected
        calls = [("join", k, c, n) for k, c, n in change.joins]
        calls += [("leave", k, c, gone) for k, c, gone in change.leaves]
        assert calls == rec.calls
        assert (diff, held) == before
