"""Rules of the per-department queue reducer, one test per rule."""

from __future__ import annotations

from datetime import UTC, datetime

from voki_tui.live.events import CallRecord, CustomerJoined
from voki_tui.live.queue import QueueReducer
from voki_tui.live.window import OutcomeWindow

from .helpers import DEPT, assigned, at, joined, left


def ids(queue: QueueReducer) -> list[str]:
    return [c.call_id for c in queue.waiting()]


def totals(queue: QueueReducer, now_s: float = 100.0) -> tuple[int, int, int, int, int]:
    t = queue.outcomes.totals(at(now_s))
    return (t.answered, t.answered_within, t.wait_ms_sum, t.abandoned, t.abandoned_after_threshold)


def test_join_adds_and_orders_oldest_first() -> None:
    q = QueueReducer(DEPT)
    assert q.apply(joined("b", 5), at(6))
    assert q.apply(joined("a", 1), at(7))
    assert q.apply(joined("c", 9), at(9))
    assert ids(q) == ["a", "b", "c"]
    assert q.waiting()[0].first_seen == at(7)
    assert q.waiting()[0].queued_at == at(1)


def test_duplicate_join_keeps_first_seen_and_is_not_a_change() -> None:
    q = QueueReducer(DEPT)
    q.apply(joined("a", 1), at(1))
    version = q.version
    assert not q.apply(joined("a", 1), at(50))
    assert q.version == version
    assert q.waiting()[0].first_seen == at(1)
    assert q.duplicates == 1


def test_repeated_join_with_new_fields_updates_but_keeps_first_seen() -> None:
    q = QueueReducer(DEPT)
    q.apply(joined("a", 1, name="Ann"), at(1))
    assert q.apply(joined("a", 1, name="Ann B."), at(30))
    (customer,) = q.waiting()
    assert customer.customer_name == "Ann B."
    assert customer.first_seen == at(1)


def test_assigned_and_left_remove_and_count() -> None:
    q = QueueReducer(DEPT)
    q.apply(joined("a", 0), at(0))
    q.apply(joined("b", 0), at(0))
    q.apply(joined("c", 0), at(0))
    assert q.apply(assigned("a", 30), at(30))
    assert q.apply(left("b", 90, "abandoned"), at(90))
    assert q.apply(left("c", 10, "cancelled"), at(10))
    assert ids(q) == []
    # answered 1 within 60 s (30 s wait); one abandon after 60 s; the cancel counts nowhere
    assert totals(q) == (1, 1, 30_000, 1, 1)


def test_missed_counts_as_abandon_and_unknown_reason_is_neutral() -> None:
    q = QueueReducer(DEPT)
    q.apply(joined("a", 0), at(0))
    q.apply(joined("b", 0), at(0))
    q.apply(left("a", 20, "missed"), at(20))
    q.apply(left("b", 20, "transferred"), at(20))
    assert totals(q) == (0, 0, 0, 1, 0)


def test_join_after_finish_is_no_ghost() -> None:
    q = QueueReducer(DEPT)
    q.apply(joined("a", 0), at(0))
    q.apply(assigned("a", 5), at(5))
    assert not q.apply(joined("a", 0), at(6))
    assert ids(q) == []
    assert q.late_joins == 1


def test_left_before_join_is_no_ghost_and_counts_once_join_arrives() -> None:
    q = QueueReducer(DEPT)
    assert not q.apply(left("a", 80), at(80))
    assert totals(q) == (0, 0, 0, 0, 0)  # wait unknown until the join says when it queued
    assert not q.apply(joined("a", 0), at(81))
    assert ids(q) == []
    assert totals(q) == (0, 0, 0, 1, 1)


def test_duplicate_end_events_count_once() -> None:
    q = QueueReducer(DEPT)
    q.apply(joined("a", 0), at(0))
    q.apply(assigned("a", 10), at(10))
    q.apply(assigned("a", 10), at(11))
    q.apply(left("a", 12), at(12))
    assert totals(q) == (1, 1, 10_000, 0, 0)
    assert q.duplicates == 2


