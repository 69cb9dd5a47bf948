"""One login's tokens, kept fresh for weeks: the ``TokenSource`` of a ``VokiClient`` and of the
socket.

A ``Session`` belongs to one (server, tenant, email). It logs in (with the MFA step when the
account asks for it), restores a stored refresh token, and hands out access tokens through
``access_token()``. A board that nobody touches for weeks depends on three things here:

- **Refresh ahead of time, connected or not.** ``keep_fresh()`` refreshes the access token at
  about three quarters of its lifetime (jittered, so boxes do not refresh in step), whether or
  not the socket is up, so the refresh token rotates and never reaches its own expiry while
  the app runs. The JWT's ``exp`` is read without verifying the signature (we cannot, and need
  not); the lifetime is ``exp - iat`` measured from when we received the token, so a skewed
  local clock does not make us refresh too late or constantly.
- **Log in again by itself.** When the server refuses the refresh token (it lost its sessions,
  an admin revoked them) and a ``PasswordSource`` is configured, the session logs in again
  with it. Only when that is impossible (no source, an MFA account, a refused password) does it
  raise ``SessionEnded``: a person must log in. A refused password is not sent again until the
  source gives a different one (kept as a keyed digest in memory, never the password).
- **Share the token file with other processes.** A wallboard, a ``watch`` and a cron
  ``snapshot`` of one login share the ``TokenStore`` file, and a refresh token can be spent
  once. A refresh therefore takes the store's lock, re-reads the file first (another process
  may have rotated the tokens already: then we adopt its newer pair and send nothing), and
  writes the new pair atomically before letting go.

Refreshes are single-flight: however many callers hit a 401 at once, one refresh is sent and
everyone waits for it (an ``asyncio.Task`` shielded from the waiters' cancellation, since a
refresh cancelled half-way could spend the refresh token without our learning the new one).
Every ``/api/auth/*`` request passes the client's ``AuthRateGuard``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import random
import secrets
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import astuple
from typing import Any

import jwt

from voki_tui.api.client import VokiClient
from voki_tui.api.credentials import CredentialError, PasswordSource
from voki_tui.api.errors import AuthError, MFARequired, RateLimitedError, VokiError
from voki_tui.api.models import LoginTokens, User
from voki_tui.api.tokens import Identity, StoredTokens, TokenStore
from voki_tui.retry import SERVER_DOWN

log = logging.getLogger(__name__)

#: Refresh when this share of the access token's lifetime has passed (drawn per token).
REFRESH_AT = (0.70, 0.80)
#: An opaque (non-JWT) access token has no known lifetime: look again this often.
OPAQUE_RECHECK_S = 300.0
#: ``keep_fresh`` never sleeps longer than this at once, so a jump of the wall clock (a box
#: whose clock is set late by NTP) is noticed within it.
LONGEST_SLEEP_S = 60.0
#: How long a refresh waits for another process that holds the token store's lock.
LOCK_WAIT_S = 30.0


class SessionEnded(AuthError):
    """Only a person can log in again (the message says why, in words for that person)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, status=401)


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
    """Tokens of one login, refreshed ahead of expiry, single-flight, shared across processes."""

    def __init__(
        self,
        client: VokiClient,
        email: str,
        *,
        store: TokenStore | None = None,
        password: PasswordSource | None = None,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
        language_for: Callable[[User], str] | None = None,
    ) -> None:
        self.client = client
        #: How a new login chooses its label language (``voki_tui.language``); the choice is
        #: saved with the tokens by the login's own save, so it never rewrites the store later.
        self.language_for = language_for
        self.identity = Identity.of(client.server, client.tenant, email)
        self.password_source = password
        self.user: User | None = None
        self.language: str | None = None  # chosen once per session (see ``voki_tui.language``)
        self.refresh_count = 0  # refreshes that succeeded
        self.relogin_count = 0  # logins from the password source after a refused refresh
        self.adopted_count = 0  # newer tokens taken from the store (another process rotated)
        self.not_saved: str | None = None  # why the last save failed (a read-only state dir)
        self._store = store
        self._clock = clock
        self._rng = rng or random.Random()  # jitter, not security
        self._access: str | None = None
        self._refresh: str | None = None
        self._issued_at: float | None = None  # the access token's ``iat``, to compare pairs
        self._expires_at: float | None = None  # local clock time the access token expires
        self._refresh_at: float | None = None  # local clock time to refresh it
        self._refresh_task: asyncio.Task[None] | None = None
        self._received_at: float | None = None  # when the access token came from the server
        # The access token the server refused, and when it first did: a stored pair saved
        # since then is proof of a working one. Stamped once per token, not per retry, or a
        # pair another process saved while our refresh waited out a 429 would look older
        # than the refusal and be passed over for a refresh the budget cannot afford.
        self._refused: tuple[str, float] | None = None
        self._digest_key = secrets.token_bytes(16)
        self._refused_password: bytes | None = None  # keyed digest of the last refused one
        client.token_source = self

    def __repr__(self) -> str:
        return f"Session({self.identity!r}, logged_in={self.logged_in})"

    @property
    def logged_in(self) -> bool:
        """Holding a refresh token, or able to log in again without a person."""
        return self.user is not None and (
            self._refresh is not None or self.password_source is not None
        )

    # -- token bookkeeping --------------------------------------------------------------

    def _set_access(self, token: str, *, received_at: float | None) -> None:
        """Adopt an access token and work out when to refresh it.

        A token received at ``received_at`` (this box's clock: just now, or when the process
        that stored it received it) lives ``exp - iat`` seconds from then, whatever the skew
        between this box's clock and the server's; with no receipt time, it expires at its
        ``exp`` (there is nothing better to go on).
        """
        self._access = token
        claims = unverified_claims(token)
        exp, iat = _number(claims.get("exp")), _number(claims.get("iat"))
        self._issued_at = iat
        now = self._clock()
        if exp is None:
            self._expires_at = self._refresh_at = None  # opaque: a 401 tells us
            return
        lifetime = exp - iat if iat is not None and iat < exp else None
        if received_at is not None and received_at >= now - 1 and iat is not None:
            self.client.server_time.observe(iat)  # minted just now, by the server's clock
        if received_at is not None and lifetime is not None:
            start, self._expires_at = received_at, received_at + lifetime
        elif lifetime is not None:
            start, self._expires_at = exp - lifetime, exp
        else:
            lifetime = max(0.0, exp - now)
            start, self._expires_at = now, exp
        self._refresh_at = start + lifetime * self._rng.uniform(*REFRESH_AT)

    def _adopt(self, tokens: LoginTokens) -> None:
        self._received_at = self._clock()
        self._set_access(tokens.access_token, received_at=self._received_at)
        self._refresh = tokens.refresh_token

    def _due(self) -> bool:
        """The access token should be refreshed now (missing, or past its refresh time)."""
        if self._access is None:
            return True
        return self._refresh_at is not None and self._clock() >= self._refresh_at

    def _expired(self) -> bool:
        return self._expires_at is not None and self._clock() >= self._expires_at

    def refresh_due_in(self) -> float | None:
        """Seconds until the access token should be refreshed (<= 0: now); None if unknown."""
        if self._access is None:
            return 0.0
        if self._refresh_at is None:
            return None
        return self._refresh_at - self._clock()

    def _save(self) -> None:
        """Store the pair this session was just given (a login, or a refresh under the lock)."""
        if self._store is None or self._refresh is None:
            return
        record = StoredTokens(
            self.identity, self._refresh, self._access, self._received_at, self.language
        )
        try:
            self._store.save(record)
            self._store.remember_last(*astuple(self.identity))
        except OSError as exc:  # a full or read-only disk must not turn a login into a failure
            reason = exc.strerror or type(exc).__name__
            log.warning("could not store the session: %s", reason)
            self.not_saved = f"session not saved ({reason}): a restart needs a password source"
        else:
            self.not_saved = None

    def _remember_last(self) -> None:
        """Remember this login for the form, and nothing else: the pair this session read may
        have been rotated by another process since, and writing it back would put a spent
        refresh token in the file."""
        if self._store is None:
            return
        try:
            self._store.remember_last(*astuple(self.identity))
        except OSError as exc:
            log.warning("could not store the last login: %s", exc.strerror or type(exc).__name__)

    def _forget(self) -> None:
        self._access = self._refresh = self._expires_at = self._refresh_at = None
        self._issued_at = None
        if self._store is not None:
            try:
                self._store.remove(self.identity)
            except OSError as exc:
                log.warning("could not remove the stored session: %s", type(exc).__name__)

    def stored(self) -> StoredTokens | None:
        """What the token store holds for this identity."""
        return self._store.load(self.identity) if self._store is not None else None

    def _adopt_stored(self, saved_after: float | None = None) -> bool:
        """Take a newer pair another process saved; True if its access token is now ours.

        After the server refused a token (``saved_after``: when), only a pair saved since
        then is proof of a working access token; an older one gives just its refresh token
        (the latest of the family, ours may be spent) for a refresh that reaches the server.
        """
        stored = self.stored()
        if stored is None or stored.refresh_token == self._refresh:
            return False
        theirs = _number(unverified_claims(stored.access_token or "").get("iat"))
        if self._refresh is not None and (
            theirs is None or (self._issued_at is not None and theirs < self._issued_at)
        ):
            return False  # the file is older than what we hold (our last save failed)
        self._refresh = stored.refresh_token
        fresh = saved_after is None or (stored.saved_at or 0.0) >= saved_after
        if not fresh or not stored.access_token:
            log.info("taking the stored refresh token (another process refreshed); refreshing")
            self._access = self._expires_at = self._refresh_at = None
            return False
        log.info("the token store holds a newer session (another process refreshed); using it")
        self._take(stored)
        self.adopted_count += 1
        return True

    @asynccontextmanager
    async def _exclusive(self) -> AsyncIterator[None]:
        """Hold the token store's lock (waiting for another process, within reason)."""
        if self._store is None:
            yield
            return
        lock = self._store.lock(self.identity)
        deadline = time.monotonic() + LOCK_WAIT_S
        while not lock.try_acquire():
            if time.monotonic() > deadline:
                log.warning("the token store stayed locked for %.0f s; going ahead", LOCK_WAIT_S)
                break
            await asyncio.sleep(0.05)
        try:
            yield
        finally:
            lock.release()

    # -- login ----------------------------------------------------------------------------

    async def _finish_login(self, tokens: LoginTokens) -> User:
        self._adopt(tokens)
        self.user = tokens.user if tokens.user is not None else await self.client.me()
        # A new session chooses its language once; the save below keeps it with the tokens.
        self.language = self.language_for(self.user) if self.language_for else None
        self._save()
        return self.user

    async def login(self, password: str) -> User:
        """Log in with a password; raises ``MFARequired`` when a code must follow."""
        async with self._exclusive():
            tokens = await self.client.login(self.identity.email, password, self.client.tenant)
            return await self._finish_login(tokens)

    async def verify_mfa(self, mfa_token: str, code: str) -> User:
        """Finish a login that raised ``MFARequired``."""
        async with self._exclusive():
            return await self._finish_login(await self.client.verify_mfa(mfa_token, code))

    async def login_from_source(self) -> User:
        """Log in with the configured password source (no person needed).

        Raises ``SessionEnded`` when that cannot work: no source, an unreadable source, an
        MFA account, or a password the server refused (which is not sent again until the
        source gives another). Network and rate-limit errors propagate: try again later.
        """
        source = self.password_source
        if source is None:
            raise SessionEnded("Your session has ended; a person must log in")
        try:
            password = await source.read()
        except CredentialError as exc:
            raise SessionEnded(f"Cannot read the password ({exc})") from None
        digest = hmac.new(self._digest_key, password.encode(), hashlib.sha256).digest()
        if self._refused_password is not None and hmac.compare_digest(
            digest, self._refused_password
        ):
            raise SessionEnded(f"The password from {source.label} was refused")
        try:
            tokens = await self.client.login(self.identity.email, password, self.client.tenant)
        except MFARequired:
            raise SessionEnded(
                "This account needs a verification code; a person must log in"
            ) from None
        except AuthError:
            self._refused_password = digest
            raise SessionEnded(f"The password from {source.label} was refused") from None
        del password
        self._refused_password = None
        user = await self._finish_login(tokens)
        self.relogin_count += 1
        log.info("logged in again with the password from %s", source.label)
        return user

    async def sign_in(self) -> User:
        """Sign in without a person: the stored session (another process's included), else
        the password source.

        The store is read under its lock, so processes that start together (a box booting a
        wallboard, a watch and a cron job) log in once between them: the first one logs in
        from the source and stores the session, the others find it there.
        """
        async with self._exclusive():
            stored = self.stored()
            if stored is None:
                if self.password_source is None:
                    raise SessionEnded("Not signed in; a person must log in")
                return await self.login_from_source()
            self._take(stored)
        return await self._confirm()

    def _take(self, stored: StoredTokens) -> None:
        self._refresh = stored.refresh_token
        self._received_at = stored.saved_at
        self.language = stored.language
        if stored.access_token:
            self._set_access(stored.access_token, received_at=stored.saved_at)

    async def restore(self) -> User | None:
        """Resume from the stored session; None when there is none.

        A stored refresh token the server refuses falls back to the password source; with
        none, ``SessionEnded``. Network and rate-limit errors propagate: it may work later.
        """
        stored = self.stored()
        if stored is None:
            return None
        self._take(stored)
        return await self._confirm()

    async def _confirm(self) -> User:
        """Ask the server who we are with the tokens just taken from the store."""
        try:
            self.user = await self.client.me()
        except SessionEnded:
            raise
        except AuthError:
            log.info("stored session refused by the server")
            async with self._exclusive():
                stored = self.stored()
                if stored is None or stored.refresh_token == self._refresh:
                    self._forget()  # ours, and refused
                    if self.password_source is None:
                        raise SessionEnded("Your session has ended; a person must log in") from None
                    return await self.login_from_source()
                self._take(stored)  # another process stored a newer session meanwhile
            return await self._confirm()
        self._remember_last()  # a refresh on the way (a 401 from /users/me) stored its own pair
        return self.user

    # -- the token source -----------------------------------------------------------------

    async def access_token(self) -> str:
        """A valid access token, refreshed first when it is due."""
        if self._access is not None and not self._due():
            return self._access
        if self._refresh is None and self.password_source is None:
            if self._access is not None:
                return self._access
            raise SessionEnded("Not logged in")
        try:
            await self._refresh_once(stale=self._access)
        except VokiError as exc:
            if isinstance(exc, AuthError) or self._access is None or self._expired():
                raise
            # Still valid for a while: use it, the next call tries to refresh again.
            log.info("early refresh failed (%s); using the current token", exc.message)
        if self._access is None:
            raise SessionEnded("Not logged in")
        return self._access

    async def on_unauthorized(self, rejected: str) -> str:
        """The server refused ``rejected``: refresh once for every caller, return the new one."""
        if rejected == self._access and (self._refused is None or self._refused[0] != rejected):
            self._refused = (rejected, self._clock())
        await self._refresh_once(stale=rejected)
        if self._access is None:
            raise SessionEnded("Not logged in")
        return self._access

    async def refresh(self) -> None:
        """Refresh now, whatever the token's age (joins any refresh already under way)."""
        await self._refresh_once(stale=self._access)

    async def _refresh_once(self, stale: str | None) -> None:
        task = self._refresh_task
        if task is not None and task is asyncio.current_task():
            # A request made while refreshing (``/users/me`` after a new login) was refused:
            # waiting for ourselves would never end.
            raise AuthError("The server refused a token it had just issued", status=401)
        if task is None or task.done():
            if self._access is not None and self._access != stale:
                return  # another caller's refresh already replaced the refused token
            task = self._refresh_task = asyncio.create_task(self._do_refresh(stale))
            task.add_done_callback(_retrieve)
        await asyncio.shield(task)

    async def _do_refresh(self, stale: str | None) -> None:
        async with self._exclusive():
            refused = self._refused
            refused_at = refused[1] if refused is not None and refused[0] == self._access else None
            adopted = self._adopt_stored(saved_after=refused_at)
            if adopted and self._access != stale and not self._due():
                return  # another process refreshed: nothing to send
            refresh = self._refresh
            if refresh is None:
                await self.login_from_source()
                return
            try:
                tokens = await self.client.refresh(refresh)
            except AuthError:
                log.info("refresh token refused by the server")
                self._forget()
                await self.login_from_source()
                return
            self._adopt(tokens)
            self.refresh_count += 1
            self._save()

    async def keep_fresh(self) -> None:
        """Refresh ahead of expiry for as long as it runs (the feed runs it beside the socket).

        Returns never; raises ``SessionEnded`` when only a person can log in again. A refresh
        that fails for any other reason (the server is down, rate limited) is retried on the
        ``SERVER_DOWN`` schedule or after the server's ``Retry-After``.
        """
        failures = 0
        while True:
            due_in = self.refresh_due_in()
            wait = OPAQUE_RECHECK_S if due_in is None else due_in
            if wait > 0:
                await asyncio.sleep(min(wait, LONGEST_SLEEP_S))
                continue
            try:
                await self.refresh()
            except AuthError:
                raise
            except RateLimitedError as exc:
                failures += 1
                log.info("token refresh rate limited; again in %.0f s", exc.retry_after)
                await asyncio.sleep(max(exc.retry_after, SERVER_DOWN.delay(failures, self._rng)))
            except VokiError as exc:
                failures += 1
                delay = SERVER_DOWN.delay(failures, self._rng)
                log.info("token refresh failed (%s); again in %.1f s", exc.message, delay)
                await asyncio.sleep(delay)
            else:
                failures = 0

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
