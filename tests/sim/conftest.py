"""Shared helpers for the voki-sim conformance suites.

Everything here is derived from the documentation (issue 2, voki-api.md, phoenix-protocol.md),
never from the simulator's code: the demo accounts and password are the ones issue 2 fixes, the
token claims are the ones voki-api.md section 3 documents, and TOTP is RFC 6238 computed here.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import pytest

from voki_tui.sim.testing import SimHandle, running_sim

TENANT = "demo"
PASSWORD = "voki-demo-pass"
MANAGER = "manager@demo.test"
SUPERVISOR = "supervisor@demo.test"
ATTENDANT = "attendant@demo.test"
MFA_USER = "mfa@demo.test"
# Passed as the sim's ``secret`` so the suites can mint their own (expired, forged) tokens.
SECRET = "conformance-suite-secret-long-enough-for-hs256"
HTTP_TIMEOUT = 10.0


@dataclass(frozen=True)
class Account:
    """A logged-in demo user: the tokens and the ``user`` object of the login answer."""

    access_token: str
    refresh_token: str
    user: dict[str, Any]

    @property
    def id(self) -> str:
        """The user's id: a uuid string (voki-api.md section 5: ``notification:{user_id}``)."""
        return str(self.user["id"])

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}", "X-Tenant": TENANT}


def login(sim: SimHandle, email: str) -> Account:
    """Log in over REST and unwrap the documented ``data`` object."""
    response = httpx.post(
        f"{sim.url}/api/auth/login",
        json={"email": email, "password": PASSWORD, "tenant": TENANT},
        timeout=HTTP_TIMEOUT,
    )
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    return Account(data["access_token"], data["refresh_token"], data["user"])


def api_get(sim: SimHandle, account: Account, path: str, **params: Any) -> httpx.Response:
    return httpx.get(
        f"{sim.url}/api/v1/{path}", headers=account.headers(), params=params, timeout=HTTP_TIMEOUT
    )


def resign(token: str, *, secret: str = SECRET, **changes: Any) -> str:
    """A real access token's claims, changed and signed again with HS256.

    Starting from a token the sim issued keeps whatever claims it adds beyond the documented
    ``sub``, ``tenant``, ``role`` and ``exp``, so a refusal is caused by the change alone.
    """
    claims = jwt.decode(token, options={"verify_signature": False})
    claims.update(changes)
    return jwt.encode(claims, secret, algorithm="HS256")


def totp(secret_b32: str, at: float | None = None, step: int = 30, digits: int = 6) -> str:
    """RFC 6238 TOTP (HMAC-SHA1), the 6-digit code the MFA user's authenticator would show."""
    padded = secret_b32.upper().replace(" ", "")
    padded += "=" * (-len(padded) % 8)
    key = base64.b32decode(padded)
    counter = int((time.time() if at is None else at) // step)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


def wait_for(condition: Callable[[], Any], timeout: float = 10.0, interval: float = 0.05) -> Any:
    """Poll ``condition`` until it returns something truthy; fail with a clear message."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


def attendant_departments(sim: SimHandle, manager: Account, attendant: Account) -> set[str]:
    """The departments whose member list (as the manager sees it) contains the attendant."""
    departments = api_get(sim, manager, "departments", page_size=100).json()["data"]
    mine: set[str] = set()
    for department in departments:
        members = api_get(sim, manager, f"departments/{department['id']}/users", page_size=100)
        assert members.status_code == 200, members.text
        if any(u["id"] == attendant.id for u in members.json()["data"]):
            mine.add(department["id"])
    return mine


def is_uuid(value: object) -> bool:
    """A hyphenated UUID string in canonical lower case (how Ecto renders ``:binary_id``)."""
    if not isinstance(value, str):
        return False
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False


@pytest.fixture(scope="module")
def paused_sim() -> Iterator[SimHandle]:
    """A frozen scenario (nothing moves unless a test injects it), shared by a module."""
    with running_sim(
        seed=7, auth_rate_limit=1000, widget_rate_limit=1000, secret=SECRET, paused=True
    ) as handle:
        yield handle


@pytest.fixture(scope="module")
def manager(paused_sim: SimHandle) -> Account:
    return login(paused_sim, MANAGER)


@pytest.fixture(scope="module")
def supervisor(paused_sim: SimHandle) -> Account:
    return login(paused_sim, SUPERVISOR)


@pytest.fixture(scope="module")
def attendant(paused_sim: SimHandle) -> Account:
    return login(paused_sim, ATTENDANT)


@pytest.fixture(scope="module")
def department_ids(paused_sim: SimHandle) -> list[str]:
    """Department ids (uuids) from the ground truth of ``GET /__sim/state``, in its order."""
    return [str(d["id"]) for d in paused_sim.state()["departments"]]


@pytest.fixture(scope="module")
def attendant_split(
    paused_sim: SimHandle, manager: Account, attendant: Account, department_ids: list[str]
) -> tuple[list[str], list[str]]:
    """(the attendant's departments, the others), as the documented REST API reports them."""
    mine = attendant_departments(paused_sim, manager, attendant)
    return sorted(mine), [d for d in department_ids if d not in mine]


#: The keys of a ``customer_joined`` payload, exactly as voki-api.md section 5 lists them.
CUSTOMER_JOINED = {
    "call_id",
    "department_id",
    "customer_name",
    "customer_email",
    "customer_phone",
    "reason",
    "position",
    "queued_at",
    "estimated_wait_time",
}
