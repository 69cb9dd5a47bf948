"""Agents of one department from a Phoenix Presence state.

The presence state maps a key (the user id) to ``{"metas": [meta, ...]}``, one meta per device
or tab, each ``{"phx_ref", "name", "role", "status", "since", "call_id"}`` and, when the
server sends one, a ``reason`` for a pause or an absence (not in the docs: read when present).
An agent shows the status, ``since``, ``call_id``, reason and name of their most recent meta
(latest ``since``; on a tie, or when no ``since`` parses, the last in the list) and counts
every meta as a device.

Presence comes from a server we do not control, so nothing here raises on a bad payload: a
missing or mistyped field gets a fallback and is counted in ``bad_fields``; an entry without
any usable meta is skipped and counted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import attrgetter

from voki_tui.live.state import Agent

UNKNOWN_STATUS = "unknown"
"""Shown for a meta that has no status at all (an unknown *value* is shown verbatim)."""

_ORDER = attrgetter("name", "user_id")


@dataclass(frozen=True, slots=True)
class ParsedAgent:
    """One presence entry's agent (None when no meta was usable) and its bad-field count."""

    agent: Agent | None
    bad_fields: int


def parse_since(value: object) -> datetime | None:
    """ISO 8601 to an aware UTC datetime; naive times are taken as UTC; anything else None."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _text(value: object) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def agent_from_entry(user_id: str, entry: object) -> ParsedAgent:
    """The agent of one presence entry (``{"metas": [...]}``)."""
    metas = entry.get("metas") if isinstance(entry, Mapping) else None
    if not isinstance(metas, Sequence) or isinstance(metas, str | bytes):
        return ParsedAgent(None, 1)
    bad = 0
    usable: list[tuple[Mapping[str, object], datetime | None]] = []
    for meta in metas:
        if not isinstance(meta, Mapping):
            bad += 1
            continue
        since = parse_since(meta.get("since"))
        if since is None:
            bad += 1
        usable.append((meta, since))
    if not usable:
        return ParsedAgent(None, bad + 1)
    latest, since = usable[0]
    for meta, meta_since in usable[1:]:
        if since is None or (meta_since is not None and meta_since >= since):
            latest, since = meta, meta_since
    status = _text(latest.get("status"))
    if status is None:
        bad += 1
        status = UNKNOWN_STATUS
    name = _text(latest.get("name"))
    if not name:
        bad += 1
        names = [n for meta, _ in usable if (n := _text(meta.get("name")))]
        name = names[-1] if names else user_id
    raw_call = latest.get("call_id")
    call_id = _text(raw_call)
    if raw_call is not None and call_id is None:
        bad += 1
    raw_role = latest.get("role")
    role = _text(raw_role)
    if raw_role is not None and role is None:
        bad += 1
    raw_reason = latest.get("reason")
    reason = _text(raw_reason) or None
    if raw_reason is not None and reason is None and raw_reason != "":
        bad += 1
    agent = Agent(user_id, name, status, since, len(usable), call_id, role, reason)
    return ParsedAgent(agent, bad)


class AgentRoster:
    """Cached agents of one department, updated per presence key.

    A presence diff touches few keys, so the feed calls ``update(state, keys)`` with the keys
    the diff joined or left and only those entries are re-parsed; ``replace`` re-reads a whole
    ``presence_state``. The sorted tuple is rebuilt only when asked after a change.
    """

    def __init__(self) -> None:
        self._by_key: dict[str, Agent] = {}
        self._version = 0
        self._cache: tuple[int, tuple[Agent, ...]] = (0, ())
        self.bad_fields = 0  # cumulative count of bad or missing fields seen

    @property
    def version(self) -> int:
        return self._version

    def replace(self, state: Mapping[str, object]) -> None:
        """Take a full presence state (after a ``presence_state`` or a rejoin)."""
        self._by_key.clear()
        self.update(state, state.keys())
        self._version += 1

    def update(self, state: Mapping[str, object], keys: Iterable[str]) -> None:
        """Re-read ``keys`` from the (already synced) state; absent keys mean the agent left."""
        for key in keys:
            entry = state.get(key)
            parsed = ParsedAgent(None, 0) if entry is None else agent_from_entry(key, entry)
            self.bad_fields += parsed.bad_fields
            old = self._by_key.get(key)
            if parsed.agent is None:
                if old is not None:
                    del self._by_key[key]
                    self._version += 1
            elif parsed.agent != old:
                self._by_key[key] = parsed.agent
                self._version += 1

    def agents(self) -> tuple[Agent, ...]:
        """Sorted by name, then user id."""
        version, agents = self._cache
        if version != self._version:
            agents = tuple(sorted(self._by_key.values(), key=_ORDER))
            self._cache = (self._version, agents)
        return agents
