"""The client-side budget for ``/api/auth/*`` requests (Voki allows 5 a minute).

Only requests that reached the server count: one refused at the TCP connection, or lost to
DNS or a TLS handshake, is refunded (:meth:`AuthRateGuard.refund`); a timeout after the
request was sent still counts, since the server may have seen it.

Going over the limit is not harmless: every refused request is one more the server counts, and
a client that retries a refused login or refresh in a loop locks itself out for good. So the
client refuses to send instead: ``AuthRateGuard.acquire`` raises ``RateLimitedError`` with the
wait when sending now would exceed ``limit`` requests in any sliding ``window`` (which keeps
us under the server's limit whether its window is sliding or fixed), or while a server 429's
``Retry-After`` has not elapsed. Time comes from an injectable monotonic clock, so a wall-clock
jump cannot unblock or block it, and tests need no sleeping.

One guard per server origin is shared by the whole process (``shared_guard``), or by every
process of the box through a small file beside the token store: the server counts requests per
client address, not per ``VokiClient`` or per process.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import math
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from voki_tui.api.errors import RateLimitedError

DEFAULT_AUTH_LIMIT = 5
DEFAULT_WINDOW_S = 60.0
# Our timestamps are taken before sending, the server's on arrival; network delays differ per
# request, so a request is only forgotten a little after the server has surely forgotten it.
SLACK_S = 1.0
#: A hold longer than this is not believed (see the client's cap on ``Retry-After``).
MAX_HOLD_S = 3600.0
#: Shared entries this far in the future mean the wall clock stepped back: dropped.
CLOCK_STEP_S = 5.0

log = logging.getLogger(__name__)


class AuthRateGuard:
    """A sliding-window request budget plus the server's own ``Retry-After`` holds.

    With ``shared`` (a file), the budget is the box's, not the process's: a wallboard, a
    ``watch`` and a cron ``snapshot`` of one server share one address, and the server counts
    their requests together. The file is read and written under an exclusive ``flock``, on
    the wall clock (the only clock processes share); entries a backwards step of that clock
    leaves in the future are dropped. Where the file cannot be used (a read-only state
    directory) the guard falls back to counting this process alone.
    """

    def __init__(
        self,
        limit: int = DEFAULT_AUTH_LIMIT,
        window_s: float = DEFAULT_WINDOW_S,
        *,
        clock: Callable[[], float] = time.monotonic,
        shared: Path | None = None,
    ) -> None:
        if limit < 1 or window_s <= 0:
            raise ValueError("the auth budget needs limit >= 1 and a positive window")
        self.limit = limit
        self.window_s = window_s
        self.shared = shared
        self._clock = clock
        self._sent: list[float] = []
        self._blocked_until = -math.inf

    @contextlib.contextmanager
    def _ledger(self) -> Iterator[None]:
        """``_sent`` and ``_blocked_until`` are current inside (read from and written back
        to the shared file, under its lock, when there is one)."""
        if self.shared is None:
            yield
            return
        try:
            self.shared.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(self.shared, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
        except OSError as exc:
            log.warning("auth budget not shared (%s): counting this process only", exc.strerror)
            self.shared = None
            yield
            return
        with os.fdopen(fd, "r+b") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                self._load(handle.read())
                yield
                held = self._blocked_until if math.isfinite(self._blocked_until) else None
                handle.seek(0)
                handle.truncate()
                handle.write(json.dumps({"sent": self._sent, "blocked_until": held}).encode())
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def _load(self, raw: bytes) -> None:
        now = self._clock()
        try:
            data = json.loads(raw) if raw else {}
        except ValueError:
            data = {}  # a torn write: start afresh (at worst, one window over budget)
        sent = data.get("sent") if isinstance(data, dict) else None
        blocked = data.get("blocked_until") if isinstance(data, dict) else None
        self._sent = sorted(
            float(t) for t in (sent or []) if isinstance(t, int | float) and t <= now + CLOCK_STEP_S
        )
        until = float(blocked) if isinstance(blocked, int | float) else -math.inf
        self._blocked_until = min(until, now + MAX_HOLD_S)

    def _wait(self, now: float) -> float:
        span = self.window_s + SLACK_S
        self._sent = [t for t in self._sent if t > now - span]
        wait = max(0.0, self._blocked_until - now)
        if len(self._sent) >= self.limit:
            wait = max(wait, self._sent[0] + span - now)
        return wait

    def wait_s(self) -> float:
        """Seconds until one more auth request may be sent (0 when it may be sent now)."""
        with self._ledger():
            return self._wait(self._clock())

    def acquire(self) -> float:
        """Record one request about to be sent, or raise ``RateLimitedError`` with the wait.

        Returns the request's stamp, for :meth:`refund` if it never reaches the server.
        """
        with self._ledger():
            now = self._clock()
            wait = self._wait(now)
            if wait <= 0:
                self._sent.append(now)
                return now
        raise RateLimitedError(
            f"Too many sign-in attempts; try again in {math.ceil(wait)} s", retry_after=wait
        )

    def refund(self, stamp: float) -> None:
        """The request stamped ``stamp`` never reached the server (connection refused, no
        route, DNS failure, TLS handshake): it does not count against the server's limit, so
        a box that retries through an outage has its whole budget when the server is back."""
        with self._ledger(), contextlib.suppress(ValueError):  # gone already: old enough
            self._sent.remove(stamp)

    def hold(self, seconds: float) -> None:
        """The server answered 429: send nothing more before ``seconds`` have passed."""
        with self._ledger():
            until = self._clock() + max(0.0, min(seconds, MAX_HOLD_S))
            self._blocked_until = max(self._blocked_until, until)


_shared: dict[tuple[str, Path | None], AuthRateGuard] = {}


def shared_guard(
    origin: str, directory: Path | None = None, limit: int = DEFAULT_AUTH_LIMIT
) -> AuthRateGuard:
    """The guard for one server origin: process-wide, or box-wide with a ``directory`` (the
    token store's) to keep the shared ledger in."""
    key = (origin, directory)
    guard = _shared.get(key)
    if guard is None:
        if directory is None:
            guard = AuthRateGuard(limit)
        else:
            name = hashlib.sha256(origin.encode()).hexdigest()[:16]
            guard = AuthRateGuard(limit, clock=time.time, shared=directory / f"auth-{name}.json")
        _shared[key] = guard
    return guard


def forget_shared_guards() -> None:
    """Forget every process-wide guard: a new server on an address that was used before
    starts with its whole budget (tests start a simulator per test, and ports are reused)."""
    _shared.clear()
