"""No error freezes the board: the class of failures nobody expected, injected into ``LiveFeed``
without a network (issue: "one timestamp at the edge of the datetime range in a single queued
call hid the whole queue"; "only the app's own error type is caught").

Each test injects a failure of a type the code does not name and checks the three promises:
it is counted (``internal_errors``, ``outlier_times``, ``invalid_payloads``), the rest of the
board keeps working, and the part that failed comes back by itself.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest

from voki_tui.api.client import VokiClient
from voki_tui.api.models import Call
from voki_tui.api.session import Session
from voki_tui.live import figures
from voki_tui.live.book import DepartmentBook
from voki_tui.live.document import snapshot_document
from voki_tui.live.feed import LiveFeed
from voki_tui.live.state import LinkState, SourceState
from voki_tui.phoenix import core

from .test_feed_logic import Clock, FakeRest, SessionStandIn, go_live, link, make_feed, settle

EDGES = ["9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "1970-01-01T00:00:00Z"]


def queued(call_id: str, at: str) -> Call:
    return Call.model_validate(
        {"id": call_id, "status": "queued", "customer_name": call_id, "inserted_at": at}
    )


@pytest.mark.parametrize("edge", EDGES)
async def test_one_call_at_the_edge_of_time_hides_nothing_else(edge: str) -> None:
    """The REST truth holds two ordinary calls and one stamped at the edge of the datetime
    range: the department still syncs and goes live, the ordinary calls are shown, the odd
    stamp is counted as implausible, and every figure, the JSON and the sort key still read."""
    rest, clock = FakeRest(), Clock()
    rest.queued = [
        queued("before", "2026-03-02T08:58:00Z"),
        queued("edge", edge),
        queued("after", "2026-03-02T08:59:30Z"),
    ]
    feed = make_feed(rest, clock)
    await go_live(feed)
    assert link(feed) is LinkState.LIVE
    snap = feed.snapshot()
    (view,) = snap.departments
    assert view.queue.state is SourceState.SYNCED
    assert {"before", "after"} <= {c.call_id for c in view.waiting}
    assert snap.counters.outlier_times >= 1
    assert snap.counters.internal_errors == 0
    now = snap.taken_at
    longest = figures.read("longest_wait_s", view, now).value
    assert longest is not None and 0 <= longest < 24 * 3600  # not years, not negative
    figures.readings(view, now)
    figures.worst_first_key(view, now)
    snapshot_document(snap)


@pytest.mark.parametrize("edge", EDGES)
async def test_a_live_join_at_the_edge_of_time_is_counted_and_the_queue_goes_on(
    edge: str,
) -> None:
    rest, clock = FakeRest(), Clock()
    feed = make_feed(rest, clock)
    await go_live(feed)
    for call_id, at in (
        ("a", "2026-03-02T08:59:00Z"),
        ("edge", edge),
        ("b", "2026-03-02T08:59:10Z"),
    ):
        joined = {"call_id": call_id, "customer_name": call_id, "queued_at": at}
        feed._on_event(0, core.Message("queue:1", "customer_joined", joined, None))
    snap = feed.snapshot()
    (view,) = snap.departments
    assert {"a", "b"} <= {c.call_id for c in view.waiting}
    assert snap.counters.outlier_times >= 1 and snap.counters.internal_errors == 0
    assert link(feed) is LinkState.LIVE
    snapshot_document(snap)


async def test_a_handler_failing_with_an_unexpected_error_is_counted_and_repaired(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A bug in a reducer (a ZeroDivisionError, say) while applying one event: the feed counts
    it, keeps handling the next events, and re-reads the department's truth soon, since the
    event may have been half applied."""
    rest, clock = FakeRest(), Clock()
    feed = make_feed(rest, clock)
    await go_live(feed)
    real_apply = DepartmentBook.apply
    failures = 1

    def apply_once_broken(self: DepartmentBook, event: Any, now: Any) -> bool:
        nonlocal failures
        if failures:
            failures -= 1
            raise ZeroDivisionError("a bug nobody expected")
        return real_apply(self, event, now)

    monkeypatch.setattr(DepartmentBook, "apply", apply_once_broken)
    gaps: list[str] = []
    monkeypatch.setattr(feed, "_suspect_gap", lambda department, why: gaps.append(department))
    lost = {"call_id": "lost", "customer_name": "Ana", "queued_at": "2026-03-02T08:59:00Z"}
    feed._on_event(0, core.Message("queue:1", "customer_joined", lost, None))
    assert feed.snapshot().counters.internal_errors == 1
    assert gaps == ["1"]  # the truth is read again soon
    kept = {"call_id": "kept", "customer_name": "Bia", "queued_at": "2026-03-02T08:59:05Z"}
    feed._on_event(0, core.Message("queue:1", "customer_joined", kept, None))
    (view,) = feed.snapshot().departments
    assert [c.call_id for c in view.waiting] == ["kept"]  # later events still apply
    assert link(feed) is LinkState.LIVE


