"""The simulated tenant's data: departments, users, calls and access links.

Every id is a UUID string, as in Voki (its guide names the topics ``queue:department_uuid``).
Everything is derived from the seed, so two simulators with one seed agree on every id and
name; only wall-clock timestamps differ. Directory ids (departments, sectors, users, access
links) come from ``directory_uuid`` (seed, kind and ordinal hashed), so they do not depend on
how many departments or agents a run has, and they survive a restart like database rows;
call ids are drawn per (seed, boot) by the scenario.
"""

from __future__ import annotations

import hashlib
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
    id: str
    name: str
    identifier: str
    description: str
    sector_id: str
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
    id: str
    name: str
    email: str
    role: str
    department_ids: list[str]
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
    department_id: str
    customer_name: str
    customer_email: str | None
    customer_phone: str | None
    reason: str | None
    inserted_at: float
    status: str = "queued"  # queued | active | completed | missed | cancelled
    user_id: str | None = None
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
    id: str
    token: str
    name: str
    department_id: str
    status: str  # active | expired
    expires_at: float
    inserted_at: float


@dataclass(slots=True)
class World:
    """The tenant's records. Mutated only from the event loop thread."""

    departments: dict[str, Department]
    users: dict[str, User]
    links: dict[str, AccessLink]
    calls: dict[str, Call] = field(default_factory=dict)
    queues: dict[str, list[str]] = field(default_factory=dict)  # waiting call ids, oldest first

    def members(self, department_id: str) -> list[User]:
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


def directory_uuid(seed: int, kind: str, ordinal: int) -> str:
    """The id of the ``ordinal``-th ``kind`` (department, sector, user, access_link) of a seed.

    A hash, not a draw from the scenario's generator: adding UUIDs left every name and event
    of a seed as it was, and an id does not shift when ``--departments`` or ``--agents`` does.
    """
    digest = hashlib.sha256(f"voki-sim:{seed}:{kind}:{ordinal}".encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def build_world(config: SimConfig, rng: random.Random, now: float) -> World:
    """The directory: departments, demo accounts, agents and access links (no calls yet)."""
    seed = config.seed

    def ident(kind: str, ordinal: int) -> str:
        return directory_uuid(seed, kind, ordinal)

    departments: dict[str, Department] = {}
    for i in range(config.departments):
        name = department_name(i)
        dept_id = ident("department", i + 1)
        departments[dept_id] = Department(
            id=dept_id,
            name=name,
            identifier=ascii_slug(name),
            description=f"Fila de atendimento por vídeo: {name}",
            sector_id=ident("sector", 1 + i % 3),
            max_queue_size=rng.choice((10, 15, 20, 30)),
            max_wait_time=rng.choice((180, 240, 300, 420, 600)),
            arrival_interval=rng.uniform(30.0, 60.0),
            inserted_at=now - 86400 * rng.randint(30, 400),
        )
    dept_ids = list(departments)
    created = now - 86400 * 200
    demo = [
        ("Marina Duarte", DEMO_EMAILS["manager"], "manager", []),
        ("Carlos Menezes", DEMO_EMAILS["supervisor"], "supervisor", []),
        ("Júlia Prado", DEMO_EMAILS["attendant"], "attendant", dept_ids[:2]),
        ("Otávio Reis", DEMO_EMAILS["mfa"], "supervisor", []),
    ]
    users: dict[str, User] = {}
    for n, (name, email, role, member_of) in enumerate(demo, start=1):
        uid = ident("user", n)
        users[uid] = User(uid, name, email, role, list(member_of), created)
    attendant, mfa = (users[ident("user", n)] for n in (3, 4))
    attendant.is_agent = True
    mfa.mfa_secret = random_base32_secret(rng)
    taken = {u.name for u in users.values()}
    for n in range(config.agents):
        name = person_name(rng)
        while name in taken:
            name = person_name(rng)
        taken.add(name)
        places = [n % len(dept_ids)]  # department ordinals: memberships in directory order
        if len(dept_ids) > 1 and rng.random() < 0.3:
            places.append(rng.choice([d for d in range(len(dept_ids)) if d not in places]))
        ordinal = 5 + n
        uid = ident("user", ordinal)
        email = f"{ascii_slug(name, '.')}.{ordinal}@demo.test"
        users[uid] = User(
            uid, name, email, "attendant", [dept_ids[d] for d in sorted(places)], created,
            is_agent=True,
        )  # fmt: skip
    links: dict[str, AccessLink] = {}
    for dept in departments.values():
        link_id = ident("access_link", len(links) + 1)
        links[link_id] = AccessLink(
            link_id, f"link-{rng.getrandbits(64):016x}", f"Site: {dept.name}", dept.id,
            "active", now + 86400 * 90, now - 86400 * 10,
        )  # fmt: skip
    first = departments[dept_ids[0]]
    link_id = ident("access_link", len(links) + 1)
    links[link_id] = AccessLink(
        link_id, f"link-{rng.getrandbits(64):016x}", f"Campanha antiga: {first.name}",
        first.id, "expired", now - 86400 * 3, now - 86400 * 60,
    )  # fmt: skip
    return World(departments, users, links, queues={d: [] for d in dept_ids})
