"""DepartmentBook: one department's queue, agents and history composed into a view."""

from __future__ import annotations

from voki_tui.live.book import DepartmentBook
from voki_tui.live.events import CallRecord
from voki_tui.live.state import Department, Source, SourceState

from .helpers import DEPT, assigned, at, joined


def test_view_composes_queue_agents_metrics_and_history() -> None:
    book = DepartmentBook(Department(DEPT, "Support", sla_threshold_s=30))
    assert book.backfill([CallRecord("old", DEPT, "completed", at(0), at(20), at(100))]) == 1
    token = book.begin_snapshot()
    book.apply(joined("a", 50), at(50))
    assert book.reconcile([joined("b", 40)], at(60), token=token)
    book.apply(assigned("b", 100), at(100))
    bob = {"phx_ref": "r", "name": "Bob", "status": "available", "since": "2026-03-02T09:00:00Z"}
    book.set_presence({"u1": {"metas": [bob]}})
    synced = Source(SourceState.SYNCED, at(100))
    view = book.view(at(120), queue_source=synced)
    assert [c.call_id for c in view.waiting] == ["a"]
    assert [a.name for a in view.agents] == ["Bob"]
    assert view.queue == synced and view.presence == Source()
    m = view.metrics
    assert m is not None
    assert (m.waiting, m.longest_wait_s, m.answered, m.answered_within) == (1, 70.0, 2, 1)
    assert m.agents_available == 1
    # minute 0: "a" joins (1); minute 1: the snapshot adds "b" (peak 2), then "b" is assigned
    # (last 1); minute 2 saw no change and carries 1
    assert [v for _, v in view.waiting_history] == [1, 2, 1]


def test_presence_update_by_keys() -> None:
    book = DepartmentBook(Department(DEPT, "Support"))
    state: dict[str, object] = {"u1": {"metas": [{"phx_ref": "r", "name": "Bob",
                                                  "status": "away", "since": None}]}}  # fmt: skip
    book.set_presence(state)
    state["u2"] = {"metas": [{"phx_ref": "s", "name": "Ana", "status": "in_call", "since": None}]}
    book.update_presence(state, ["u2"])
    view = book.view(at(0))
    assert [a.user_id for a in view.agents] == ["u2", "u1"]
    assert view.metrics is not None and view.metrics.agents_away == 1
