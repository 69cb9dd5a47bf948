"""The logged-in account: login, session restore, logout and department discovery.

``Account`` is what the app's ``Authenticator`` port and the headless commands use. It owns
the REST client and the ``Session`` of the current login (one server, one tenant, one email),
so the live feed it starts talks to the same server with the same tokens.

Department discovery follows voki-api.md section 2: a supervisor or manager lists the
departments; an attendant cannot (403), so their departments come from ``/users/me`` when the
server includes them, from the ``department_id``/``department_name`` of their calls, and from
``--department`` on the command line.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace

from voki_tui.api.client import VokiClient
from voki_tui.api.errors import AuthError, ForbiddenError, NotFoundError, VokiError
from voki_tui.api.session import Session
from voki_tui.api.tokens import TokenStore
from voki_tui.live import wire
from voki_tui.live.feed import FEED_PHOENIX_SETTINGS, PUBLISH_INTERVAL_S, LiveFeed, user_info
from voki_tui.live.state import Department, UserInfo
from voki_tui.phoenix import core
from voki_tui.ui.ports import DepartmentList, LastLogin, Notify, Publish

log = logging.getLogger(__name__)

#: How many of an attendant's calls to look through for their departments.
DISCOVERY_CALLS = 500


@dataclass(frozen=True)
class AccountOptions:
    server: str | None = None
    tenant: str | None = None
    email: str | None = None
    password: str | None = None  # VOKI_PASSWORD; used once, never stored
    departments: tuple[str, ...] = ()
    insecure: bool = False
    sla_threshold_s: int = 60
    heartbeat_s: float | None = None  # VOKI_HEARTBEAT_S: heartbeat interval and reply timeout


class Account:
    """Implements the UI's ``Authenticator``; ``feed()`` gives the matching ``FeedRunner``."""

    def __init__(self, options: AccountOptions, store: TokenStore | None = None) -> None:
        self.options = options
        self.store = store if store is not None else TokenStore()
        self.client: VokiClient | None = None
        self.session: Session | None = None

    # -- Authenticator -----------------------------------------------------------------------

    def last(self) -> LastLogin | None:
        if self.options.server and self.options.tenant and self.options.email:
            return LastLogin(self.options.server, self.options.tenant, self.options.email)
        identity = self.store.last()
        if identity is None:
            return None
        return LastLogin(
            self.options.server or identity.server,
            self.options.tenant or identity.tenant,
            self.options.email or identity.email,
        )

    async def restore(self) -> UserInfo | None:
        """Log in without the form: ``VOKI_PASSWORD`` first, then the stored refresh token."""
        last = self.last()
        if last is None:
            return None
        session = await self._open(last.server, last.tenant, last.email)
        if self.options.password:
            await session.login(self.options.password)
        elif await session.restore() is None:
            return None
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

    async def departments(self) -> DepartmentList:
        client, session = self._require()
        wanted = self.options.departments
        try:
            found = [
                wire.department(item, self.options.sla_threshold_s)
                for item in await client.departments()
            ]
            total: int | None = len(found)
            note = None
        except ForbiddenError:
            found = await self._discover_as_attendant(client, session)
            total, note = None, "found through your calls and profile"
        if wanted:
            known = {department.id: department for department in found}
            found = [known.get(ident) or await self._lookup(client, ident) for ident in wanted]
        return DepartmentList(tuple(found), total, note)

    # -- feed ----------------------------------------------------------------------------------

    def feed(self, publish_interval: float = PUBLISH_INTERVAL_S) -> AccountFeed:
        settings = FEED_PHOENIX_SETTINGS
        if self.options.heartbeat_s is not None:
            beat = self.options.heartbeat_s
            settings = replace(settings, heartbeat_interval=beat, heartbeat_timeout=beat)
        return AccountFeed(self, settings, publish_interval)

    async def close(self) -> None:
        if self.client is not None:
            await self.client.aclose()
        self.client = self.session = None

    # -- internals -----------------------------------------------------------------------------

    async def _open(self, server: str, tenant: str, email: str) -> Session:
        await self.close()
        self.client = VokiClient(server, tenant, insecure=self.options.insecure)
        self.session = Session(self.client, email, store=self.store)
        return self.session

    def _logged_in(self, session: Session) -> UserInfo:
        identity = session.identity
        self.store.remember_last(identity.server, identity.tenant, identity.email)
        info = user_info(session)
        if info is None:  # Session always sets ``user`` after a login or restore
            raise AuthError("The server did not say who is logged in")
        return info

    def _require(self) -> tuple[VokiClient, Session]:
        if self.client is None or self.session is None or not self.session.logged_in:
            raise AuthError("Log in first")
        return self.client, self.session

    async def _discover_as_attendant(
        self, client: VokiClient, session: Session
    ) -> list[Department]:
        names: dict[str, str | None] = {}
        user = session.user
        for ref in (user.departments if user is not None else None) or ():
            names[ref.id] = ref.name
        try:
            seen = 0
            async for call in client.iter_calls():
                if call.department_id is not None:
                    names.setdefault(call.department_id, call.department_name)
                    if names[call.department_id] is None:
                        names[call.department_id] = call.department_name
                seen += 1
                if seen >= DISCOVERY_CALLS:
                    break
        except VokiError as exc:
            log.warning("department discovery through calls failed: %s", exc.message)
        return [
            Department(
                id=ident,
                name=name or f"#{ident}",
                sla_threshold_s=self.options.sla_threshold_s,
            )
            for ident, name in sorted(names.items(), key=lambda item: (item[1] or "", item[0]))
        ]

    async def _lookup(self, client: VokiClient, ident: str) -> Department:
        """A department named on the command line that the listing did not include."""
        try:
            return wire.department(await client.department(ident), self.options.sla_threshold_s)
        except (ForbiddenError, NotFoundError):
            return Department(
                id=ident, name=f"#{ident}", sla_threshold_s=self.options.sla_threshold_s
            )


class AccountFeed:
    """The ``FeedRunner`` of an ``Account``: a ``LiveFeed`` on the account's current login."""

    def __init__(
        self,
        account: Account,
        phoenix_settings: core.Settings = FEED_PHOENIX_SETTINGS,
        publish_interval: float = PUBLISH_INTERVAL_S,
    ) -> None:
        self.account = account
        self.phoenix_settings = phoenix_settings
        self.publish_interval = publish_interval
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
        )
        await self.current.run(departments, publish, notify)