def test_finished_memory_is_bounded_fifo() -> None:
    q = QueueReducer(DEPT, max_finished=3)
    for i in range(5):
        q.apply(left(f"x{i}", 1), at(1))
    assert q.finished_count() == 3
    q.apply(joined("x4", 0), at(2))  # still remembered: ignored
    q.apply(joined("x0", 0), at(2))  # forgotten: accepted (the next reconcile settles it)
    assert ids(q) == ["x0"]


def test_reconcile_replaces_set_and_keeps_first_seen() -> None:
    q = QueueReducer(DEPT)
    q.apply(joined("a", 0), at(1))
    q.apply(joined("ghost", 0), at(1))
    assert q.reconcile([joined("a", 0), joined("new", 3)], at(10))
    assert ids(q) == ["a", "new"]
    by_id = {c.call_id: c for c in q.waiting()}
    assert by_id["a"].first_seen == at(1)
    assert by_id["new"].first_seen == at(10)
    # the vanished call is remembered: a late duplicate join does not bring it back
    q.apply(joined("ghost", 0), at(11))
    assert ids(q) == ["a", "new"]


def test_vanished_call_counts_when_its_late_end_arrives() -> None:
    q = QueueReducer(DEPT)
    q.apply(joined("a", 0), at(0))
    q.reconcile([], at(10))
    q.apply(assigned("a", 8), at(11))
    assert totals(q) == (1, 1, 8_000, 0, 0)


def test_events_racing_the_snapshot_are_reapplied() -> None:
    q = QueueReducer(DEPT)
    q.apply(joined("a", 0), at(0))
    q.apply(joined("b", 0), at(0))
    token = q.begin_snapshot()
    q.apply(assigned("a", 5), at(5))  # after the request; the snapshot still has "a"
    q.apply(joined("c", 6), at(6))  # after the request; the snapshot lacks "c"
    assert q.reconcile([joined("a", 0), joined("b", 0)], at(7), token=token)
    assert ids(q) == ["b", "c"]
    assert {c.call_id: c.first_seen for c in q.waiting()}["c"] == at(6)
    assert totals(q) == (1, 1, 5_000, 0, 0)  # the re-applied assign is not counted twice


def test_event_before_request_is_not_reapplied() -> None:
    q = QueueReducer(DEPT)
    q.apply(joined("a", 0), at(0))
    q.apply(assigned("a", 1), at(1))
    token = q.begin_snapshot()
    # the server requeued "a" (same call id) after the assign: the snapshot is the truth
    assert q.reconcile([joined("a", 0)], at(3), token=token)
    assert ids(q) == ["a"]


def test_superseded_or_unknown_token_is_refused() -> None:
    q = QueueReducer(DEPT)
    first = q.begin_snapshot()
    q.apply(joined("a", 0), at(0))
    second = q.begin_snapshot()
    assert q.reconcile([joined("a", 0)], at(2), token=second)
    assert not q.reconcile([], at(3), token=first)
    assert ids(q) == ["a"]
    assert q.stale_snapshots == 1


def test_first_snapshot_response_retires_every_other_request() -> None:
    """Responses may come back in any order; a later one can hold older data than the one
    applied, so only the first to arrive is used (the feed then has live events)."""
    q = QueueReducer(DEPT)
    first = q.begin_snapshot()
    q.apply(joined("a", 0), at(0))
    second = q.begin_snapshot()
    q.apply(joined("b", 1), at(1))
    assert q.reconcile([], at(2), token=first)
    assert ids(q) == ["a", "b"]
    assert not q.reconcile([], at(3), token=second)  # older data must not remove "a"
    assert ids(q) == ["a", "b"]
    assert q.stale_snapshots == 1


def test_buffer_overflow_invalidates_pending_snapshot() -> None:
    q = QueueReducer(DEPT, max_buffered=2)
    token = q.begin_snapshot()
    for i in range(3):
        q.apply(joined(f"c{i}", i), at(i))
    assert q.buffer_overflows == 1
    assert not q.reconcile([], at(5), token=token)
    assert len(q) == 3


