"""Deterministic stand-ins for the app's ports, and builders of realistic feed state.

Every UI test drives ``VokiApp`` through these: a ``FakeAuth`` with scripted answers, a
``FakeFeed`` that publishes what the test gives it, a ``FrozenClock`` the test moves by hand, and
builders that make snapshots relative to one fixed instant ``T0`` (so ages are exact and
snapshots are byte-stable). ``scripts/screenshots.py`` and the benchmarks use the same ones.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from voki_tui.live.state import (
    Agent,
    Connection,
    Counters,
    Department,
    DepartmentView,
    FeedSnapshot,
    LinkState,
    Metrics,
    Notification,
    Source,
    SourceState,
    UserInfo,
    WaitingCustomer,
)
from voki_tui.ports import DepartmentList, LastLogin, Notify, Progress, Publish, Retrying
from voki_tui.settings import Settings

T0 = datetime(2026, 3, 2, 14, 30, 0, tzinfo=UTC)
SERVER = "https://voki.example.com.br"
TENANT = "acme"

HOSTILE = "[@click=app.quit]x[/] \x1b]0;pwned\x07 \u202e"
"""A name that would quit the app if parsed as markup and retitle a terminal if printed raw."""


class FrozenClock:
    """A clock that only moves when the test says so."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


SUPERVISOR = UserInfo(
    id="u-100", name="Marina Souza", email="marina@acme.com.br", role="supervisor", locale="en"
)
ATTENDANT = UserInfo(
    id="u-200", name="João Pereira", email="joao@acme.com.br", role="attendant", locale="en"
)


def department(
    dep_id: str = "d-sales",
    name: str = "Vendas",
    *,
    max_queue_size: int | None = 10,
    max_wait_time: int | None = 120,
    sla_threshold_s: int = 60,
) -> Department:
    return Department(
        id=dep_id,
        name=name,
        max_queue_size=max_queue_size,
        max_wait_time=max_wait_time,
        sla_threshold_s=sla_threshold_s,
    )


DEPARTMENTS = (
    department("d-sales", "Vendas", max_queue_size=10, max_wait_time=120),
    department("d-support", "Suporte Técnico", max_queue_size=20, max_wait_time=300),
    department("d-billing", "Financeiro", max_queue_size=5, max_wait_time=180),
)


def customer(
    call_id: str,
    name: str,
    waited_s: float,
    *,
    department_id: str = "d-sales",
    reason: str | None = "Dúvida sobre plano",
    now: datetime = T0,
    position: int | None = None,
    seen_s: float | None = None,
) -> WaitingCustomer:
    """A customer who joined ``waited_s`` seconds before ``now`` (seen ``seen_s`` ago)."""
    queued_at = now - timedelta(seconds=waited_s)
    first_seen = now - timedelta(seconds=seen_s if seen_s is not None else waited_s)
    return WaitingCustomer(
        call_id=call_id,
        department_id=department_id,
        customer_name=name,
        reason=reason,
        queued_at=queued_at,
        position=position,
        first_seen=first_seen,
    )


def agent(
    user_id: str,
    name: str,
    status: str = "available",
    in_status_s: float = 300,
    *,
    devices: int = 1,
    call_id: str | None = None,
    now: datetime = T0,
    role: str | None = "attendant",
) -> Agent:
    return Agent(
        user_id=user_id,
        name=name,
        status=status,
        since=now - timedelta(seconds=in_status_s),
        devices=devices,
        call_id=call_id,
        role=role,
    )


def metrics_for(
    waiting: Sequence[WaitingCustomer],
    agents: Sequence[Agent],
    *,
    now: datetime = T0,
    answered: int = 12,
    answered_within: int = 9,
    abandoned: int = 2,
    abandoned_after_threshold: int = 1,
    asa_s: float | None = 48.0,
    threshold_s: int = 60,
) -> Metrics:
    """Metrics consistent with ``waiting`` and ``agents``; window counts as given."""
    longest = max(((now - c.queued_at).total_seconds() for c in waiting), default=None)
    denominator_sl = answered + abandoned_after_threshold
    denominator_ab = answered + abandoned
    known = {"available", "in_call", "away", "paused"}
    return Metrics(
        waiting=len(waiting),
        longest_wait_s=longest,
        asa_s=asa_s if answered else None,
        answered=answered,
        answered_within=answered_within,
        abandoned=abandoned,
        abandoned_after_threshold=abandoned_after_threshold,
        service_level=answered_within / denominator_sl if denominator_sl else None,
        abandonment_rate=abandoned / denominator_ab if denominator_ab else None,
        agents_present=len(agents),
        agents_available=sum(a.status == "available" for a in agents),
        agents_in_call=sum(a.status == "in_call" for a in agents),
        agents_away=sum(a.status in ("away", "paused") for a in agents),
        agents_other=sum(a.status not in known for a in agents),
        window_s=3600,
        threshold_s=threshold_s,
    )


def history(points: Iterable[int], *, now: datetime = T0) -> tuple[tuple[datetime, int], ...]:
    """One (minute, waiting) point per value, the last one at ``now``'s minute."""
    values = list(points)
    start = now.replace(second=0, microsecond=0) - timedelta(minutes=len(values) - 1)
    return tuple((start + timedelta(minutes=i), v) for i, v in enumerate(values))


