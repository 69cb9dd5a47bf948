"""Tokens and rate limits: HS256 JWTs signed with the configured secret.

Access and refresh tokens are self-contained JWTs, so a restarted simulator with the same
secret still accepts them. ``iat``/``exp`` are issued and checked on the server's clock
(``clock.py``), which may be skewed. Revocation is a generation number carried in each token:
``revoke`` bumps the server's generation and every token minted before it is refused from then
on. Refresh tokens rotate: each one can be spent once (tracked by ``jti``).

Sessions: every refresh token carries the ``boot`` (run id) of the server that issued it.
With ``forget_sessions_on_restart`` a server refuses refresh tokens of any other run, like a
real server that lost its session table in a restart; ``forget_sessions`` refuses every
refresh token issued so far. Access tokens are untouched by both: they are self-contained
JWTs, valid until their ``exp``.
"""

from __future__ import annotations

import math
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt

from .world import DEMO_TENANT, User

ALGORITHM = "HS256"
MFA_TOKEN_TTL_S = 300
CUSTOMER_TOKEN_TTL_S = 2 * 3600


@dataclass(frozen=True, slots=True)
class Claims:
    """The verified identity behind a request or socket."""

    subject: str  # the user's uuid, or a call id for customer tokens
    tenant: str
    role: str  # attendant | supervisor | manager | customer

    @property
    def user_id(self) -> str | None:
        return None if self.role == "customer" else self.subject


class TokenAuthority:
    """Mints and checks every token type the simulator hands out."""

    def __init__(
        self,
        secret: str,
        access_ttl: int,
        refresh_ttl: int,
        now: Callable[[], float] = time.time,
        *,
        boot: int = 0,
        forget_sessions_on_restart: bool = False,
    ) -> None:
        self._secret = secret
        self._now = now
        self.boot = boot
        self.forget_sessions_on_restart = forget_sessions_on_restart
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl
        self.access_generation = 0
        self.refresh_generation = 0
        self._spent: set[str] = set()  # refresh and MFA token ids already used

    def __repr__(self) -> str:
        return f"TokenAuthority(access_ttl={self.access_ttl}, refresh_ttl={self.refresh_ttl})"

    def _encode(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def _decode(self, token: str, typ: str) -> dict[str, Any] | None:
        """Verified claims if ``token`` is of type ``typ``.

        A token without our ``typ`` claim counts as an access token: a JWT carrying only the
        documented claims (``sub``, ``tenant``, ``role``, ``exp``) is what Voki issues.
        """
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                # Times are checked below on the server's clock, not on the host's.
                options={
                    "require": ["exp", "sub"],
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                },
            )
        except jwt.PyJWTError:
            return None
        if not _times_valid(claims, self._now()):
            return None
        return claims if claims.get("typ", "access") == typ else None

    def issue_pair(self, user: User) -> tuple[str, str]:
        """A fresh (access, refresh) pair for ``user``."""
        now = int(self._now())
        access = self._encode(
            {
                "sub": user.id,
                "tenant": DEMO_TENANT,
                "role": user.role,
                "iat": now,
                "exp": now + self.access_ttl,
                "jti": secrets.token_hex(8),
                "typ": "access",
                "gen": self.access_generation,
            }
        )
        refresh = self._encode(
            {
                "sub": user.id,
                "tenant": DEMO_TENANT,
                "iat": now,
                "exp": now + self.refresh_ttl,
                "jti": secrets.token_hex(12),
                "typ": "refresh",
                "gen": self.refresh_generation,
                "boot": self.boot,
            }
        )
        return access, refresh

    def verify_access(self, token: str | None) -> Claims | None:
        """Claims of a live, unrevoked access (or customer) token, else None."""
        if not token:
            return None
        claims = self._decode(token, "access")
        if claims is not None and claims.get("tenant") != DEMO_TENANT:
            return None  # the simulator hosts one tenant
        if claims is not None:
            if int(claims.get("gen", 0)) < self.access_generation:
                return None
            return Claims(str(claims["sub"]), str(claims.get("tenant")), str(claims.get("role")))
        customer = self._decode(token, "customer")
        if customer is None:
            return None
        return Claims(str(customer["sub"]), str(customer.get("tenant")), "customer")

    def spend_refresh(self, token: str) -> str | None:
        """Consume a refresh token (rotation); the user id if it was valid and unspent."""
        claims = self._decode(token, "refresh")
        if claims is None or int(claims.get("gen", -1)) < self.refresh_generation:
            return None
        if self.forget_sessions_on_restart and claims.get("boot") != self.boot:
            return None  # issued by an earlier run: its session is gone
        jti = str(claims.get("jti"))
        if jti in self._spent:
            return None
        self._spent.add(jti)
        return str(claims["sub"])

    def issue_mfa(self, user: User) -> str:
        now = int(self._now())
        return self._encode(
            {
                "sub": user.id,
                "exp": now + MFA_TOKEN_TTL_S,
                "jti": secrets.token_hex(8),
                "typ": "mfa",
            }
        )

    def peek_mfa(self, token: str) -> tuple[str, str] | None:
        """(user id, jti) of a valid unspent MFA token, without spending it."""
        claims = self._decode(token, "mfa")
        if claims is None or str(claims.get("jti")) in self._spent:
            return None
        return str(claims["sub"]), str(claims.get("jti"))

    def spend(self, jti: str) -> None:
        self._spent.add(jti)

    def issue_customer(self, call_id: str) -> str:
        now = int(self._now())
        return self._encode(
            {
                "sub": call_id,
                "tenant": DEMO_TENANT,
                "role": "customer",
                "exp": now + CUSTOMER_TOKEN_TTL_S,
                "typ": "customer",
            }
        )

    def revoke_access(self) -> None:
        self.access_generation += 1

    def revoke_all(self) -> None:
        self.access_generation += 1
        self.refresh_generation += 1

    def forget_sessions(self) -> None:
        """Every refresh token issued so far is refused; access tokens stay valid."""
        self.refresh_generation += 1


def _times_valid(claims: dict[str, Any], now: float) -> bool:
    """PyJWT's checks, on ``now``: ``exp`` after now; ``iat`` and ``nbf``, if any, not after."""
    try:
        exp = int(claims["exp"])
        iat = int(claims["iat"]) if "iat" in claims else None
        nbf = int(claims["nbf"]) if "nbf" in claims else None
    except (TypeError, ValueError, OverflowError):
        return False
    return exp > now and (iat is None or iat <= now) and (nbf is None or nbf <= now)


class RateLimiter:
    """At most ``limit`` requests per ``window_s`` per key (client IP), sliding window."""

    def __init__(self, limit: int, window_s: float = 60.0) -> None:
        self.limit = limit
        self.window_s = window_s
        self._hits: dict[str, deque[float]] = {}

    def check(self, key: str, now: float | None = None) -> int | None:
        """Record a hit; None if allowed, else the ``Retry-After`` in whole seconds."""
        t = time.monotonic() if now is None else now
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= t - self.window_s:
            hits.popleft()
        if len(hits) >= self.limit:
            return max(1, math.ceil(hits[0] + self.window_s - t))
        hits.append(t)
        return None
