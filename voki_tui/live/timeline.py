"""Each agent's statuses since the app started, for the presence screen's detail panel.

Presence only says what an agent is doing now and since when; "what has Ana been doing this
morning" needs the changes kept. :class:`StatusLog` notes every change of status it sees in
the published snapshots (so changes quicker than one snapshot are not seen), per department
and agent, bounded: ``PER_AGENT`` entries per agent, ``AGENTS`` agents (the least recently
changed go first). Pure: the app feeds it snapshots.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Iterable
from datetime import datetime

from voki_tui.live.state import Agent, DepartmentView

PER_AGENT = 50
AGENTS = 2000
GONE = "offline"
"""What the log notes when an agent leaves the presence list."""

Entry = tuple[datetime, str, str | None]
"""(since, status, reason)."""


class StatusLog:
    """The statuses of every agent seen, keyed by (department id, user id).

    ``note`` runs on every snapshot (40 a second at 100 events/s). It skips a department whose
    agents are the very tuple it noted last time (the reducer hands out the same tuple until
    something changes), and finds a department's agents through an index instead of a scan of
    the whole log: with 200 departments and 2,000 agents the scan, once per department, was
    half of the app's CPU.
    """

    def __init__(self, per_agent: int = PER_AGENT, agents: int = AGENTS) -> None:
        self.per_agent = per_agent
        self.agents = agents
        self._log: OrderedDict[tuple[str, str], deque[Entry]] = OrderedDict()
        self._members: dict[str, OrderedDict[str, None]] = {}
        """Each department's user ids in the log, least recently changed first."""
        self._noted: dict[str, tuple[Agent, ...]] = {}
        """The agents of each department as last noted."""

    def note(self, views: Iterable[DepartmentView], now: datetime) -> None:
        """Record what changed in ``views`` (only views whose presence is known)."""
        for view in views:
            if view.presence.state != "synced":
                continue
            dep = view.department.id
            if self._noted.get(dep) is view.agents:
                continue
            self._noted[dep] = view.agents
            present = set()
            for agent in view.agents:
                present.add(agent.user_id)
                self._add((dep, agent.user_id), (agent.since or now, agent.status, agent.reason))
            for user in list(self._members.get(dep, ())):
                if user not in present and self._log[(dep, user)][-1][1] != GONE:
                    self._add((dep, user), (now, GONE, None))

    def _add(self, key: tuple[str, str], entry: Entry) -> None:
        entries = self._log.get(key)
        if entries is not None and entries[-1][1:] == entry[1:]:
            return
        if entries is None:
            entries = self._log[key] = deque(maxlen=self.per_agent)
            while len(self._log) > self.agents:
                (dep, user), _ = self._log.popitem(last=False)
                members = self._members[dep]
                del members[user]
                if not members:
                    del self._members[dep]
        entries.append(entry)
        self._log.move_to_end(key)
        members = self._members.setdefault(key[0], OrderedDict())
        members[key[1]] = None
        members.move_to_end(key[1])

    def of(self, department_id: str, user_id: str) -> tuple[Entry, ...]:
        """Oldest first."""
        return tuple(self._log.get((department_id, user_id), ()))
