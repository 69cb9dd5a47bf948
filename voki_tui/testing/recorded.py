"""A recorded session without a network: a ``LiveFeed`` driven by scripted socket events and
REST answers on a fake clock, with ``--record``'s ``Recorder`` attached.

``record_session`` returns every document the feed published (each ``feed.snapshot()`` is a
``Tick``, as the publisher's are), in order, so a test can check that a replay of the files
shows exactly these at exactly their instants. Three departments go live, customers come and
go, agents change status, a notification arrives, the link drops and comes back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from voki_tui.api.client import VokiClient
from voki_tui.api.models import Call
from voki_tui.api.session import Session
from voki_tui.live.document import snapshot_document
from voki_tui.live.feed import ForwardClock, LiveFeed
from voki_tui.live.figures import with_rules
from voki_tui.live.record import Recorder
from voki_tui.live.rules import RuleConfig
from voki_tui.live.state import Department, UserInfo
from voki_tui.live.steps import Start
from voki_tui.phoenix import core

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
USER = UserInfo(id="u-100", name="Marina Souza", email="marina@acme.example", role="supervisor")
DEPARTMENTS = tuple(
    with_rules(department, RuleConfig())
    for department in (
        Department("d-support", "Suporte", max_queue_size=10, max_wait_time=300),
        Department("d-sales", "Vendas", max_queue_size=6, max_wait_time=120),
        Department("d-finance", "Financeiro"),
    )
)
NAMES = ("Ana Lima", "Bruno Costa", "Carla Dias", "Davi Rocha", "Elisa Prado", "Fábio Reis")
REASONS = ("Segunda via", "Troca de plano", "Cancelamento", "Suporte técnico")


class Clock:
    """The server's time and this process's monotonic time, moved by the script."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def wall(self) -> datetime:
        return T0 + timedelta(seconds=self.seconds)

    def monotonic(self) -> float:
        return 5000.0 + self.seconds


class _Offset:
    offset_s = 0.25  # the server's clock a quarter of a second ahead of this box's


class ScriptedRest:
    """``calls``: a department's queued calls (``status="queued"``), else its hour of history."""

    server = "https://voki.example"
    tenant = "acme"
    insecure = False
    server_time = _Offset()
    skipped_items = 0

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.queued: dict[str, list[dict[str, Any]]] = {d.id: [] for d in DEPARTMENTS}

    async def calls(self, **filters: Any) -> list[Call]:
        ident = filters["department_id"]
        if filters.get("status") == "queued":
            return [Call.model_validate(item) for item in self.queued[ident]]
        start = self.clock.wall() - timedelta(minutes=50)
        history = []
        for n in range(12):
            queued = start + timedelta(minutes=4 * n)
            item = {
                "id": f"{ident}-h{n}",
                "department_id": ident,
                "inserted_at": queued.isoformat(),
                "status": "completed" if n % 4 else "missed",
            }
            if n % 4:
                item["assigned_at"] = (queued + timedelta(seconds=15 + 9 * n)).isoformat()
            else:
                item["completed_at"] = (queued + timedelta(seconds=200)).isoformat()
            history.append(item)
        return [Call.model_validate(item) for item in history]


class SessionStandIn:
    """What the feed reads of a session that nobody drives."""

    not_saved: str | None = None
    refresh_count = adopted_count = relogin_count = 0


async def _settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


def _agents(ident: str, busy: int) -> dict[str, Any]:
    state: dict[str, Any] = {}
    for n in range(4):
        status = "in_call" if n < busy else ("away" if n == 3 else "available")
        meta = {"phx_ref": f"{ident}-{n}", "status": status, "name": f"Agente {n + 1} {ident[2:]}"}
        state[f"{ident}-agent-{n}"] = {"metas": [meta]}
    return state


