"""What the app needs from the outside world, as Protocols, plus the options it runs with.

The Textual app never builds an HTTP client or a websocket itself: ``__main__`` hands it an
``Authenticator`` (REST auth + token store) and a ``FeedRunner`` (the live feed). Tests hand it
fakes (``tests/ui/fakes.py``) with the same shape, so every screen can be driven without I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from voki_tui.live.state import Department, FeedSnapshot, Notification, UserInfo


@dataclass(frozen=True, slots=True)
class LastLogin:
    """The server, tenant and email of the last successful login, to pre-fill the form."""

    server: str
    tenant: str
    email: str


@dataclass(frozen=True, slots=True)
class DepartmentList:
    """The departments this user may watch, and how they were found.

    ``total`` is the tenant's department count when known (a supervisor sees all of them; an
    attendant only those found through calls, ``/users/me`` or the command line), so the UI can
    say "3 of 7 departments". ``note`` is a short untrusted explanation (e.g. "from your calls").
    """

    departments: tuple[Department, ...]
    total: int | None = None
    note: str | None = None


class Authenticator(Protocol):
    """Logs in and out against the Voki REST API and remembers the refresh token.

    Every method raises the types of ``voki_tui.api.errors``: ``AuthError`` (401),
    ``ValidationError`` (422, per field: keys ``server``, ``tenant``, ``email``, ``password``,
    ``code``), ``RateLimitedError`` (429, ``retry_after`` seconds), ``NetworkError`` /
    ``TLSError`` (unreachable), ``MFARequired`` (from ``login`` only), ``ServerError``.
    """

    def last(self) -> LastLogin | None:
        """The remembered server/tenant/email, or None on first use. Never the password."""
        ...

    async def restore(self) -> UserInfo | None:
        """Log in with a stored refresh token (or ``VOKI_PASSWORD``); None when none works."""
        ...

    async def login(self, server: str, tenant: str, email: str, password: str) -> UserInfo:
        """Log in with a password; raises ``MFARequired`` when a code must follow."""
        ...

    async def verify_mfa(self, mfa_token: str, code: str) -> UserInfo:
        """Finish a login that raised ``MFARequired``."""
        ...

    async def logout(self) -> None:
        """Revoke the refresh token on the server and forget it locally."""
        ...

    async def departments(self) -> DepartmentList:
        """The departments this user may watch, role-aware (voki-api.md section 2)."""
        ...

    async def close(self) -> None:
        """Release network connections; called on the app's event loop as it shuts down."""
        ...


Publish = Callable[[FeedSnapshot], None]
Notify = Callable[[Notification], None]


class FeedRunner(Protocol):
    """Runs the live feed for some departments until cancelled.

    ``publish`` is called with every new ``FeedSnapshot`` (from the app's event loop; the app
    coalesces bursts), ``notify`` with every notification of ``notification:{user_id}``. ``run``
    returns only if the feed gives up for good (it should publish an OFFLINE or AUTH_FAILED
    connection first); cancellation closes the socket.
    """

    async def run(
        self, departments: Sequence[Department], publish: Publish, notify: Notify
    ) -> None: ...


@dataclass(frozen=True, slots=True)
class AppOptions:
    """Command-line choices the UI honours (config precedence is resolved before this)."""

    server: str | None = None
    tenant: str | None = None
    email: str | None = None
    departments: tuple[str, ...] = ()  # ids to watch; empty = every visible department
    wallboard: bool = False  # start at the wallboard, no chrome, no keyboard needed
    read_only: bool = False  # refuse anything that changes server state (logout)
    lang: str | None = None  # "en" / "pt-BR"; None = user's locale, then LANG
    theme: str | None = None  # "dark" / "light" / "high-contrast" (or any Textual theme)
    color_system: str | None = None  # exported as TEXTUAL_COLOR_SYSTEM before the App exists
    bell: bool = False  # ring the terminal bell when a department crosses a threshold
    demo: bool = False
    insecure: bool = False  # TLS verification off (shown in the status bar)
    stale_after_s: float = 10.0  # data older than this, link not live: figures dimmed