def test_abort_snapshot_stops_buffering() -> None:
    q = QueueReducer(DEPT)
    token = q.begin_snapshot()
    q.abort_snapshot(token)
    q.apply(joined("a", 0), at(0))
    assert not q.reconcile([], at(1), token=token)


def test_waiting_tuple_is_cached_per_version() -> None:
    q = QueueReducer(DEPT)
    q.apply(joined("a", 0), at(0))
    first = q.waiting()
    assert q.waiting() is first
    q.apply(joined("b", 1), at(1))
    assert q.waiting() is not first


def record(call_id: str, status: str, **kw: float | None) -> CallRecord:
    def t(name: str) -> datetime | None:
        value = kw.get(name)
        return None if value is None else at(value)

    return CallRecord(call_id, DEPT, status, t("queued"), t("assigned"), t("ended"), kw.get("wait"))


def test_backfill_counts_answers_and_missed_and_dedupes_live_events() -> None:
    q = QueueReducer(DEPT)
    n = q.backfill(
        [
            record("a", "completed", queued=0, assigned=30, ended=300),
            record("b", "active", queued=0, assigned=70),
            record("c", "missed", queued=0, ended=90),
            record("d", "cancelled", queued=0, ended=5),
            record("e", "queued", queued=0),
            record("f", "missed", wait=20, ended=40),  # queued_at from the server's wait
        ]
    )
    assert n == 4
    assert totals(q) == (2, 1, 100_000, 2, 1)
    # live duplicates of backfilled calls change nothing
    q.apply(assigned("a", 30), at(31))
    q.apply(joined("c", 0), at(32))
    q.backfill([record("b", "completed", queued=0, assigned=70, ended=200)])
    assert totals(q) == (2, 1, 100_000, 2, 1)
    assert ids(q) == []


def test_backfill_after_live_event_is_not_counted_twice() -> None:
    q = QueueReducer(DEPT)
    q.apply(joined("a", 0), at(0))
    q.apply(assigned("a", 30), at(30))
    assert q.backfill([record("a", "completed", queued=0, assigned=30, ended=60)]) == 0
    assert totals(q)[0] == 1


def test_backfill_of_other_department_is_ignored_and_counted() -> None:
    q = QueueReducer(DEPT)
    other = CallRecord("z", "d2", "completed", at(0), at(1), at(2), None)
    assert q.backfill([other]) == 0
    assert q.foreign_records == 1


def test_window_is_injected() -> None:
    window = OutcomeWindow(window_s=60, threshold_s=10)
    q = QueueReducer(DEPT, window=window)
    q.apply(joined("a", 0), at(0))
    q.apply(assigned("a", 20), at(20))
    assert q.outcomes is window
    assert totals(q, 30) == (1, 0, 20_000, 0, 0)
    assert totals(q, 81) == (0, 0, 0, 0, 0)


def test_old_answer_after_newer_reconcile_is_refused_even_with_no_events_between() -> None:
    q = QueueReducer(DEPT)
    old = q.begin_snapshot()
    newer = q.begin_snapshot()  # no event between the two requests
    assert q.reconcile([joined("a", 0)], at(1), token=newer)
    q.begin_snapshot()  # a third request, still with no event applied
    assert not q.reconcile([], at(2), token=old)
    assert ids(q) == ["a"]


def test_same_second_ties_keep_arrival_order_through_reconcile() -> None:
    """Server timestamps have whole seconds: ties go by arrival, not by call id."""
    queue = QueueReducer("1")
    second = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    for call_id in ("zz-first", "aa-second"):
        queue.apply(CustomerJoined(call_id, "1", "x", None, second), second)
    assert [c.call_id for c in queue.waiting()] == ["zz-first", "aa-second"]
    snapshot = [
        CustomerJoined(call_id, "1", "x", None, second)
        for call_id in ("zz-first", "mm-new", "aa-second")
    ]
    assert queue.reconcile(snapshot, second)
    # Known calls keep their place; the newcomer from the snapshot queues behind them.
    assert [c.call_id for c in queue.waiting()] == ["zz-first", "aa-second", "mm-new"]
