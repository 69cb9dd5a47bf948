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

from voki_tui.live.state import DepartmentView

PER_AGENT = 50
AGENTS = 2000
GONE = "offline"
"""What the log notes when an agent leaves the presence list."""

Entry = tuple[datetime, str, str | None]
"""(since, status, reason)."""


class StatusLog:
    """The statuses of every agent seen, keyed by (department id, user id)."""

    def __init__(self, per_agent: int = PER_AGENT, agents: int = AGENTS) -> None:
        self.per_agent = per_agent
        self.agents = agents
        self._log: OrderedDict[tuple[str, str], deque[Entry]] = OrderedDict()

    def note(self, views: Iterable[DepartmentView], now: datetime) -> None:
        """Record what changed in ``views`` (only views whose presence is known)."""
        for view in views:
            if view.presence.state != "synced":
                continue
            dep = view.department.id
            present = set()
            for agent in view.agents:
                present.add(agent.user_id)
                self._add((dep, agent.user_id), (agent.since or now, agent.status, agent.reason))
            for key, entries in list(self._log.items()):
                if key[0] == dep and key[1] not in present and entries[-1][1] != GONE:
                    self._add(key, (now, GONE, None))

    def _add(self, key: tuple[str, str], entry: Entry) -> None:
        entries = self._log.get(key)
        if entries is not None and entries[-1][1:] == entry[1:]:
            return
        if entries is None:
            entries = self._log[key] = deque(maxlen=self.per_agent)
            while len(self._log) > self.agents:
                self._log.popitem(last=False)
        entries.append(entry)
        self._log.move_to_end(key)

    def of(self, department_id: str, user_id: str) -> tuple[Entry, ...]:
        """Oldest first."""
        return tuple(self._log.get((department_id, user_id), ()))
