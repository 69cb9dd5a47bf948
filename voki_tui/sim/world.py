"""The simulated tenant's data: departments, users, calls and access links.

Ids follow Voki (Ecto): departments, users and access links are integers, calls are UUIDs.
Everything is derived from the seed, so two simulators with one seed agree on every id and
name; only wall-clock timestamps differ.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from .config import SimConfig
from .names import ascii_slug, department_name, person_name
from .totp import random_base32_secret

DEMO_TENANT = "demo"
DEMO_PASSWORD = "voki-demo-pass"  # noqa: S105 - the documented public demo password
DEMO_EMAILS: dict[str, str] = {
    "manager": "manager@demo.test",
    "supervisor": "supervisor@demo.test",
    "attendant": "attendant@demo.test",
    "mfa": "mfa@demo.test",
}
COMPANY_NAME = "Demo Telecom"
ROLES = ("attendant", "supervisor", "manager")


def iso(ts: float | None) -> str | None:
    """Epoch seconds -> ``2026-11-23T22:12:04Z`` (Ecto ``utc_datetime``), None stays None."""
    if ts is None:
        return None
    return datetime.fromtimestamp(int(ts), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def role_rank(role: str) -> int:
    """attendant < supervisor < manager; unknown roles rank lowest."""
    return ROLES.index(role) if role in ROLES else -1


@dataclass(slots=True)
class Department:
    id: int
    name: str
    identifier: str
    description: str
    sector_id: int
    max_queue_size: int
    max_wait_time: int
    arrival_interval: float  # mean seconds between customers at speed 1
    inserted_at: float

    def to_json(self, user_count: int) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "identifier": self.identifier,
            "description": self.description,
            "active": True,
            "sector_id": self.sector_id,
            "max_queue_size": self.max_queue_size,
            "max_wait_time": self.max_wait_time,
            "user_count": user_count,
            "inserted_at": iso(self.inserted_at),
            "updated_at": iso(self.inserted_at),
        }


@dataclass(slots=True)
class User:
    id: int
    name: str
    email: str
    role: str
    department_ids: list[int]
    inserted_at: float
    mfa_secret: str | None = None
    is_agent: bool = False  # tracked in presence by the scenario
    locale: str = "pt-BR"

    def login_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "email": self.email,
            "role": self.role,
            "avatar_url": None,
            "mfa_enabled": self.mfa_secret is not None,
        }

    def to_json(self) -> dict[str, object]:
        return {
            **self.login_json(),
            "active": True,
            "locale": self.locale,
            "inserted_at": iso(self.inserted_at),
            "updated_at": iso(self.inserted_at),
        }


@dataclass(slots=True)
class Call:
    id: str
    department_id: int
    customer_name: str
    customer_email: str | None
    customer_phone: str | None
    reason: str | None
    inserted_at: float
    status: str = "queued"  # queued | active | completed | missed | cancelled
    user_id: int | None = None
    assigned_at: float | None = None
    started_at: float | None = None
    completed_at: float | None = None
    left_at: float | None = None  # when a customer left the queue unanswered
    rating: int | None = None

    def wait_time(self) -> int | None:
        end = self.assigned_at if self.assigned_at is not None else self.left_at
        return None if end is None else round(end - self.inserted_at)

    def duration(self) -> int | None:
        if self.started_at is None or self.completed_at is None:
            return None
        return round(self.completed_at - self.started_at)


@dataclass(slots=True)
class AccessLink:
    id: int
    token: str
    name: str
    department_id: int
    status: str  # active | expired
    expires_at: float
    inserted_at: float


@dataclass(slots=True)
class World:
    """The tenant's records. Mutated only from the event loop thread."""

    departments: dict[int, Department]
    users: dict[int, User]
    links: dict[int, AccessLink]
    calls: dict[str, Call] = field(default_factory=dict)
    queues: dict[int, list[str]] = field(default_factory=dict)  # waiting call ids, oldest first

    def members(self, department_id: int) -> list[User]:
        return [u for u in self.users.values() if department_id in u.department_ids]

    def user_by_email(self, email: str) -> User | None:
        wanted = email.strip().lower()
        return next((u for u in self.users.values() if u.email == wanted), None)

    def link_by_token(self, token: str) -> AccessLink | None:
        return next((link for link in self.links.values() if link.token == token), None)

    def position(self, call: Call) -> int | None:
        """1-based place in its department's queue, None once it left the queue."""
        if call.status != "queued":
            return None
        queue = self.queues.get(call.department_id, [])
        return queue.index(call.id) + 1 if call.id in queue else None

    def call_json(self, call: Call) -> dict[str, object]:
        """A ``GET /api/v1/calls`` item."""
        agent = self.users.get(call.user_id) if call.user_id is not None else None
        return {
            "id": call.id,
            "status": call.status,
            "department_id": call.department_id,
            "department_name": self.departments[call.department_id].name,
            "user_id": call.user_id,
            "user_name": agent.name if agent else None,
            "customer_name": call.customer_name,
            "customer_email": call.customer_email,
            "customer_phone": call.customer_phone,
            "reason": call.reason,
            "inserted_at": iso(call.inserted_at),
            "assigned_at": iso(call.assigned_at),
            "started_at": iso(call.started_at),
            "completed_at": iso(call.completed_at),
            "wait_time": call.wait_time(),
            "duration": call.duration(),
            "rating": call.rating,
        }

    def link_json(self, link: AccessLink, base_url: str) -> dict[str, object]:
        return {
            "id": link.id,
            "name": link.name,
            "token": link.token,
            "url": f"{base_url}/call/{link.token}",
            "status": link.status,
            "department_id": link.department_id,
            "department_name": self.departments[link.department_id].name,
            "expires_at": iso(link.expires_at),
            "inserted_at": iso(link.inserted_at),
        }


