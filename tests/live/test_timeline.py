"""The status log the presence panels read (``live.timeline.StatusLog``)."""

from __future__ import annotations

from collections import OrderedDict, deque
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from voki_tui.live.state import Agent, Department, DepartmentView, Source, SourceState
from voki_tui.live.timeline import GONE, Entry, StatusLog

T0 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
USERS = ("u1", "u2", "u3", "u4")
DEPARTMENTS = ("d1", "d2", "d3")


class ScanLog:
    """What the log noted before it had an index: every department, every time, by a scan of
    the whole log (the reference the indexed one must agree with, below its agent bound)."""

    def __init__(self, per_agent: int) -> None:
        self.per_agent = per_agent
        self.log: OrderedDict[tuple[str, str], deque[Entry]] = OrderedDict()

    def note(self, views: list[DepartmentView], now: datetime) -> None:
        for view in views:
            if view.presence.state != "synced":
                continue
            dep = view.department.id
            present = set()
            for agent in view.agents:
                present.add(agent.user_id)
                self.add((dep, agent.user_id), (agent.since or now, agent.status, agent.reason))
            for key, entries in list(self.log.items()):
                if key[0] == dep and key[1] not in present and entries[-1][1] != GONE:
                    self.add(key, (now, GONE, None))

    def add(self, key: tuple[str, str], entry: Entry) -> None:
        entries = self.log.get(key)
        if entries is not None and entries[-1][1:] == entry[1:]:
            return
        if entries is None:
            entries = self.log[key] = deque(maxlen=self.per_agent)
        entries.append(entry)
        self.log.move_to_end(key)


agents_strategy = st.lists(
    st.tuples(st.sampled_from(USERS), st.sampled_from(("available", "in_call", "paused"))),
    max_size=4,
    unique_by=lambda pair: pair[0],
)
step_strategy = st.lists(
    st.tuples(st.sampled_from(DEPARTMENTS), st.booleans(), st.booleans(), agents_strategy),
    min_size=1,
    max_size=4,
)


@given(st.lists(step_strategy, max_size=25))
def test_the_indexed_log_notes_what_a_scan_of_the_whole_log_notes(
    steps: list[list[tuple[str, bool, bool, list[tuple[str, str]]]]],
) -> None:
    """Departments noted again with the very same agents tuple (what the reducer hands out
    while nothing changes), with an equal new one, with changes, or not synced."""
    log, reference = StatusLog(per_agent=3), ScanLog(per_agent=3)
    last: dict[str, tuple[Agent, ...]] = {}
    for second, step in enumerate(steps):
        now = T0 + timedelta(seconds=second)
        views = []
        for dep, same, synced, pairs in step:
            if same and dep in last:
                agents = last[dep]
            else:
                agents = tuple(Agent(user, user.upper(), status, now, 1) for user, status in pairs)
                last[dep] = agents
            state = SourceState.SYNCED if synced else SourceState.STALE
            views.append(
                DepartmentView(Department(dep, dep), agents=agents, presence=Source(state, now))
            )
        log.note(views, now)
        reference.note(views, now)
        for dep in DEPARTMENTS:
            for user in USERS:
                assert log.of(dep, user) == tuple(reference.log.get((dep, user), ()))


def test_the_least_recently_changed_agents_go_first() -> None:
    log = StatusLog(per_agent=3, agents=2)
    synced = Source(SourceState.SYNCED, T0)
    for n, user in enumerate(("u1", "u2", "u3")):
        agent = Agent(user, user, "available", T0, 1)
        log.note([DepartmentView(Department(f"d{n}", "D"), agents=(agent,), presence=synced)], T0)
    assert log.of("d0", "u1") == ()
    assert [status for _, status, _ in log.of("d2", "u3")] == ["available"]
    gone = DepartmentView(Department("d1", "D"), agents=(), presence=synced)
    log.note([gone], T0 + timedelta(seconds=1))  # u2 leaves d1: found through the index
    assert [status for _, status, _ in log.of("d1", "u2")] == ["available", GONE]
