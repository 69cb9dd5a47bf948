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

One guard per server origin is shared by the whole process (``shared_guard``): the server
counts our requests per client address, not per ``VokiClient``.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections import deque
from collections.abc import Callable

from voki_tui.api.errors import RateLimitedError

DEFAULT_AUTH_LIMIT = 5
DEFAULT_WINDOW_S = 60.0
# Our timestamps are taken before sending, the server's on arrival; network delays differ per
# request, so a request is only forgotten a little after the server has surely forgotten it.
SLACK_S = 1.0


class AuthRateGuard:
    """A sliding-window request budget plus the server's own ``Retry-After`` holds."""

    def __init__(
        self,
        limit: int = DEFAULT_AUTH_LIMIT,
        window_s: float = DEFAULT_WINDOW_S,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if limit < 1 or window_s <= 0:
            raise ValueError("the auth budget needs limit >= 1 and a positive window")
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._sent: deque[float] = deque()
        self._blocked_until = -math.inf

    def wait_s(self) -> float:
        """Seconds until one more auth request may be sent (0 when it may be sent now)."""
        now = self._clock()
        span = self.window_s + SLACK_S
        while self._sent and self._sent[0] <= now - span:
            self._sent.popleft()
        wait = max(0.0, self._blocked_until - now)
        if len(self._sent) >= self.limit:
            wait = max(wait, self._sent[0] + span - now)
        return wait

    def acquire(self) -> float:
        """Record one request about to be sent, or raise ``RateLimitedError`` with the wait.

        Returns the request's stamp, for :meth:`refund` if it never reaches the server.
        """
        wait = self.wait_s()
        if wait > 0:
            raise RateLimitedError(
                f"Too many sign-in attempts; try again in {math.ceil(wait)} s",
                retry_after=wait,
            )
        stamp = self._clock()
        self._sent.append(stamp)
        return stamp

    def refund(self, stamp: float) -> None:
        """The request stamped ``stamp`` never reached the server (connection refused, no
        route, DNS failure, TLS handshake): it does not count against the server's limit, so
        a box that retries through an outage has its whole budget when the server is back."""
        with contextlib.suppress(ValueError):  # already forgotten (older than the window)
            self._sent.remove(stamp)

    def hold(self, seconds: float) -> None:
        """The server answered 429: send nothing more before ``seconds`` have passed."""
        self._blocked_until = max(self._blocked_until, self._clock() + max(0.0, seconds))


_shared: dict[str, AuthRateGuard] = {}


def shared_guard(origin: str, limit: int = DEFAULT_AUTH_LIMIT) -> AuthRateGuard:
    """The process-wide guard for one server origin (created with ``limit`` on first use)."""
    guard = _shared.get(origin)
    if guard is None:
        guard = _shared[origin] = AuthRateGuard(limit)
    return guard


def forget_shared_guards() -> None:
    """Forget every process-wide guard: a new server on an address that was used before
    starts with its whole budget (tests start a simulator per test, and ports are reused)."""
    _shared.clear()
