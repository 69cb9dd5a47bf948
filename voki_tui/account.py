"""The logged-in account: sign-in (by a person or by itself), restore, logout and departments.

``Account`` implements the ``Authenticator`` port the app and the headless commands use. It
owns the REST client and the ``Session`` of the current login (one server, one tenant, one
email), so the live feed it starts talks to the same server with the same tokens.

**Without a person.** A wall box must come up by itself, including when it boots before the
network or its server: ``resume`` signs in from the stored session, else from the password
source (``VOKI_PASSWORD``, ``--password-file``, ``--password-command``), and retries whatever
is not the person's business (the server unreachable, 5xx, 429 with its ``Retry-After``) on the
``SERVER_DOWN`` schedule, reporting each failed attempt so the screen can say "connecting to …
retry in N s". It gives up only with ``SessionEnded``, when a person must log in.

**Departments** follow voki-api.md section 2: a supervisor or manager lists them; an attendant
cannot (403), so theirs come from ``/users/me`` when the server includes them (optional) and
from the ``department_id``/``department_name`` of their calls (a bounded walk of the pages).
``--department`` restricts a supervisor's list to the ids given, and adds to an attendant's.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

from voki_tui.api.client import VokiClient
from voki_tui.api.credentials import FixedPassword, PasswordCommand, PasswordFile, PasswordSource
from voki_tui.api.errors import (
    AuthError,
    ForbiddenError,
    MFARequired,
    NotFoundError,
    RateLimitedError,
    ValidationError,
    VokiError,
)
from voki_tui.api.models import User
from voki_tui.api.ratelimit import shared_guard
from voki_tui.api.session import Session, SessionEnded
from voki_tui.api.tokens import Identity, TokenStore, normalize_server
from voki_tui.language import choose
from voki_tui.live import wire
from voki_tui.live.feed import FEED_PHOENIX_SETTINGS, PUBLISH_INTERVAL_S, LiveFeed, user_info
from voki_tui.live.figures import with_rules
from voki_tui.live.record import Recorder
from voki_tui.live.resync import RESYNC_EVERY_S
from voki_tui.live.state import Department, UserInfo
from voki_tui.phoenix import core
from voki_tui.ports import (
    DepartmentList,
    LastLogin,
    Member,
    Notify,
    Progress,
    Publish,
    Retrying,
)
from voki_tui.retry import SERVER_DOWN
from voki_tui.settings import Settings

log = logging.getLogger(__name__)

#: How many of an attendant's calls to look through for their departments (5 pages of 100).
DISCOVERY_CALLS = 500
#: While only a person could log in, try again this often without one: the password source
#: may give a new password, or a person may have logged in with another voki-tui on this box
#: (a new stored session). Reading either costs nothing; a login is sent only with a password
#: that was not refused before.
SIGN_IN_RECHECK_S = 60.0

T = TypeVar("T")

#: Failures a person must act on: retrying cannot help.
_FINAL = (AuthError, ForbiddenError, NotFoundError, ValidationError, MFARequired)


def password_source(settings: Settings) -> PasswordSource | None:
    """The configured password source (``voki_tui.settings`` allows at most one)."""
    if settings.password:
        return FixedPassword(settings.password)
    if settings.password_file:
        return PasswordFile(settings.password_file)
    if settings.password_command:
        return PasswordCommand(settings.password_command)
    return None


async def retrying(
    attempt: Callable[[], Awaitable[T]],
    progress: Progress,
    *,
    deadline: float | None = None,
    rng: random.Random | None = None,
) -> T:
    """``attempt()`` until it works, waiting out what is not a person's business.

    A network failure, a 5xx or a 429 is reported to ``progress`` and retried after the
    ``SERVER_DOWN`` delay (or the server's ``Retry-After``, if longer). Anything a person must
    act on (refused credentials, no access, bad input) is raised at once, as is the last
    failure when the next try would be after ``deadline`` (a ``time.monotonic()`` value).
    """
    failures = 0
    jitter = rng or random.Random()
    while True:
        try:
            return await attempt()
        except _FINAL:
            raise
        except VokiError as exc:
            failures += 1
            delay = SERVER_DOWN.delay(failures, jitter)
            if isinstance(exc, RateLimitedError):
                delay = max(delay, exc.retry_after)
            if deadline is not None and time.monotonic() + delay > deadline:
                raise
            log.info("%s; retrying in %.1f s (attempt %d)", exc.message, delay, failures)
            progress(Retrying(failures=failures, retry_in_s=delay, detail=exc.message))
            await asyncio.sleep(delay)


class Account:
    """Implements ``Authenticator``; ``feed()`` gives the matching ``FeedRunner``."""

    def __init__(self, settings: Settings, store: TokenStore | None = None) -> None:
        self.settings = settings
        self.store = store if store is not None else TokenStore()
        self.client: VokiClient | None = None
        self.session: Session | None = None

    # -- Authenticator -----------------------------------------------------------------------

    def last(self) -> LastLogin | None:
        settings = self.settings
        if settings.server and settings.tenant and settings.email:
            return LastLogin(settings.server, settings.tenant, settings.email)
        identity = self.store.last()
        if identity is None:
            return None
        return LastLogin(
            settings.server or identity.server,
            settings.tenant or identity.tenant,
            settings.email or identity.email,
        )

    def can_resume(self) -> bool:
        """A stored session or a password source exists for the login to use."""
        last = self.last()
        if last is None:
            return False
        if password_source(self.settings) is not None:
            return True
        return self.store.load(Identity.of(last.server, last.tenant, last.email)) is not None

    async def resume(
        self, progress: Progress = lambda _attempt: None, *, deadline: float | None = None
    ) -> UserInfo | None:
        """Sign in without a person; None when there is nothing to sign in with.

        Retries transient failures (reported to ``progress``) until it works or ``deadline``
        passes; raises ``SessionEnded`` when a person must log in.
        """
        last = self.last()
        if last is None or not self.can_resume():
            return None
        if self.session is None or self.session.identity != Identity.of(
            last.server, last.tenant, last.email
        ):
            await self._open(last.server, last.tenant, last.email)
        session = self.session
        assert session is not None

        async def sign_in() -> UserInfo:
            await session.sign_in()
            return self._logged_in(session)

        return await retrying(sign_in, progress, deadline=deadline)

    async def await_sign_in(self) -> UserInfo:
        """After the session ended: sign in without a person as soon as that works again."""
        while True:
            await asyncio.sleep(SIGN_IN_RECHECK_S)
            try:
                user = await self.resume()
            except AuthError as exc:
                log.info("still no way to sign in without a person: %s", exc.message)
                continue
            if user is not None:
                return user

    async def restore(self) -> UserInfo | None:
        """One unattended sign-in attempt, no retries (``voki-tui logout`` uses it)."""
        last = self.last()
        if last is None or not self.can_resume():
            return None
        session = await self._open(last.server, last.tenant, last.email)
        if await session.restore() is None:
            await session.login_from_source()
        return self._logged_in(session)

    async def login(self, server: str, tenant: str, email: str, password: str) -> UserInfo:
        session = await self._open(server, tenant, email)
        await session.login(password)
        return self._logged_in(session)

    async def verify_mfa(self, mfa_token: str, code: str) -> UserInfo:
        if self.session is None:
            raise AuthError("Log in first")
        await self.session.verify_mfa(mfa_token, code)
        return self._logged_in(self.session)

    async def logout(self) -> None:
        if self.session is not None:
            await self.session.logout()
        await self.close()

    async def departments(
        self, progress: Progress = lambda _attempt: None, *, deadline: float | None = None
    ) -> DepartmentList:
        """The departments to watch, retrying transient failures like ``resume``."""
        return await retrying(self._departments, progress, deadline=deadline)

    async def customer_of(self, call_id: str) -> str | None:
        """The customer on a call, for the presence screen; None when it cannot be known."""
        if self.client is None:
            return None
        try:
            call = await self.client.call(call_id)
        except VokiError as exc:
            log.info("no customer name for call %s: %s", call_id, exc.message)
            return None
        return call.customer_name

    async def members(self, department_id: str) -> tuple[Member, ...] | None:
        """The department's members (supervisor and up), to show who is offline."""
        if self.client is None:
            return None
        try:
            users = await self.client.department_users(department_id)
        except VokiError as exc:
            log.info("no members for department %s: %s", department_id, exc.message)
            return None
        return tuple((user.id, user.name or user.email or user.id) for user in users)

    # -- feed ----------------------------------------------------------------------------------

    def feed(self, publish_interval: float = PUBLISH_INTERVAL_S) -> AccountFeed:
        settings = FEED_PHOENIX_SETTINGS
        if self.settings.heartbeat_s is not None:
            beat = self.settings.heartbeat_s
            settings = replace(settings, heartbeat_interval=beat, heartbeat_timeout=beat)
        return AccountFeed(self, settings, publish_interval, self.settings.resync_s)

    def recorder(self) -> Recorder | None:
        """With ``--record DIR``, a recorder for one run of the feed (off by default)."""
        if self.settings.record is None:
            return None
        cap = int(self.settings.record_max_mb * 1024 * 1024)
        return Recorder(Path(self.settings.record).expanduser(), cap)

    async def close(self) -> None:
        if self.client is not None:
            await self.client.aclose()
        self.client = self.session = None

    # -- internals -----------------------------------------------------------------------------

    async def _open(self, server: str, tenant: str, email: str) -> Session:
        await self.close()
        budget = shared_guard(normalize_server(server), self.store.directory)  # the box's
        self.client = VokiClient(server, tenant, insecure=self.settings.insecure, auth_guard=budget)
        self.session = Session(
            self.client,
            email,
            store=self.store,
            password=password_source(self.settings),
            language_for=self._language_for,
        )
        return self.session

    def _logged_in(self, session: Session) -> UserInfo:
        identity = session.identity
        try:
            self.store.remember_last(identity.server, identity.tenant, identity.email)
        except OSError as exc:
            log.warning("could not remember the login: %s", exc.strerror)
        info = user_info(session)
        if info is None:  # Session always sets ``user`` after a login or restore
            raise AuthError("The server did not say who is logged in")
        # The language is chosen once per session, at its login (``_language_for``), and kept
        # with its tokens: a restored session speaks as its login did, whatever the server's
        # locale says meanwhile. A session stored before languages were kept chooses now and
        # keeps it from its next save (never a save of its own: another process may have
        # rotated the tokens since, and the store must not go back to ours).
        if session.language is None:
            session.language = choose(self.settings.lang, info.locale)
        return replace(info, locale=session.language)

    def _language_for(self, user: User) -> str:
        return choose(self.settings.lang, user.locale)

    def _require(self) -> tuple[VokiClient, Session]:
        if self.client is None or self.session is None or not self.session.logged_in:
            raise SessionEnded("Log in first")
        return self.client, self.session

    async def _departments(self) -> DepartmentList:
        """The departments with their limits resolved (config, server, default)."""
        found = await self._listed()
        rules = self.settings.thresholds
        return replace(found, departments=tuple(with_rules(d, rules) for d in found.departments))

    async def _listed(self) -> DepartmentList:
        client, session = self._require()
        wanted = self.settings.departments
        try:
            found = [wire.department(item) for item in await client.departments()]
        except ForbiddenError:
            found = await self._discover_as_attendant(client, session)
            known = {department.id for department in found}
            found += [await self._lookup(client, ident) for ident in wanted if ident not in known]
            return DepartmentList(tuple(found), None, "found through your calls and profile")
        total = len(found)
        if wanted:
            by_id = {department.id: department for department in found}
            found = [by_id.get(ident) or await self._lookup(client, ident) for ident in wanted]
        return DepartmentList(tuple(found), total, None)

    async def _discover_as_attendant(
        self, client: VokiClient, session: Session
    ) -> list[Department]:
        names: dict[str, str | None] = {}
        user = session.user
        for ref in (user.departments if user is not None else None) or ():
            names[ref.id] = ref.name
        seen = 0
        async for call in client.iter_calls():
            if call.department_id is not None and names.get(call.department_id) is None:
                names[call.department_id] = call.department_name
            seen += 1
            if seen >= DISCOVERY_CALLS:
                break
        return [
            Department(id=ident, name=name or f"#{ident}")
            for ident, name in sorted(names.items(), key=lambda item: (item[1] or "", item[0]))
        ]

    async def _lookup(self, client: VokiClient, ident: str) -> Department:
        """A department named on the command line that the listing did not include."""
        try:
            return wire.department(await client.department(ident))
        except (ForbiddenError, NotFoundError):
            return Department(id=ident, name=f"#{ident}")


class AccountFeed:
    """The ``FeedRunner`` of an ``Account``: a ``LiveFeed`` on the account's current login."""

    def __init__(
        self,
        account: Account,
        phoenix_settings: core.Settings = FEED_PHOENIX_SETTINGS,
        publish_interval: float = PUBLISH_INTERVAL_S,
        resync_s: float = RESYNC_EVERY_S,
    ) -> None:
        self.account = account
        self.phoenix_settings = phoenix_settings
        self.publish_interval = publish_interval
        self.resync_s = resync_s
        self.current: LiveFeed | None = None

    async def run(
        self, departments: Sequence[Department], publish: Publish, notify: Notify
    ) -> None:
        client, session = self.account._require()
        self.current = LiveFeed(
            client,
            session,
            phoenix_settings=self.phoenix_settings,
            publish_interval=self.publish_interval,
            resync_interval=self.resync_s,
            recorder=self.account.recorder(),
        )
        await self.current.run(departments, publish, notify)
