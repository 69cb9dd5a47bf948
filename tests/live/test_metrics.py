"""Metrics: the formulas on hand-made cases, then a brute-force recomputation over random
event lists (with reorders, duplicates and REST backfill) that the reducers must match."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voki_tui.live.book import DepartmentBook
from voki_tui.live.events import CallAssigned, CallRecord, CustomerJoined, QueueEvent
from voki_tui.live.metrics import compute_metrics
from voki_tui.live.state import Agent, Department, Metrics
from voki_tui.live.window import WindowTotals

from .helpers import DEPT, assigned, at, joined, left

DEPARTMENT = Department(DEPT, "Support", sla_threshold_s=60)


def agent(user_id: str, status: str) -> Agent:
    return Agent(user_id, user_id.upper(), status, at(0), 1)


def metrics(totals: WindowTotals, waiting_s: Sequence[float] = (), now_s: float = 100) -> Metrics:
    book = DepartmentBook(DEPARTMENT)
    for i, q in enumerate(waiting_s):
        book.apply(joined(f"w{i}", q), at(q))
    return compute_metrics(
        waiting=book.queue.waiting(),
        agents=[
            agent("a", "available"),
            agent("b", "in_call"),
            agent("c", "away"),
            agent("d", "paused"),
            agent("e", "wrap_up"),
            agent("f", "available"),
        ],
        totals=totals,
        now=at(now_s),
        threshold_s=60,
        window_s=3600,
    )


def test_icmi_worked_example() -> None:
    # 1000 answered (860 within T), 60 abandoned (40 after T): ICMI #4 gives 82.7 %
    m = metrics(WindowTotals(1000, 860, 1000 * 25_000, 60, 40))
    assert m.service_level == pytest.approx(860 / 1040)
    assert m.abandonment_rate == pytest.approx(60 / 1060)
    assert m.asa_s == pytest.approx(25.0)


def test_empty_window_gives_none_not_zero() -> None:
    m = metrics(WindowTotals())
    assert m.service_level is None
    assert m.abandonment_rate is None
    assert m.asa_s is None
    assert m.longest_wait_s is None
    assert m.waiting == 0


def test_only_early_abandons_leave_service_level_undefined() -> None:
    m = metrics(WindowTotals(0, 0, 0, 3, 0))
    assert m.service_level is None
    assert m.abandonment_rate == 1.0


def test_longest_wait_and_agent_buckets() -> None:
    m = metrics(WindowTotals(), waiting_s=[40, 10, 70], now_s=100)
    assert m.waiting == 3
    assert m.longest_wait_s == 90.0
    assert (m.agents_present, m.agents_available, m.agents_in_call) == (6, 2, 1)
    assert (m.agents_away, m.agents_other) == (2, 1)


def test_longest_wait_never_negative_with_server_clock_ahead() -> None:
    m = metrics(WindowTotals(), waiting_s=[130], now_s=100)
    assert m.longest_wait_s == 0.0


def test_book_view_uses_department_threshold_and_window() -> None:
    book = DepartmentBook(Department(DEPT, "S", sla_threshold_s=20), window_s=600)
    book.apply(joined("a", 0), at(0))
    book.apply(joined("b", 0), at(0))
    book.apply(assigned("a", 15), at(15))
    book.apply(assigned("b", 30), at(30))
    m = book.view(at(40)).metrics
    assert m is not None
    assert (m.answered, m.answered_within, m.threshold_s, m.window_s) == (2, 1, 20, 600)
    assert m.service_level == 0.5
    later = book.view(at(30 + 600)).metrics
    assert later is not None and later.answered == 0


# -- brute force -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    kind: str  # join | assign | abandon | cancel | missed | record
    call: int
    gap: float  # seconds since the previous step


steps = st.lists(
    st.builds(
        Step,
        st.sampled_from(["join", "assign", "abandon", "cancel", "missed", "record"]),
        st.integers(0, 12),
        st.sampled_from([0.0, 0.5, 3.0, 45.0, 61.0, 400.0, 1200.0]),
    ),
    max_size=80,
)


def brute_force(
    applied: list[QueueEvent | CallRecord], now_s: float, threshold: int, window: int
) -> tuple[int, int, int, int, int, float | None, int]:
    now = at(now_s).timestamp()
    queued_at: dict[str, float] = {}
    end: dict[str, tuple[str, float]] = {}
    for item in applied:
        if isinstance(item, CallRecord):
            assert item.queued_at is not None and item.ended_at is not None
            kind = "answered" if item.assigned_at is not None else "abandoned"
            t_end = item.assigned_at or item.ended_at
            queued_at.setdefault(item.call_id, item.queued_at.timestamp())
            end.setdefault(item.call_id, (kind, t_end.timestamp()))
        elif isinstance(item, CustomerJoined):
            queued_at.setdefault(item.call_id, item.queued_at.timestamp())
        elif isinstance(item, CallAssigned):
            end.setdefault(item.call_id, ("answered", item.assigned_at.timestamp()))
        else:
            kind = "abandoned" if item.reason in ("abandoned", "missed") else "neutral"
            end.setdefault(item.call_id, (kind, item.at.timestamp()))
    answered = within = wait_ms = abandoned = after = 0
    for call_id, (kind, ended) in end.items():
        if call_id not in queued_at or kind == "neutral":
            continue
        if math.floor(ended) <= math.floor(now) - window:
            continue
        w = max(0, round((ended - queued_at[call_id]) * 1000))
        if kind == "answered":
            answered += 1
            within += w <= threshold * 1000
            wait_ms += w
        else:
            abandoned += 1
            after += w > threshold * 1000
    waiting = [q for c, q in queued_at.items() if c not in end]
    longest = max(0.0, now - min(waiting)) if waiting else None
    return answered, within, wait_ms, abandoned, after, longest, len(waiting)


@settings(max_examples=300, deadline=None)
@given(steps=steps, tail=st.sampled_from([0.0, 30.0, 3000.0, 3700.0]))
def test_metrics_equal_brute_force(steps: list[Step], tail: float) -> None:
    threshold, window = 60, 3600
    book = DepartmentBook(Department(DEPT, "S", sla_threshold_s=threshold), window_s=window)
    clock = 0.0
    first_join: dict[str, float] = {}
    applied: list[QueueEvent | CallRecord] = []
    for step in steps:
        clock += step.gap
        call_id = f"c{step.call}"
        item: QueueEvent | CallRecord
        if step.kind == "join":
            item = joined(call_id, first_join.setdefault(call_id, clock))
        elif step.kind == "assign":
            item = assigned(call_id, clock)
        elif step.kind == "record":
            # a REST record agreeing with what the live events said, when they said anything
            q = first_join.setdefault(call_id, clock)
            item = CallRecord(call_id, DEPT, "missed", at(q), None, at(clock), None)
        else:
            reason = {"abandon": "abandoned", "cancel": "cancelled", "missed": "missed"}
            item = left(call_id, clock, reason[step.kind])
        if isinstance(item, CallRecord):
            book.backfill([item])
        else:
            book.apply(item, at(clock))
        applied.append(item)
    now = clock + tail
    view = book.view(at(now))
    m = view.metrics
    assert m is not None
    answered, within, wait_ms, abandoned, after, longest, waiting = brute_force(
        applied, now, threshold, window
    )
    assert (m.answered, m.answered_within, m.abandoned, m.abandoned_after_threshold) == (
        answered,
        within,
        abandoned,
        after,
    )
    assert m.asa_s == (pytest.approx(wait_ms / answered / 1000) if answered else None)
    assert m.waiting == waiting == len(view.waiting)
    assert m.longest_wait_s == (pytest.approx(longest) if longest is not None else None)
    denominator = answered + after
    assert m.service_level == (pytest.approx(within / denominator) if denominator else None)