def view(
    dep: Department,
    waiting: Sequence[WaitingCustomer] = (),
    agents: Sequence[Agent] = (),
    *,
    now: datetime = T0,
    source_state: SourceState = SourceState.SYNCED,
    waiting_history: Sequence[int] = (),
    **metric_overrides: float | int | None,
) -> DepartmentView:
    ordered = tuple(sorted(waiting, key=lambda c: c.queued_at))
    people = tuple(sorted(agents, key=lambda a: (a.name, a.user_id)))
    source = Source(state=source_state, as_of=now)
    return DepartmentView(
        department=dep,
        waiting=ordered,
        agents=people,
        metrics=metrics_for(
            ordered,
            people,
            now=now,
            threshold_s=dep.sla_threshold_s,
            **metric_overrides,  # type: ignore[arg-type]
        ),
        queue=source,
        presence=source,
        waiting_history=history(waiting_history, now=now),
    )


def busy_views(now: datetime = T0) -> tuple[DepartmentView, ...]:
    """Three departments in different states: one over its wait limit, one calm, one empty."""
    sales, support, billing = DEPARTMENTS
    sales_view = view(
        sales,
        [
            customer("c-1", "Ana Beatriz Lima", 185, now=now),
            customer("c-2", "Carlos Eduardo", 95, reason="Cancelamento", now=now),
            customer("c-3", "Fernanda Oliveira", 40, reason=None, now=now),
            customer("c-4", "Rafael Costa", 4, reason="Segunda via", now=now, seen_s=4),
        ],
        [
            agent("a-1", "Beatriz Santos", "in_call", 240, call_id="c-0", now=now),
            agent("a-2", "Diego Alves", "available", 35, devices=2, now=now),
            agent("a-3", "Helena Rocha", "paused", 610, now=now),
        ],
        now=now,
        waiting_history=[1, 2, 2, 3, 5, 4, 4, 3, 4],
    )
    support_view = view(
        support,
        [customer("c-10", "Luís Fernando", 30, department_id="d-support", now=now)],
        [
            agent("a-4", "Igor Martins", "available", 1200, now=now),
            agent("a-5", "Juliana Prado", "on_break_custom", 90, now=now),
        ],
        now=now,
        waiting_history=[0, 1, 1, 1],
        answered=30,
        answered_within=29,
        abandoned=0,
        abandoned_after_threshold=0,
        asa_s=12.0,
    )
    billing_view = view(
        billing,
        [],
        [],
        now=now,
        answered=0,
        answered_within=0,
        abandoned=0,
        abandoned_after_threshold=0,
    )
    return (sales_view, support_view, billing_view)


def connection(
    state: LinkState = LinkState.LIVE,
    *,
    now: datetime = T0,
    data_age_s: float = 0.0,
    retry_in_s: float = 5.0,
    since_s: float = 0.0,
    attempt: int = 0,
    detail: str | None = None,
) -> Connection:
    """A connection in ``state``; reconnecting ones retry ``retry_in_s`` after ``now``."""
    retry_at = now + timedelta(seconds=retry_in_s) if state is LinkState.RECONNECTING else None
    return Connection(
        state=state,
        since=now - timedelta(seconds=since_s),
        retry_at=retry_at,
        attempt=attempt,
        data_as_of=now - timedelta(seconds=data_age_s),
        detail=detail,
    )


def snapshot(
    views: Sequence[DepartmentView] | None = None,
    *,
    version: int = 1,
    now: datetime = T0,
    user: UserInfo | None = SUPERVISOR,
    conn: Connection | None = None,
    counters: Counters | None = None,
) -> FeedSnapshot:
    return FeedSnapshot(
        version=version,
        taken_at=now,
        server=SERVER,
        tenant=TENANT,
        user=user,
        connection=conn if conn is not None else connection(now=now),
        departments=tuple(views) if views is not None else busy_views(now),
        counters=counters
        if counters is not None
        else Counters(frames_received=1234, malformed_frames=2, unknown_events=1, reconnects=3),
    )


def stale(snap: FeedSnapshot, *, age_s: float = 42.0, now: datetime = T0) -> FeedSnapshot:
    """``snap`` as it looks after the link has been down for ``age_s`` seconds."""
    conn = connection(LinkState.RECONNECTING, now=now, data_age_s=age_s, since_s=age_s, attempt=3)
    gone = tuple(
        replace(v, queue=replace(v.queue, state=SourceState.STALE)) for v in snap.departments
    )
    return replace(snap, connection=conn, departments=gone, version=snap.version + 1)


def notification(
    title: str = "Lembrete", body: str = "Reunião às 15:00", *, nid: str = "n-1"
) -> Notification:
    return Notification(id=nid, kind="info", title=title, body=body, at=T0)


