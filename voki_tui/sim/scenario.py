"""The seeded scenario: customers arrive, wait, are answered or give up; agents come and go.

Time is split in two. The scenario runs on its own clock (``sim_now``), advanced by the real
elapsed time times ``speed`` and frozen while paused, so one seed always yields the same
sequence of events. Every timestamp it publishes is the server's wall-clock time (``wall``:
the host's time plus ``--clock-offset``, see ``clock.py``), as on a real server.

Outcomes of a waiting customer: an available agent of the department takes the call
(``call_assigned``), the customer gives up (``customer_left`` reason ``abandoned``, or
``cancelled`` when they leave within seconds), or the department's ``max_wait_time`` passes
(``customer_left`` reason ``missed``). Agents cycle through available, in_call, away, paused
and offline; some work on two devices and so have two presence metas.

``rate`` > 0 replaces the natural pace with a synthetic stream of exactly that many events
per second (arrivals, departures and presence changes), for benchmarks.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .config import SimConfig
from .names import NOTIFICATION_TITLES, REASONS, customer_contact, person_name
from .presence import PresenceBook
from .world import Call, Department, User, World, iso, new_uuid

Broadcast = Callable[[str, str, dict[str, Any]], None]

TICK_S = 0.02
HISTORY_S = 3600.0
MEAN_PATIENCE_S = 150.0
MEAN_CALL_S = 90.0
MEAN_AVAILABLE_S = 300.0
MEAN_BREAK_S = {"away": 60.0, "paused": 90.0, "offline": 150.0}
MEAN_DEVICE_TOGGLE_S = 400.0
MEAN_NOTIFY_S = 40.0
MAX_KEPT_CALLS = 50_000
STATUS_MIX = ((0.6, "available"), (0.75, "away"), (0.85, "paused"), (1.01, "in_call"))


@dataclass(slots=True)
class AgentState:
    user: User
    order: int = 0  # place in the directory: breaks ties between equally idle agents
    status: str = "offline"
    since: float = 0.0
    call_id: str | None = None
    devices: int = 0
    refs: dict[tuple[str, int], str] = field(default_factory=dict)  # (topic, device) -> phx_ref
    gen: int = 0  # bumped on every status change: stale timers are ignored

    @property
    def key(self) -> str:
        """The presence key: the user's uuid."""
        return self.user.id

    def meta(self) -> dict[str, Any]:
        return {
            "name": self.user.name,
            "role": self.user.role,
            "status": self.status,
            "since": iso(self.since),
            "call_id": self.call_id,
        }


