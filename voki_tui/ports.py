"""What the app and the headless commands need from the outside world, as Protocols.

The Textual app never builds an HTTP client or a websocket itself: the command line hands it an
``Authenticator`` (REST auth + token store, ``voki_tui.account``) and a ``FeedRunner`` (the live
feed). Tests hand it fakes (``voki_tui.testing.fakes``) with the same shape, so every screen can be
driven without I/O. This module sits beside the layers, not in one: ``account`` implements it,
``ui`` and ``headless`` consume it, and it imports only the state types of ``voki_tui.live``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
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


@dataclass(frozen=True, slots=True)
class Retrying:
    """A failed attempt to reach the server that will be retried by itself (what the
    connecting screen and ``watch`` report: "cannot reach …; retrying in 4 s, attempt 3")."""

    failures: int  # consecutive failed attempts so far
    retry_in_s: float
    detail: str  # why it failed, fit to show (never a secret)


Progress = Callable[[Retrying], None]

Member = tuple[str, str]
"""A department member: (user id, name)."""


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

    def can_resume(self) -> bool:
        """A stored session or a password source exists: no person is needed to sign in."""
        ...

    async def resume(
        self, progress: Progress = ..., *, deadline: float | None = None
    ) -> UserInfo | None:
        """Sign in without a person (stored session, else the password source), retrying
        while the server is unreachable, failing or rate limiting, each failed attempt
        reported to ``progress``; None when there is nothing to sign in with. Raises
        ``AuthError`` (``SessionEnded``) when a person must log in."""
        ...

    async def await_sign_in(self) -> UserInfo:
        """After the session ended: wait until ``resume`` works again (a new password from
        the source, a session another process stored) and return its user."""
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

    async def departments(
        self, progress: Progress = ..., *, deadline: float | None = None
    ) -> DepartmentList:
        """The departments to watch, role-aware (voki-api.md section 2), retrying like
        ``resume``."""
        ...

    async def close(self) -> None:
        """Release network connections; called on the app's event loop as it shuts down."""
        ...

    async def customer_of(self, call_id: str) -> str | None:
        """The customer's name on call ``call_id`` (one REST lookup); None when unknown or
        not allowed. Never raises for a failed lookup."""
        ...

    async def members(self, department_id: str) -> tuple[Member, ...] | None:
        """The department's members (supervisors and up); None when not allowed or failed."""
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
class ReplayState:
    """Where a replay is (``voki-tui replay``), for the status bar: the moment shown, on the
    server's clock like every moment of a recording, and how it moves."""

    position: datetime
    paused: bool
    speed: float
    at_end: bool


class ReplayControl(Protocol):
    """What the replay keys move (``voki_tui.replay.ReplayFeed``); absent on a live board."""

    def state(self) -> ReplayState: ...

    def toggle_pause(self) -> None: ...

    def step(self, seconds: float) -> None:
        """Move by ``seconds`` (negative: back), within the recording."""
        ...

    def jump(self, moment: datetime) -> None:
        """Move to ``moment``, within the recording."""
        ...

    def moment(self, text: str) -> datetime:
        """A time as the user typed it (``10:15``, ``10:15:30``, an ISO date and time), as a
        moment of the recording; ``ValueError`` with what is wrong with it."""
        ...