async def test_a_snapshot_failing_with_an_unexpected_error_is_retried_until_live() -> None:
    """Not a VokiError (a KeyError from a parser, say): counted as an internal error and
    retried on the same schedule, never left "syncing" for good."""
    rest, clock = FakeRest(), Clock()
    rest.error = KeyError("inserted_at")
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        if seconds != feed.pool.settings.push_timeout:  # the presence_state watch
            waits.append(seconds)
            rest.error = None
        await asyncio.sleep(0)

    feed = make_feed(rest, clock, sleep)
    await go_live(feed)
    await settle()
    assert waits and feed.snapshot().counters.internal_errors == 1
    assert link(feed) is LinkState.LIVE


async def test_a_history_failing_with_an_unexpected_error_is_retried() -> None:
    """The hour of history behind ASA, SL and abandonment: an unexpected failure is retried
    (``HISTORY_RETRY``) until the history source says synced."""

    class BrokenHistory(FakeRest):
        def __init__(self) -> None:
            super().__init__()
            self.history_failures = 2

        async def calls(self, **filters: Any) -> list[Call]:
            if filters.get("status") != "queued" and self.history_failures:
                self.history_failures -= 1
                self.history_requests += 1
                raise RuntimeError("the parser met something new")
            return await super().calls(**filters)

    rest, clock = BrokenHistory(), Clock()

    async def sleep(seconds: float) -> None:
        await asyncio.sleep(0)

    feed = make_feed(rest, clock, sleep)
    await go_live(feed)
    for _ in range(20):
        await settle()
        (view,) = feed.snapshot().departments
        if view.history.state is SourceState.SYNCED:
            break
    assert view.history.state is SourceState.SYNCED
    assert rest.history_requests == 3
    assert feed.snapshot().counters.internal_errors == 2


async def test_the_session_is_kept_fresh_after_an_unexpected_failure() -> None:
    """Seen as a class: an OSError from a full disk while saving the rotated pair would have
    ended the refreshing for good, and a board up for weeks would outlive its refresh token."""

    class FlakySession(SessionStandIn):
        def __init__(self) -> None:
            self.calls = 0
            self.running = asyncio.Event()

        async def keep_fresh(self) -> None:
            self.calls += 1
            if self.calls == 1:
                raise OSError(28, "No space left on device")
            self.running.set()
            await asyncio.Event().wait()  # refreshing, for ever

    session = FlakySession()
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        await asyncio.sleep(0)

    feed = LiveFeed(
        cast(VokiClient, FakeRest()), cast(Session, session), clock=Clock().wall, sleep=sleep
    )
    task = asyncio.create_task(feed._keep_session())
    await asyncio.wait_for(session.running.wait(), 5)
    task.cancel()
    assert session.calls == 2 and len(waits) == 1
    assert feed.snapshot().counters.internal_errors == 1