class Scenario:
    """Owns the live part of the world and emits every queue, presence and notification event."""

    def __init__(
        self,
        config: SimConfig,
        world: World,
        rng: random.Random,
        presence: PresenceBook,
        broadcast: Broadcast,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.world = world
        self.rng = rng
        self.ext_rng = random.Random(f"{config.seed}-external")  # keeps the scenario seeded
        # Call ids per (seed, boot): a restart never re-issues an earlier run's ids. External
        # customers draw from their own stream so they do not shift the scenario's.
        self.id_rng = random.Random(f"{config.seed}-ids-{config.boot}")
        self.ext_id_rng = random.Random(f"{config.seed}-external-ids-{config.boot}")
        self.presence = presence
        self.broadcast = broadcast
        self.wall = wall
        self.speed = config.speed
        self.paused = config.paused
        self.rate = 0.0
        self.sim_now = 0.0
        self._rate_credit = 0.0
        self._heap: list[tuple[float, int, str, tuple[Any, ...]]] = []
        self._seq = itertools.count()
        self._notification_ids = itertools.count(1)
        self.agents: dict[str, AgentState] = {
            u.id: AgentState(u, order) for order, u in enumerate(world.users.values()) if u.is_agent
        }
        # A department's place in the directory: an agent's presence changes go out topic by
        # topic in this order.
        self._topic_order = {f"presence:{d}": n for n, d in enumerate(world.departments)}

    # ---- set-up -------------------------------------------------------------------------

    def seed(self) -> None:
        """History, agents online, a few waiting customers, and the first timers."""
        now = self.wall()
        self._seed_history(now)
        for agent in self.agents.values():
            self._seed_agent(agent, now)
        for dept in self.world.departments.values():
            ages = [self.rng.uniform(5, 90) for _ in range(self.rng.randint(0, 2))]
            for age in sorted(ages, reverse=True):  # the queue is FIFO: oldest first
                self._arrive(dept, self.rng, queued_at=now - age)
            self._schedule(self._exp(dept.arrival_interval), "arrival", dept.id)
        for agent in self.agents.values():
            self._schedule(self._exp(MEAN_DEVICE_TOGGLE_S), "device", agent.user.id)
        self._schedule(self._exp(MEAN_NOTIFY_S), "notify")

    def _seed_history(self, now: float) -> None:
        rng = self.rng
        for dept in self.world.departments.values():
            members = [u.id for u in self.world.members(dept.id) if u.is_agent]
            t = now - HISTORY_S
            while True:
                t += rng.expovariate(1.0 / dept.arrival_interval)
                if t >= now - 60:
                    break
                name = person_name(rng)
                email, phone = customer_contact(rng, name)
                call = Call(
                    new_uuid(self.id_rng), dept.id, name, email, phone, rng.choice(REASONS), t
                )
                roll = rng.random()
                if roll < 0.78 and members:
                    call.assigned_at = call.started_at = t + rng.expovariate(1 / 40)
                    call.completed_at = call.started_at + 20 + rng.expovariate(1 / MEAN_CALL_S)
                    if call.completed_at >= now:
                        continue
                    call.status, call.user_id = "completed", rng.choice(members)
                    call.rating = rng.choice((None, 3, 4, 5, 5))
                else:
                    cancelled = roll > 0.95
                    call.status = "cancelled" if cancelled else "missed"
                    wait = rng.uniform(3, 12) if cancelled else rng.expovariate(1 / 70)
                    call.left_at = t + min(wait, dept.max_wait_time)
                self.world.calls[call.id] = call

    def _seed_agent(self, agent: AgentState, now: float) -> None:
        rng = self.rng
        online = agent.user.email.startswith("attendant@") or rng.random() < 0.9
        devices = 2 if rng.random() < 0.2 else 1
        if not online:
            agent.since = now - rng.uniform(60, 3600)
            self._plan(agent)
            return
        roll = rng.random()
        status = next(s for limit, s in STATUS_MIX if roll < limit)
        if agent.user.email.startswith("attendant@"):
            status = "available"
        agent.status, agent.since = status, now - rng.uniform(5, 600)
        if status == "in_call":
            dept_id = rng.choice(agent.user.department_ids)
            name = person_name(rng)
            email, phone = customer_contact(rng, name)
            call = Call(
                new_uuid(self.id_rng), dept_id, name, email, phone, rng.choice(REASONS),
                now - rng.uniform(60, 400), status="active", user_id=agent.user.id,
            )  # fmt: skip
            call.assigned_at = call.started_at = agent.since = min(
                now - 5, call.inserted_at + rng.expovariate(1 / 40)
            )
            self.world.calls[call.id] = call
            agent.call_id = call.id
            self._schedule(self._exp(MEAN_CALL_S) + 10, "end_call", agent.user.id, agent.gen)
        self._go_online(agent, devices)
        if status != "in_call":
            self._plan(agent)

    # ---- the clock ----------------------------------------------------------------------

    async def run(self) -> None:
        """The tick loop; cancel the task to stop it."""
        last = time.monotonic()
        while True:
            await asyncio.sleep(TICK_S)
            now = time.monotonic()
            self.step(now - last)
            last = now

    def step(self, dt: float) -> None:
        """Advance by ``dt`` real seconds (nothing happens while paused)."""
        if self.paused:
            return
        if self.rate > 0:
            self._rate_credit = min(self._rate_credit + self.rate * dt, max(1.0, self.rate / 2))
            count = int(self._rate_credit)
            self._rate_credit -= count
            for _ in range(count):
                self._synthetic_event()
            return
        self.sim_now += dt * self.speed
        while self._heap and self._heap[0][0] <= self.sim_now:
            _, _, kind, args = heapq.heappop(self._heap)
            self._fire(kind, args)
        self._dispatch()
        if len(self.world.calls) > MAX_KEPT_CALLS:
            self._prune_calls()

    def _schedule(self, delay: float, kind: str, *args: Any) -> None:
        heapq.heappush(self._heap, (self.sim_now + delay, next(self._seq), kind, args))

    def _exp(self, mean: float) -> float:
        return self.rng.expovariate(1.0 / mean)

    def _fire(self, kind: str, args: tuple[Any, ...]) -> None:
        if kind == "arrival":
            dept = self.world.departments[args[0]]
            if len(self.world.queues[dept.id]) < dept.max_queue_size:
                self._arrive(dept, self.rng)
            self._schedule(self._exp(dept.arrival_interval), "arrival", dept.id)
        elif kind == "leave":
            self._leave(args[0], args[1])
        elif kind == "end_call":
            self._end_call(self.agents[args[0]], args[1])
        elif kind == "idle_end":
            agent = self.agents[args[0]]
            if agent.gen == args[1] and agent.status == "available":
                roll = self.rng.random()
                if roll < 0.15:
                    self._go_offline(agent)
                else:
                    self._set_status(agent, "away" if roll < 0.7 else "paused")
        elif kind == "back":
            agent = self.agents[args[0]]
            if agent.gen == args[1]:
                if agent.status == "offline":
                    agent.status, agent.since = "available", self.wall()
                    agent.gen += 1
                    self._go_online(agent, 2 if self.rng.random() < 0.2 else 1)
                    self._plan(agent)
                else:
                    self._set_status(agent, "available")
        elif kind == "device":
            self._toggle_device(self.agents[args[0]])
            self._schedule(self._exp(MEAN_DEVICE_TOGGLE_S), "device", args[0])
        elif kind == "notify":
            self._notify()
            self._schedule(self._exp(MEAN_NOTIFY_S), "notify")

    # ---- customers ----------------------------------------------------------------------

    def add_customer(
        self,
        department_id: str,
        name: str,
        reason: str | None,
        email: str | None = None,
        phone: str | None = None,
    ) -> Call:
        """A customer from outside the scenario (widget or control API): same queue, same events."""
        dept = self.world.departments[department_id]
        return self._arrive(dept, self.ext_rng, name=name, reason=reason, email=email, phone=phone)

    def _arrive(
        self,
        dept: Department,
        rng: random.Random,
        *,
        queued_at: float | None = None,
        name: str | None = None,
        reason: str | None = None,
        email: str | None = None,
        phone: str | None = None,
    ) -> Call:
        if name is None:
            name = person_name(rng)
            email, phone = customer_contact(rng, name)
            reason = rng.choice(REASONS)
        at = self.wall() if queued_at is None else queued_at
        ids = self.ext_id_rng if rng is self.ext_rng else self.id_rng
        call = Call(new_uuid(ids), dept.id, name, email, phone, reason, at)
        self.world.calls[call.id] = call
        self.world.queues[dept.id].append(call.id)
        waited = self.wall() - at
        patience = rng.expovariate(1.0 / MEAN_PATIENCE_S)
        if patience + waited >= dept.max_wait_time:
            self._schedule(max(0.0, dept.max_wait_time - waited), "leave", call.id, "missed")
        else:
            early = patience < 12 and rng.random() < 0.5
            self._schedule(patience, "leave", call.id, "cancelled" if early else "abandoned")
        self.broadcast(f"queue:{dept.id}", "customer_joined", self.customer_json(call))
        return call

    def customer_json(self, call: Call) -> dict[str, Any]:
        """The ``customer_joined`` payload (also the ``--join-snapshot`` item)."""
        position = self.world.position(call)
        return {
            "call_id": call.id,
            "department_id": call.department_id,
            "customer_name": call.customer_name,
            "customer_email": call.customer_email,
            "customer_phone": call.customer_phone,
            "reason": call.reason,
            "position": position,
            "queued_at": iso(call.inserted_at),
            "estimated_wait_time": self.estimated_wait(call.department_id, position or 1),
        }

    def estimated_wait(self, department_id: str, position: int) -> int:
        # Present agents, from the presence table: O(1), where scanning every agent per
        # arrival made a 2,000-agent scenario crawl.
        online = self.online_agents(department_id)
        return round(position * MEAN_CALL_S / max(1, online))

    def online_agents(self, department_id: str) -> int:
        return self.presence.count(f"presence:{department_id}")

    def _leave(self, call_id: str, reason: str) -> None:
        call = self.world.calls.get(call_id)
        if call is None or call.status != "queued":
            return
        self.world.queues[call.department_id].remove(call_id)
        call.status = "cancelled" if reason == "cancelled" else "missed"
        call.left_at = self.wall()
        payload = {"call_id": call.id, "department_id": call.department_id, "reason": reason}
        self.broadcast(f"queue:{call.department_id}", "customer_left", payload)

    def _dispatch(self) -> None:
        """Give the oldest waiting customer of each department to its longest-idle agent."""
        for dept_id, queue in self.world.queues.items():
            while queue:
                idle = [
                    a
                    for a in self.agents.values()
                    if a.status == "available" and dept_id in a.user.department_ids
                ]
                if not idle:
                    break
                agent = min(idle, key=lambda a: (a.since, a.order))
                self._assign(self.world.calls[queue[0]], agent)

    def _assign(self, call: Call, agent: AgentState | None) -> None:
        now = self.wall()
        self.world.queues[call.department_id].remove(call.id)
        call.status, call.assigned_at, call.started_at = "active", now, now
        user = agent.user if agent else self.rng.choice(self.world.members(call.department_id))
        call.user_id = user.id
        payload = {
            "call_id": call.id,
            "department_id": call.department_id,
            "user_id": user.id,
            "user_name": user.name,
            "assigned_at": iso(now),
        }
        self.broadcast(f"queue:{call.department_id}", "call_assigned", payload)
        if agent is None:  # synthetic load: the call ends at once, presence untouched
            call.status, call.completed_at = "completed", now
            return
        self._set_status(agent, "in_call", call.id)

    def _end_call(self, agent: AgentState, gen: int) -> None:
        if agent.gen != gen or agent.status != "in_call":
            return
        call = self.world.calls.get(agent.call_id or "")
        if call is not None and call.status == "active":
            call.status, call.completed_at = "completed", self.wall()
            call.rating = self.rng.choice((None, 2, 3, 4, 5, 5))
        self._set_status(agent, "available" if self.rng.random() < 0.85 else "away")

    def _prune_calls(self) -> None:
        done = [cid for cid, c in self.world.calls.items() if c.status not in ("queued", "active")]
        for cid in done[: len(self.world.calls) - MAX_KEPT_CALLS * 4 // 5]:
            del self.world.calls[cid]

    # ---- agents -------------------------------------------------------------------------

    def _topics(self, agent: AgentState) -> list[str]:
        return [f"presence:{d}" for d in agent.user.department_ids]

    def _go_online(self, agent: AgentState, devices: int) -> None:
        agent.devices = devices
        for topic in self._topics(agent):
            for device in range(devices):
                agent.refs[(topic, device)] = self.presence.track(topic, agent.key, agent.meta())

    def _slots(self, agent: AgentState) -> list[tuple[tuple[str, int], str]]:
        """An agent's (topic, device) -> phx_ref, by department order, then device."""
        return sorted(agent.refs.items(), key=lambda i: (self._topic_order[i[0][0]], i[0][1]))

    def _go_offline(self, agent: AgentState) -> None:
        for (topic, _), ref in self._slots(agent):
            self.presence.untrack(topic, agent.key, ref)
        agent.refs.clear()
        agent.devices = 0
        agent.status, agent.since, agent.call_id = "offline", self.wall(), None
        agent.gen += 1
        self._plan(agent)

    def _set_status(self, agent: AgentState, status: str, call_id: str | None = None) -> None:
        agent.status, agent.since, agent.call_id = status, self.wall(), call_id
        agent.gen += 1
        for slot, ref in self._slots(agent):
            agent.refs[slot] = self.presence.update(slot[0], agent.key, ref, agent.meta())
        if status == "in_call":
            self._schedule(self._exp(MEAN_CALL_S) + 10, "end_call", agent.user.id, agent.gen)
        else:
            self._plan(agent)

    def _plan(self, agent: AgentState) -> None:
        if agent.status == "available":
            self._schedule(self._exp(MEAN_AVAILABLE_S), "idle_end", agent.user.id, agent.gen)
        elif agent.status in MEAN_BREAK_S:
            mean = MEAN_BREAK_S[agent.status]
            self._schedule(self._exp(mean), "back", agent.user.id, agent.gen)

    def _toggle_device(self, agent: AgentState) -> None:
        if agent.status == "offline":
            return
        if agent.devices == 1:
            for topic in self._topics(agent):
                agent.refs[(topic, 1)] = self.presence.track(topic, agent.key, agent.meta())
            agent.devices = 2
        else:
            for topic in self._topics(agent):
                ref = agent.refs.pop((topic, 1), None)
                if ref is not None:
                    self.presence.untrack(topic, agent.key, ref)
            agent.devices = 1

    # ---- notifications and synthetic load -------------------------------------------------

    def _notify(self) -> None:
        users = list(self.world.users.values())
        user = self.rng.choice(users[:4] if self.rng.random() < 0.5 else users)
        now = self.wall()
        if self.rng.random() < 0.25 and user.department_ids:
            payload: dict[str, Any] = {
                "appointment_id": next(self._notification_ids),
                "title": f"Retorno agendado: {person_name(self.rng)}",
                "scheduled_at": iso(now + 900),
                "department_id": self.rng.choice(user.department_ids),
            }
            self.broadcast(f"notification:{user.id}", "appointment_reminder", payload)
            return
        title, body, kind = self.rng.choice(NOTIFICATION_TITLES)
        payload = {
            "id": next(self._notification_ids),
            "title": title,
            "body": body,
            "kind": kind,
            "inserted_at": iso(now),
        }
        self.broadcast(f"notification:{user.id}", "new_notification", payload)

    def _synthetic_event(self) -> None:
        rng = self.rng
        dept = rng.choice(list(self.world.departments.values()))
        queue = self.world.queues[dept.id]
        if rng.random() < 0.2:
            online = [a for a in self.agents.values() if a.status in ("available", "away")]
            if online:
                agent = rng.choice(online)
                self._set_status(agent, "away" if agent.status == "available" else "available")
                return
        if len(queue) < 3 or (len(queue) < 8 and rng.random() < 0.5):
            self._arrive(dept, rng)
        elif rng.random() < 0.5 or not self.world.members(dept.id):
            self._leave(queue[0], "abandoned")
        else:
            self._assign(self.world.calls[queue[0]], None)

    # ---- ground truth -------------------------------------------------------------------

    def state(self) -> list[dict[str, Any]]:
        """Per department: waiting call ids in queue order, and agents as presence shows them."""
        out = []
        for dept in self.world.departments.values():
            agents = []
            for key, entry in self.presence.snapshot(f"presence:{dept.id}").items():
                last = entry["metas"][-1]
                agents.append(
                    {
                        "user_id": key,
                        "status": last["status"],
                        "devices": len(entry["metas"]),
                        "name": last["name"],
                        "call_id": last["call_id"],
                        "since": last["since"],
                    }
                )
            out.append(
                {
                    "id": dept.id,
                    "name": dept.name,
                    "waiting": list(self.world.queues[dept.id]),
                    "agents": agents,
                }
            )
        return out