class FakeFeed:
    """A ``FeedRunner`` that publishes ``initial`` at once, then whatever the test pushes.

    Each exception in ``crashes`` is raised by one run, after publishing (a bug in the feed).
    With ``restart``, a run after the first waits for it before publishing: the test looks at
    the board between a crash and the restart, however slow the machine.
    """

    def __init__(
        self,
        initial: Sequence[FeedSnapshot] = (),
        crashes: Sequence[Exception] = (),
        restart: asyncio.Event | None = None,
    ) -> None:
        self.initial = list(initial)
        self.crashes = list(crashes)
        self.restart = restart
        self.departments: tuple[Department, ...] | None = None
        self.runs = 0
        self.cancelled = False
        self.running = asyncio.Event()
        self._publish: Publish | None = None
        self._notify: Notify | None = None

    async def run(
        self, departments: Sequence[Department], publish: Publish, notify: Notify
    ) -> None:
        self.runs += 1
        self.departments = tuple(departments)
        self._publish, self._notify = publish, notify
        if self.runs > 1 and self.restart is not None:
            await self.restart.wait()
        for snap in self.initial:
            publish(snap)
        if self.crashes:
            raise self.crashes.pop(0)
        self.running.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled = True
            raise

    def push(self, snap: FeedSnapshot) -> None:
        assert self._publish is not None, "the app has not started the feed"
        self._publish(snap)

    def notify(self, note: Notification) -> None:
        assert self._notify is not None, "the app has not started the feed"
        self._notify(note)


@dataclass
class FakeAuth:
    """An ``Authenticator`` whose answers are scripted; records every call (never a password).

    ``restored`` is the user an unattended sign-in gives (None: there is nothing to sign in
    with, so the app shows the login form). ``resume_script`` scripts ``resume`` instead: each
    ``Retrying`` is reported to the app's progress callback as a failed attempt, then the next
    entry is taken; an ``asyncio.Event`` holds the sign-in until the test sets it; a user is
    returned, an exception raised. ``await_sign_in`` returns
    ``signed_in_later`` once the test sets ``sign_in_event``.
    """

    restored: UserInfo | None = None
    resume_script: list[UserInfo | Retrying | Exception | asyncio.Event] = field(
        default_factory=list
    )
    login_results: list[UserInfo | Exception] = field(default_factory=list)
    mfa_results: list[UserInfo | Exception] = field(default_factory=list)
    department_list: DepartmentList = field(
        default_factory=lambda: DepartmentList(DEPARTMENTS, total=len(DEPARTMENTS))
    )
    remembered: LastLogin | None = None
    signed_in_later: UserInfo | None = None
    sign_in_event: asyncio.Event = field(default_factory=asyncio.Event)
    calls: list[tuple[str, ...]] = field(default_factory=list)
    call_customers: dict[str, str] = field(default_factory=dict)
    department_members: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)

    def last(self) -> LastLogin | None:
        if self.remembered is None and self.can_resume():
            return LastLogin(SERVER, TENANT, SUPERVISOR.email)
        return self.remembered

    def can_resume(self) -> bool:
        return self.restored is not None or bool(self.resume_script)

    async def resume(
        self, progress: Progress = lambda _attempt: None, *, deadline: float | None = None
    ) -> UserInfo | None:
        self.calls.append(("resume",))
        while self.resume_script:
            step = self.resume_script.pop(0)
            if isinstance(step, Retrying):
                progress(step)
                await asyncio.sleep(0)
                continue
            if isinstance(step, asyncio.Event):  # hold here until the test sets it
                await step.wait()
                continue
            if isinstance(step, Exception):
                raise step
            return step
        return self.restored

    async def await_sign_in(self) -> UserInfo:
        self.calls.append(("await_sign_in",))
        await self.sign_in_event.wait()
        assert self.signed_in_later is not None, "FakeAuth.signed_in_later is not set"
        return self.signed_in_later

    async def login(self, server: str, tenant: str, email: str, password: str) -> UserInfo:
        self.calls.append(("login", server, tenant, email))
        return self._next(self.login_results)

    async def verify_mfa(self, mfa_token: str, code: str) -> UserInfo:
        self.calls.append(("verify_mfa", mfa_token, code))
        return self._next(self.mfa_results)

    async def logout(self) -> None:
        self.calls.append(("logout",))

    async def close(self) -> None:
        self.calls.append(("close",))

    async def customer_of(self, call_id: str) -> str | None:
        self.calls.append(("customer_of", call_id))
        return self.call_customers.get(call_id)

    async def members(self, department_id: str) -> tuple[tuple[str, str], ...] | None:
        self.calls.append(("members", department_id))
        return self.department_members.get(department_id)

    async def departments(
        self, progress: Progress = lambda _attempt: None, *, deadline: float | None = None
    ) -> DepartmentList:
        self.calls.append(("departments",))
        return self.department_list

    @staticmethod
    def _next(results: list[UserInfo | Exception]) -> UserInfo:
        assert results, "FakeAuth was asked more often than scripted"
        result = results.pop(0)
        if isinstance(result, Exception):
            raise result
        return result


def options(**overrides: object) -> Settings:
    """Settings for tests: English, dark theme, unless overridden."""
    base = Settings(server=SERVER, tenant=TENANT, email=SUPERVISOR.email, lang="en")
    return replace(base, **overrides)  # type: ignore[arg-type]
