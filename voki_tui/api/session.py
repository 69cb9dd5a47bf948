"""One login's tokens, kept fresh: the ``TokenSource`` of a ``VokiClient`` and of the socket.

A ``Session`` belongs to one (server, tenant, email). It logs in (with the MFA step when the
account asks for it), restores a stored refresh token, and hands out access tokens through
``access_token()``, refreshing them *ahead* of expiry: an unattended wallboard should never
see a 401 in normal operation. The JWT's ``exp`` is read without verifying the signature (we
cannot, and need not: the server checks it); the remaining lifetime is measured from when we
received the token, using ``exp - iat`` when the token has ``iat``, so a skewed local clock
does not make us refresh too late or constantly.

Refreshes are single-flight: however many requests hit a 401 at once, one refresh request is
sent and everyone waits for it (an ``asyncio.Task`` shielded from the waiters' cancellation,
since cancelling a refresh half-way could spend the refresh token without us learning the new
one). Refreshes pass the client's ``AuthRateGuard`` like every ``/api/auth/*`` request.

Passwords are only passed through to the login request and never kept. Tokens go to the
``TokenStore`` (0600 file) when one is given.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import astuple
from typing import Any

import jwt

from voki_tui.api.client import VokiClient
from voki_tui.api.errors import AuthError, VokiError
from voki_tui.api.models import LoginTokens, User
from voki_tui.api.tokens import Identity, StoredTokens, TokenStore

log = logging.getLogger(__name__)

REFRESH_MARGIN_S = 60.0  # refresh when less than this remains ...
REFRESH_MARGIN_SHARE = 0.10  # ... or this share of the lifetime, whichever is smaller


def unverified_claims(token: str) -> dict[str, Any]:
    """The claims of a JWT without checking its signature; {} for anything not a JWT."""
    try:
        claims = jwt.decode(
            token,
            options={
                "verify_signature": False,
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
                "verify_aud": False,
            },
        )
    except jwt.PyJWTError:
        return {}
    return claims if isinstance(claims, dict) else {}


def _number(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


class Session:
    """Tokens of one login, refreshed ahead of expiry, single-flight, rate-limit aware."""

    def __init__(
        self,
        client: VokiClient,
        email: str,
        *,
        store: TokenStore | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.identity = Identity.of(client.server, client.tenant, email)
        self.user: User | None = None
        self.refresh_count = 0  # refreshes that succeeded (for tests and the status line)
        self._store = store
        self._clock = clock
        self._access: str | None = None
        self._refresh: str | None = None
        self._expires_at: float | None = None  # local clock time the access token expires
        self._margin_s = 0.0
        self._refresh_task: asyncio.Task[None] | None = None
        client.token_source = self

    def __repr__(self) -> str:
        return f"Session({self.identity!r}, logged_in={self.logged_in})"

    @property
    def logged_in(self) -> bool:
        return self._refresh is not None

    # -- token bookkeeping --------------------------------------------------------------

    def _set_access(self, token: str, *, received_now: bool) -> None:
        """Adopt an access token and work out when to refresh it.

        A token just received lives ``exp - iat`` seconds from now by our clock; a stored one
        expires at its ``exp`` (there is nothing better to go on).
        """
        self._access = token
        claims = unverified_claims(token)
        exp, iat = _number(claims.get("exp")), _number(claims.get("iat"))
        now = self._clock()
        if exp is None:
            self._expires_at = None  # opaque token: we learn of its expiry from a 401
            return
        if received_now and iat is not None and iat < exp:
            lifetime = exp - iat
            self._expires_at = now + lifetime
        else:
            lifetime = max(0.0, exp - now)
            self._expires_at = exp
        self._margin_s = min(REFRESH_MARGIN_S, REFRESH_MARGIN_SHARE * lifetime)

    def _adopt(self, tokens: LoginTokens) -> None:
        self._set_access(tokens.access_token, received_now=True)
        self._refresh = tokens.refresh_token

    def _due(self) -> bool:
        """The access token should be refreshed now (missing, or inside the margin)."""
        if self._access is None:
            return True
        if self._expires_at is None:
            return False
        return self._expires_at - self._clock() < self._margin_s

    def _expired(self) -> bool:
        return self._expires_at is not None and self._clock() >= self._expires_at

    def _save(self) -> None:
        if self._store is None or self._refresh is None:
            return
        user = self.user
        record = StoredTokens(
            identity=self.identity,
            refresh_token=self._refresh,
            access_token=self._access,
            user_id=user.id if user else None,
            user_name=user.name if user else None,
            user_role=user.role if user else None,
        )
        try:
            self._store.save(record)
            self._store.remember_last(*astuple(self.identity))
        except OSError as exc:  # a full disk must not turn a good login into a failure
            log.warning("could not store the session: %s", type(exc).__name__)

    def _forget(self) -> None:
        self._access = self._refresh = self._expires_at = None
        if self._store is not None:
            try:
                self._store.remove(self.identity)
            except OSError as exc:
                log.warning("could not remove the stored session: %s", type(exc).__name__)

    def stored(self) -> StoredTokens | None:
        """What the token store holds for this identity (user id/name/role to show offline)."""
        return self._store.load(self.identity) if self._store is not None else None

    # -- login ----------------------------------------------------------------------------

    async def _finish_login(self, tokens: LoginTokens) -> User:
        self._adopt(tokens)
        self.user = tokens.user if tokens.user is not None else await self.client.me()
        self._save()
        return self.user

    async def login(self, password: str) -> User:
        """Log in with a password; raises ``MFARequired`` when a code must follow."""
        tokens = await self.client.login(self.identity.email, password, self.client.tenant)
        return await self._finish_login(tokens)

    async def verify_mfa(self, mfa_token: str, code: str) -> User:
        """Finish a login that raised ``MFARequired``."""
        return await self._finish_login(await self.client.verify_mfa(mfa_token, code))

    async def restore(self) -> User | None:
        """Resume from the stored refresh token; None when there is none or it was refused.

        Network and rate-limit errors propagate: the token may still be good later.
        """
        stored = self.stored()
        if stored is None:
            return None
        self._refresh = stored.refresh_token
        if stored.access_token:
            self._set_access(stored.access_token, received_now=False)
        try:
            self.user = await self.client.me()
        except AuthError:
            log.info("stored session refused by the server; a new login is needed")
            self._forget()
            return None
        self._save()
        return self.user

    # -- the token source -----------------------------------------------------------------

    async def access_token(self) -> str:
        """A valid access token, refreshed first when it is about to expire."""
        if self._access is not None and not self._due():
            return self._access
        if self._refresh is None:
            if self._access is not None:
                return self._access
            raise AuthError("Not logged in")
        try:
            await self._refresh_once(stale=self._access)
        except VokiError as exc:
            if isinstance(exc, AuthError) or self._access is None or self._expired():
                raise
            # Still valid for a while: use it, the next call tries to refresh again.
            log.info("early refresh failed (%s); using the current token", exc.message)
        if self._access is None:
            raise AuthError("Not logged in")
        return self._access

    async def on_unauthorized(self, rejected: str) -> str:
        """The server refused ``rejected``: refresh once for every caller, return the new one."""
        await self._refresh_once(stale=rejected)
        if self._access is None:
            raise AuthError("Not logged in")
        return self._access

    async def refresh(self) -> None:
        """Refresh now, whatever the token's age (joins any refresh already under way)."""
        await self._refresh_once(stale=self._access)

    async def _refresh_once(self, stale: str | None) -> None:
        task = self._refresh_task
        if task is None or task.done():
            if self._access is not None and self._access != stale:
                return  # another caller's refresh already replaced the refused token
            task = self._refresh_task = asyncio.create_task(self._do_refresh())
            task.add_done_callback(_retrieve)
        await asyncio.shield(task)

    async def _do_refresh(self) -> None:
        refresh = self._refresh
        if refresh is None:
            raise AuthError("Not logged in")
        try:
            tokens = await self.client.refresh(refresh)
        except AuthError:
            log.info("refresh token refused; the session has ended")
            self._forget()
            raise AuthError("Your session has ended; please log in again", status=401) from None
        self._adopt(tokens)
        self.refresh_count += 1
        self._save()

    # -- logout ---------------------------------------------------------------------------

    async def logout(self) -> bool:
        """Revoke the refresh token on the server and forget it here, whatever the server says.

        True when the server confirmed; a failure there is logged, the local copy goes anyway.
        """
        refresh = self._refresh
        confirmed = False
        try:
            if refresh is not None:
                await self.client.logout(refresh)
                confirmed = True
        except VokiError as exc:
            log.info("server logout failed: %s", exc.message)
        finally:
            self._forget()
            self.user = None
        return confirmed


def _retrieve(task: asyncio.Task[None]) -> None:
    """Mark a refresh's failure as seen even if every waiter was cancelled (no stray warning)."""
    if not task.cancelled():
        task.exception()
