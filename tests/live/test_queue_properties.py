"""Property tests: a simulated server emits queue events over an unreliable channel
(reordered, duplicated, delayed) and answers REST snapshots; the reducer must converge to the
server's truth, never keep a ghost after a quiet reconcile, and count every finished call once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from voki_tui.live.events import CustomerJoined, QueueEvent
from voki_tui.live.queue import QueueReducer

from .helpers import DEPT, assigned, at, joined, left


@dataclass
class PendingSnapshot:
    token: int
    taken: dict[str, CustomerJoined] | None = None  # server state once the server answered


@dataclass
class Server:
    queued: dict[str, CustomerJoined] = field(default_factory=dict)
    ended: set[str] = field(default_factory=set)
    next_id: int = 0


class QueueMachine(RuleBasedStateMachine):
    @initialize()
    def start(self) -> None:
        self.server = Server()
        self.clock = 0.0
        self.queue = QueueReducer(DEPT)
        self.in_flight: list[QueueEvent] = []  # emitted, not yet delivered
        self.delivered: list[QueueEvent] = []
        self.snapshots: list[PendingSnapshot] = []

    def tick(self) -> float:
        self.clock += 1.0
        return self.clock

    # -- the server ---------------------------------------------------------------------

    @rule()
    def customer_joins(self) -> None:
        call_id = f"c{self.server.next_id}"
        self.server.next_id += 1
        event = joined(call_id, self.tick())
        self.server.queued[call_id] = event
        self.in_flight.append(event)

    @precondition(lambda self: self.server.queued)
    @rule(data=st.data(), how=st.sampled_from(["assigned", "abandoned", "cancelled", "missed"]))
    def customer_ends(self, data: st.DataObject, how: str) -> None:
        call_id = data.draw(st.sampled_from(sorted(self.server.queued)))
        del self.server.queued[call_id]
        self.server.ended.add(call_id)
        now = self.tick()
        event = assigned(call_id, now) if how == "assigned" else left(call_id, now, how)
        self.in_flight.append(event)

    # -- the channel --------------------------------------------------------------------

    @precondition(lambda self: self.in_flight)
    @rule(data=st.data())
    def deliver_any(self, data: st.DataObject) -> None:
        index = data.draw(st.integers(0, len(self.in_flight) - 1))
        event = self.in_flight.pop(index)
        self.queue.apply(event, at(self.tick()))
        self.delivered.append(event)

    @precondition(lambda self: self.delivered)
    @rule(data=st.data())
    def deliver_duplicate(self, data: st.DataObject) -> None:
        event = data.draw(st.sampled_from(self.delivered))
        self.queue.apply(event, at(self.tick()))

    # -- the REST snapshot: request, server answers (some time later), response arrives --------

    @rule()
    def request_snapshot(self) -> None:
        self.snapshots.append(PendingSnapshot(self.queue.begin_snapshot()))

    @precondition(lambda self: any(s.taken is None for s in self.snapshots))
    @rule(data=st.data())
    def server_answers(self, data: st.DataObject) -> None:
        waiting = [s for s in self.snapshots if s.taken is None]
        snap = data.draw(st.sampled_from(waiting))
        snap.taken = dict(self.server.queued)

    @precondition(lambda self: any(s.taken is not None for s in self.snapshots))
    @rule(data=st.data())
    def response_arrives(self, data: st.DataObject) -> None:
        answered = [s for s in self.snapshots if s.taken is not None]
        snap = data.draw(st.sampled_from(answered))
        self.snapshots.remove(snap)
        assert snap.taken is not None
        self.queue.reconcile(list(snap.taken.values()), at(self.tick()), token=snap.token)

    @rule()
    def quiet_reconcile(self) -> None:
        """Everything delivered, no request in flight: the snapshot settles the truth."""
        for event in self.in_flight:
            self.queue.apply(event, at(self.tick()))
        self.in_flight.clear()
        self.snapshots.clear()
        token = self.queue.begin_snapshot()
        self.queue.reconcile(list(self.server.queued.values()), at(self.tick()), token=token)
        self.check_truth()

    def check_truth(self) -> None:
        assert {c.call_id for c in self.queue.waiting()} == set(self.server.queued)

    @invariant()
    def equals_truth_whenever_nothing_is_in_flight(self) -> None:
        """Each emitted event has been delivered: reconciles so far must not have broken it."""
        if hasattr(self, "queue") and not self.in_flight:
            self.check_truth()

    @invariant()
    def ordered_oldest_first(self) -> None:
        if not hasattr(self, "queue"):
            return
        waiting = self.queue.waiting()
        assert [c.queued_at for c in waiting] == sorted(c.queued_at for c in waiting)

    @invariant()
    def never_holds_an_id_the_server_never_had(self) -> None:
        if not hasattr(self, "queue"):
            return
        known = set(self.server.queued) | self.server.ended
        assert {c.call_id for c in self.queue.waiting()} <= known

    @invariant()
    def each_ended_call_counted_at_most_once(self) -> None:
        if not hasattr(self, "queue"):
            return
        totals = self.queue.outcomes.totals(at(self.clock))
        assert totals.answered + totals.abandoned <= len(self.server.ended)

    def teardown(self) -> None:
        if not hasattr(self, "queue"):
            return
        # Deliver whatever is left and drop pending requests: the reducer must equal the truth.
        for event in self.in_flight:
            self.queue.apply(event, at(self.tick()))
        self.in_flight.clear()
        for snap in self.snapshots:
            self.queue.abort_snapshot(snap.token)
        self.check_truth()


QueueMachine.TestCase.settings = settings(
    max_examples=300,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestQueueConvergence = QueueMachine.TestCase
