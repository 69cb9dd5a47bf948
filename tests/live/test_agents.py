"""Agents from Phoenix presence metas: the most recent meta wins, devices are counted, bad
fields are tolerated and counted, and incremental updates equal a full rebuild."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from voki_tui.live.agents import Agent, AgentRoster, agent_from_entry

from .helpers import at


def meta(
    ref: str, status: str = "available", since: str | None = "2026-03-02T09:00:00Z", **kw: Any
) -> dict[str, Any]:
    return {"phx_ref": ref, "name": "Bob", "role": "attendant", "status": status,
            "since": since, "call_id": None, **kw}  # fmt: skip


def test_most_recent_meta_wins_and_devices_counted() -> None:
    entry = {
        "metas": [
            meta("1", "in_call", "2026-03-02T09:05:00Z", call_id="c9", name="Bob (phone)"),
            meta("2", "available", "2026-03-02T09:01:00Z"),
        ]
    }
    parsed = agent_from_entry("u1", entry)
    assert parsed.bad_fields == 0
    agent = parsed.agent
    assert agent is not None
    assert (agent.status, agent.call_id, agent.name, agent.devices) == (
        "in_call",
        "c9",
        "Bob (phone)",
        2,
    )
    assert agent.since == at(300)
    assert agent.role == "attendant"


def test_tie_on_since_takes_the_last_meta() -> None:
    entry = {"metas": [meta("1", "away"), meta("2", "paused")]}
    agent = agent_from_entry("u1", entry).agent
    assert agent is not None and agent.status == "paused"


def test_unknown_status_is_verbatim() -> None:
    agent = agent_from_entry("u1", {"metas": [meta("1", "wrap_up")]}).agent
    assert agent is not None and agent.status == "wrap_up"


def test_bad_fields_are_tolerated_and_counted() -> None:
    entry = {
        "metas": [
            "not a meta",
            {"phx_ref": "2", "since": "yesterday", "status": 3, "role": ["x"]},
        ]
    }
    parsed = agent_from_entry("u7", entry)
    agent = parsed.agent
    assert agent is not None
    # bad meta, bad since, missing name, bad role; a numeric status is shown as text
    assert parsed.bad_fields == 4
    assert (agent.name, agent.status, agent.since, agent.role, agent.devices) == (
        "u7", "3", None, None, 1,
    )  # fmt: skip


def rebuilt(state: dict[str, object]) -> tuple[tuple[Agent, ...], int]:
    """The agents and bad-field count of a roster that read ``state`` whole."""
    roster = AgentRoster()
    roster.replace(state)
    return roster.agents(), roster.bad_fields


def test_dated_meta_beats_undated_one() -> None:
    entry = {"metas": [meta("1", "in_call"), meta("2", "away", since=None)]}
    agent = agent_from_entry("u1", entry).agent
    assert agent is not None and agent.status == "in_call"


def test_entry_without_metas_is_skipped() -> None:
    agents, bad = rebuilt({"u1": {"metas": []}, "u2": {}, "u3": "x"})
    assert agents == ()
    assert bad == 3


def test_sorted_by_name_then_user_id() -> None:
    state: dict[str, object] = {
        "u3": {"metas": [meta("a", name="Carla")]},
        "u2": {"metas": [meta("b", name="Ana")]},
        "u1": {"metas": [meta("c", name="Ana")]},
    }
    agents, _ = rebuilt(state)
    assert [(a.name, a.user_id) for a in agents] == [("Ana", "u1"), ("Ana", "u2"), ("Carla", "u3")]


def test_naive_since_is_utc_and_offsets_are_normalised() -> None:
    a = agent_from_entry("u", {"metas": [meta("1", since="2026-03-02T09:00:10")]}).agent
    b = agent_from_entry("u", {"metas": [meta("1", since="2026-03-02T06:00:20-03:00")]}).agent
    assert a is not None and a.since == at(10)
    assert b is not None and b.since == at(20)


def test_roster_update_removes_left_keys_and_caches() -> None:
    roster = AgentRoster()
    state: dict[str, object] = {"u1": {"metas": [meta("1")]}, "u2": {"metas": [meta("2")]}}
    roster.replace(state)
    first = roster.agents()
    assert roster.agents() is first
    del state["u1"]
    roster.update(state, ["u1"])
    assert [a.user_id for a in roster.agents()] == ["u2"]


statuses = st.sampled_from(["available", "in_call", "away", "paused", "wrap_up"])
sinces = st.sampled_from([None, "2026-03-02T09:00:00Z", "2026-03-02T09:01:00Z", "bad"])
metas = st.builds(meta, st.text("abc", min_size=1, max_size=2), statuses, sinces,
                  name=st.sampled_from(["Ana", "Bob", ""]))  # fmt: skip
entries = st.dictionaries(st.sampled_from(["u1", "u2", "u3", "u4"]), st.lists(metas, max_size=3))


@settings(max_examples=200, deadline=None)
@given(st.lists(entries, min_size=1, max_size=6))
def test_incremental_updates_equal_full_rebuild(states: list[dict[str, list[Any]]]) -> None:
    roster = AgentRoster()
    previous: dict[str, object] = {}
    for raw in states:
        state: dict[str, object] = {k: {"metas": v} for k, v in raw.items()}
        changed = {k for k in set(previous) | set(state) if previous.get(k) != state.get(k)}
        roster.update(state, changed)
        previous = state
        expected, _ = rebuilt(state)
        assert roster.agents() == expected
        for agent in expected:
            assert agent.devices == len(raw[agent.user_id])


def test_a_pause_reason_is_read_when_the_server_sends_one() -> None:
    from voki_tui.live.agents import agent_from_entry

    meta = {"phx_ref": "r", "name": "Ana", "status": "paused", "since": "2026-03-02T14:00:00Z"}
    assert agent_from_entry("u", {"metas": [{**meta, "reason": "almoço"}]}).agent.reason == "almoço"  # type: ignore[union-attr]
    plain = agent_from_entry("u", {"metas": [meta]})
    assert plain.agent is not None and plain.agent.reason is None and plain.bad_fields == 0
    odd = agent_from_entry("u", {"metas": [{**meta, "reason": {"x": 1}}]})
    assert odd.agent is not None and odd.agent.reason is None and odd.bad_fields == 1


def test_the_status_log_keeps_each_change_once_and_notes_who_left() -> None:
    from datetime import UTC, datetime, timedelta

    from voki_tui.live.state import Agent, Department, DepartmentView, Source, SourceState
    from voki_tui.live.timeline import StatusLog

    t0 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
    synced = Source(SourceState.SYNCED, t0)

    def seen(*agents: Agent) -> DepartmentView:
        return DepartmentView(Department("d", "D"), agents=agents, presence=synced)

    log = StatusLog(per_agent=3)
    ana = Agent("u", "Ana", "available", t0, 1)
    log.note([seen(ana)], t0)
    log.note([seen(ana)], t0 + timedelta(seconds=1))  # no change: nothing new
    paused = Agent("u", "Ana", "paused", t0 + timedelta(minutes=5), 1, reason="almoço")
    log.note([seen(paused)], t0 + timedelta(minutes=5))
    log.note([seen()], t0 + timedelta(minutes=9))
    assert [(status, reason) for _, status, reason in log.of("d", "u")] == [
        ("available", None),
        ("paused", "almoço"),
        ("offline", None),
    ]
    log.note([seen(ana)], t0 + timedelta(minutes=10))
    assert len(log.of("d", "u")) == 3, "bounded per agent"