def new_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def build_world(config: SimConfig, rng: random.Random, now: float) -> World:
    """The directory: departments, demo accounts, agents and access links (no calls yet)."""
    departments: dict[int, Department] = {}
    for i in range(config.departments):
        name = department_name(i)
        departments[i + 1] = Department(
            id=i + 1,
            name=name,
            identifier=ascii_slug(name),
            description=f"Fila de atendimento por vídeo: {name}",
            sector_id=1 + i % 3,
            max_queue_size=rng.choice((10, 15, 20, 30)),
            max_wait_time=rng.choice((180, 240, 300, 420, 600)),
            arrival_interval=rng.uniform(30.0, 60.0),
            inserted_at=now - 86400 * rng.randint(30, 400),
        )
    dept_ids = list(departments)
    created = now - 86400 * 200
    users: dict[int, User] = {
        1: User(1, "Marina Duarte", DEMO_EMAILS["manager"], "manager", [], created),
        2: User(2, "Carlos Menezes", DEMO_EMAILS["supervisor"], "supervisor", [], created),
        3: User(3, "Júlia Prado", DEMO_EMAILS["attendant"], "attendant", dept_ids[:2], created),
        4: User(4, "Otávio Reis", DEMO_EMAILS["mfa"], "supervisor", [], created),
    }
    users[3].is_agent = True
    users[4].mfa_secret = random_base32_secret(rng)
    taken = {u.name for u in users.values()}
    for n in range(config.agents):
        name = person_name(rng)
        while name in taken:
            name = person_name(rng)
        taken.add(name)
        member_of = [dept_ids[n % len(dept_ids)]]
        if len(dept_ids) > 1 and rng.random() < 0.3:
            member_of.append(rng.choice([d for d in dept_ids if d not in member_of]))
        uid = 5 + n
        email = f"{ascii_slug(name, '.')}.{uid}@demo.test"
        users[uid] = User(uid, name, email, "attendant", sorted(member_of), created, is_agent=True)
    links: dict[int, AccessLink] = {}
    for dept in departments.values():
        link_id = len(links) + 1
        links[link_id] = AccessLink(
            link_id, f"link-{rng.getrandbits(64):016x}", f"Site: {dept.name}", dept.id,
            "active", now + 86400 * 90, now - 86400 * 10,
        )  # fmt: skip
    first = departments[dept_ids[0]]
    links[len(links) + 1] = AccessLink(
        len(links) + 1, f"link-{rng.getrandbits(64):016x}", f"Campanha antiga: {first.name}",
        first.id, "expired", now - 86400 * 3, now - 86400 * 60,
    )  # fmt: skip
    return World(departments, users, links, queues={d: [] for d in dept_ids})
