"""The socket plan: every topic on exactly one socket, none over the limit, as few as can be.

Pure, so the whole space (groups coming and going, limits learned from refusals) is explored
with hypothesis; the pool that acts on the plan is tested against voki-sim.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voki_tui.phoenix.placement import MAX_CHANNELS_PER_SOCKET, Placement


def check(plan: Placement, groups: dict[str, int], ceiling: int) -> None:
    """The invariants after any change (``ceiling``: the limit before any was learned)."""
    loads = plan.sockets()
    assert set(plan) == set(groups)
    on_sockets = {group for socket in loads for group in plan.groups_on(socket)}
    assert on_sockets == set(groups)  # every group on exactly one open socket
    for socket, load in loads.items():
        assert load == sum(groups[g] for g in plan.groups_on(socket))
        assert 0 < load <= ceiling  # no empty socket; a learned limit moves only new groups


def test_one_socket_while_one_suffices() -> None:
    plan = Placement()
    plan.place("notification:u", 1)
    sockets = {plan.place(f"d{i}", 2) for i in range(49)}
    assert sockets == {0} and plan.sockets() == {0: 99}
    assert plan.place("d49", 2) == 1  # 101 topics: a second socket, the group not split


def test_150_departments_and_notifications_take_four_sockets() -> None:
    plan = Placement()
    plan.place("notification:u", 1)
    for i in range(150):
        plan.place(f"d{i}", 2)
    assert sorted(plan.sockets().values()) == [2, 99, 100, 100]
    assert len(plan.sockets()) == math.ceil(301 / MAX_CHANNELS_PER_SOCKET)


def test_a_refused_group_goes_elsewhere_and_the_limit_is_learned() -> None:
    plan = Placement(limit=10)
    for i in range(5):
        plan.place(f"d{i}", 2)
    assert plan.sockets() == {0: 10}
    # The server allows 8: d4's join is refused with 8 channels held.
    assert plan.learn_limit(8)
    assert plan.remove("d4") == 0
    assert plan.place("d4", 2, avoid=0) == 1
    assert plan.place("d5", 2) == 1  # socket 0 holds 8 = the limit now
    assert not plan.learn_limit(9)  # a higher figure never raises it again


def test_a_learned_limit_never_splits_a_group() -> None:
    plan = Placement(limit=10)
    plan.place("d0", 2)
    plan.learn_limit(0)  # refused on an empty socket: not a limit we can honour
    assert plan.limit == 2


def test_avoid_picks_another_socket_with_room_before_opening_one() -> None:
    plan = Placement(limit=4)
    for i in range(3):
        plan.place(f"d{i}", 2)  # 0: d0 d1, 1: d2
    plan.remove("d2")  # socket 1 closes
    assert plan.sockets() == {0: 4}
    assert plan.place("d2", 2, avoid=0) == 2  # ids are never reused
    plan.remove("d0")
    assert plan.place("d0", 2, avoid=2) == 0


def test_compact_packs_the_emptiest_sockets_into_the_others() -> None:
    plan = Placement(limit=10)
    for i in range(15):
        plan.place(f"d{i}", 2)  # 0: d0-d4, 1: d5-d9, 2: d10-d14
    for i in (0, 1, 5, 6, 7, 10, 11, 12):
        plan.remove(f"d{i}")  # loads 6, 4, 4: two sockets suffice
    moves = plan.compact()
    assert len(plan.sockets()) == 2
    assert {move.source for move in moves} == {2}  # the emptiest, newest one emptied
    assert all(plan.socket_of(move.group) == move.target for move in moves)


@pytest.mark.parametrize("limit", [0, -1])
def test_a_limit_below_one_is_refused(limit: int) -> None:
    with pytest.raises(ValueError):
        Placement(limit)


ops = st.lists(
    st.one_of(
        st.tuples(st.just("place"), st.integers(0, 60), st.integers(1, 3)),
        st.tuples(st.just("remove"), st.integers(0, 60), st.just(0)),
        st.tuples(st.just("learn"), st.integers(0, 40), st.just(0)),
        st.tuples(st.just("compact"), st.just(0), st.just(0)),
    ),
    max_size=120,
)


@settings(max_examples=300, deadline=None)
@given(limit=st.integers(3, 40), steps=ops)
def test_any_sequence_keeps_every_group_on_one_socket_under_the_limit(
    limit: int, steps: list[tuple[str, int, int]]
) -> None:
    plan = Placement(limit)
    groups: dict[str, int] = {}
    for op, n, size in steps:
        group = f"g{n}"
        if op == "place" and group not in groups:
            fresh = set(plan.sockets())
            socket = plan.place(group, size)
            groups[group] = size
            if socket in fresh:  # an open socket takes it only with room under today's limit
                assert plan.sockets()[socket] <= plan.limit
        elif op == "remove":
            plan.remove(group)
            groups.pop(group, None)
        elif op == "learn":
            plan.learn_limit(n)
        elif op == "compact":
            before = len(plan.sockets())
            moves = plan.compact()
            assert len(plan.sockets()) == before - len({m.source for m in moves})
            loads = sorted(plan.sockets().values())
            if len(loads) > 1:  # no two sockets left that one could hold
                assert loads[0] + loads[1] > plan.limit
        check(plan, groups, max(limit, 3))