async def record_session(
    directory: Path,
    *,
    max_bytes: int = 10_000_000,
    part_bytes: int | None = None,
    seconds: int = 90,
) -> list[dict[str, Any]]:
    """Run the scripted session into ``directory``; every document published, in order."""
    clock = Clock()
    rest = ScriptedRest(clock)
    recorder = Recorder(directory, max_bytes, part_bytes=part_bytes, wall=lambda: 1.7e9)
    feed = LiveFeed(
        cast(VokiClient, rest),
        cast(Session, SessionStandIn()),
        clock=ForwardClock(clock.wall),  # as the live feed stamps: never one instant twice
        monotonic=clock.monotonic,
        recorder=recorder,
    )
    published: list[dict[str, Any]] = []
    feed._notify = lambda _note: None

    def publish() -> None:  # as the feed's publisher does
        published.append(snapshot_document(feed.snapshot()))
        recorder.flush()

    def event(message: core.Event) -> None:
        feed._on_event(0, message)

    def join_all(first_ref: int) -> None:
        for n, department in enumerate(DEPARTMENTS):
            ref = str(first_ref + 2 * n)
            event(core.ChannelJoined(f"queue:{department.id}", ref, {}))
            presence_ref = str(first_ref + 2 * n + 1)
            event(core.ChannelJoined(f"presence:{department.id}", presence_ref, {}))
            state = _agents(department.id, busy=n % 3)
            event(core.Message(f"presence:{department.id}", "presence_state", state, presence_ref))

    feed._step(Start(USER))
    feed.watch(DEPARTMENTS)
    publish()
    clock.seconds = 0.4
    event(core.Connected())
    publish()  # connected, nothing joined yet: syncing
    clock.seconds = 0.6
    for n, department in enumerate(DEPARTMENTS):
        for k in range(n + 1):
            queued = clock.wall() - timedelta(seconds=40 * (k + 1))
            rest.queued[department.id].append(
                {
                    "id": f"{department.id}-q{k}",
                    "department_id": department.id,
                    "customer_name": NAMES[(n + k) % len(NAMES)],
                    "reason": REASONS[k % len(REASONS)],
                    "inserted_at": queued.isoformat(),
                    "status": "queued",
                }
            )
    join_all(1)
    await _settle()
    publish()
    calls = 0
    for second in range(1, seconds + 1):
        clock.seconds = float(second)
        department = DEPARTMENTS[second % len(DEPARTMENTS)]
        topic = f"queue:{department.id}"
        if second % 4 == 1:
            calls += 1
            payload = {
                "call_id": f"live-{calls}",
                "customer_name": NAMES[calls % len(NAMES)],
                "reason": REASONS[calls % len(REASONS)],
                "queued_at": clock.wall().isoformat(),
                "position": None,
            }
            event(core.Message(topic, "customer_joined", payload, None))
        elif second % 4 == 3 and calls > 1:
            done = {"call_id": f"live-{calls - 1}"}
            name = "call_assigned" if calls % 3 else "customer_left"
            if name == "customer_left":
                done["reason"] = "abandoned"
            else:
                done["user_id"] = f"{department.id}-agent-2"
            for other in DEPARTMENTS:
                event(core.Message(f"queue:{other.id}", name, done, None))
        if second % 10 == 5:
            ident = department.id
            meta = {"phx_ref": f"{ident}-x{second}", "status": "paused", "name": "Agente 3"}
            diff = {
                "joins": {f"{ident}-agent-2": {"metas": [meta]}},
                "leaves": {
                    f"{ident}-agent-2": {"metas": [{"phx_ref": f"{ident}-2", "status": "x"}]}
                },
            }
            event(core.Message(f"presence:{ident}", "presence_diff", diff, None))
        if second == 20:
            note = {"id": "n1", "kind": "info", "title": "Aviso", "body": "Fila cheia em Vendas"}
            event(core.Message("notification:u-100", "new_notification", note, None))
        if second == 40:
            event(core.Disconnected(1006, "", None))
            event(core.ReconnectScheduled(at=clock.monotonic() + 3.0, attempt=1))
        if second == 43:
            event(core.Connected())
            publish()
            clock.seconds += 0.3
            join_all(100)
            await _settle()
        publish()
    recorder.close()
    return published


def replayed(directory: Path) -> Callable[[str], dict[str, Any]]:
    """The document ``replay --at`` gives for an instant of the recording in ``directory``."""
    from voki_tui.live.recording import Player, open_recording, parse_moment

    recording = open_recording(directory)
    player = Player(recording)

    def at(instant: str) -> dict[str, Any]:
        player.seek(parse_moment(instant, recording))
        return snapshot_document(player.snapshot())

    return at
