"""The JSON document of ``voki-tui snapshot --json`` and of each ``watch --json`` line.

One flat, stable shape for scripts and monitoring: ids as strings, times as ISO 8601 UTC with
``Z``, durations in seconds. Secrets never appear: the document is built from the published
``FeedSnapshot``, which holds none. ``snapshot.schema.json`` beside this module is its JSON
Schema (a test validates real output against it); fields are only ever added.

Nothing unknown is given as a figure: until a department's queue and presence have both been
read its ``metrics`` are empty (never ``"waiting": 0``), one the server refused says
``"access": "refused"``, and ``"complete"`` is true only when every figure the server can give
is in (queue, presence and the hour of history behind ASA, service level and abandonment); the
``waiting`` and ``agents`` lists mean something only where their source has been read.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from voki_tui.live import figures
from voki_tui.live.state import (
    Agent,
    DepartmentView,
    FeedSnapshot,
    Metrics,
    Source,
    SourceState,
    WaitingCustomer,
)

#: What the server said about this user and this department, from its sources' states.
ACCESS = {
    SourceState.UNAUTHORIZED: "refused",
    SourceState.NOT_FOUND: "not_found",
    SourceState.ERROR: "error",
}


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def exact(moment: datetime) -> str:
    """``moment`` in ISO 8601 UTC to the microsecond: the instant itself, which ``voki-tui
    replay --at`` takes back to show the board exactly as it was then."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _customer(customer: WaitingCustomer) -> dict[str, Any]:
    return {
        "call_id": customer.call_id,
        "customer_name": customer.customer_name,
        "reason": customer.reason,
        "queued_at": iso(customer.queued_at),
    }


def _agent(agent: Agent) -> dict[str, Any]:
    return {
        "user_id": agent.user_id,
        "name": agent.name,
        "status": agent.status,
        "since": iso(agent.since),
        "devices": agent.devices,
    }


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _metrics(metrics: Metrics | None) -> dict[str, Any]:
    if metrics is None:
        return {}
    return {
        "waiting": metrics.waiting,
        "longest_wait_s": _rounded(metrics.longest_wait_s, 1),
        "asa_s": _rounded(metrics.asa_s, 1),
        "service_level": _rounded(metrics.service_level, 4),
        "abandonment_rate": _rounded(metrics.abandonment_rate, 4),
        "answered": metrics.answered,
        "answered_within": metrics.answered_within,
        "abandoned": metrics.abandoned,
        "abandoned_after_threshold": metrics.abandoned_after_threshold,
        "agents_present": metrics.agents_present,
        "agents_available": metrics.agents_available,
        "agents_in_call": metrics.agents_in_call,
        "agents_away": metrics.agents_away,
        "agents_other": metrics.agents_other,
        "window_s": metrics.window_s,
        "threshold_s": metrics.threshold_s,
    }


def _source(source: Source) -> dict[str, Any]:
    return {"state": str(source.state), "as_of": iso(source.as_of), "detail": source.detail}


def access(view: DepartmentView) -> str:
    """``granted`` once both channels were joined; ``refused``, ``not_found`` or ``error``
    when the server said no (to either); ``pending`` until it has answered."""
    sources = (view.queue, view.presence, view.history)
    for state, word in ACCESS.items():
        if any(source.state is state for source in sources):
            return word
    if view.queue.as_of is not None and view.presence.as_of is not None:
        return "granted"
    return "pending"


def _figures(view: DepartmentView, now: datetime) -> dict[str, Any]:
    """Every figure of the figure table under its JSON key: the value, its level and glyph
    (the same as every screen shows), and the limit it was judged against with its origin."""
    shown: dict[str, Any] = {}
    for key, reading in figures.readings(view, now).items():
        limit = reading.limit
        shown[key] = {
            "value": _rounded(reading.value, 4)
            if isinstance(reading.value, float)
            else reading.value,
            "level": reading.level.word,
            "glyph": reading.glyph.strip(),
            "limit": None
            if limit is None or limit.value is None
            else {"value": limit.value, "origin": str(limit.origin)},
        }
    return shown


def _department(view: DepartmentView, now: datetime) -> dict[str, Any]:
    level = figures.department_level(view, now)
    return {
        "id": view.department.id,
        "name": view.department.name,
        "access": access(view),
        "complete": view.complete,
        "level": level.word,
        "glyph": level.glyph.strip(),
        "figures": _figures(view, now),
        "waiting": [_customer(customer) for customer in view.waiting],
        "agents": [_agent(agent) for agent in view.agents],
        "metrics": _metrics(view.metrics),
        "sources": {
            "queue": _source(view.queue),
            "presence": _source(view.presence),
            "history": _source(view.history),
        },
    }


def snapshot_document(snapshot: FeedSnapshot) -> dict[str, Any]:
    """The document for ``snapshot``, ages computed as of ``snapshot.taken_at``."""
    user = snapshot.user
    age = snapshot.connection.data_age_s(snapshot.taken_at)
    return {
        "server": snapshot.server,
        "tenant": snapshot.tenant,
        "taken_at": iso(snapshot.taken_at),
        "taken_at_exact": exact(snapshot.taken_at),
        "clock_offset_s": round(snapshot.clock_offset_s, 1),  # the server's clock minus ours
        "user": None if user is None else {"id": user.id, "name": user.name, "role": user.role},
        "connection": {
            "state": str(snapshot.connection.state),
            "data_age_s": None if age is None else round(age, 1),
            "detail": snapshot.connection.detail,
        },
        "complete": all(view.complete for view in snapshot.departments),
        "links": snapshot.links,
        "departments": [_department(view, snapshot.taken_at) for view in snapshot.departments],
        "notices": list(snapshot.notices),
        "counters": asdict(snapshot.counters),
    }
