"""The server's clock: the host's time plus an offset, for everything voki-sim emits or checks.

A real server's clock can be wrong. ``--clock-offset SECONDS`` (and ``POST /__sim/clock``
at run time) skews voki-sim's "now" by that much: call and presence timestamps, the scenario's
history, the ``iat``/``exp`` of the tokens it issues and the expiry it checks, TOTP codes,
``phx_ref`` ids and the HTTP ``Date`` header all read this clock. Intervals (rate-limit
windows, the websocket idle timeout, the scenario's pace) use the host's monotonic clock, as
they would on a server whose wall clock is off.
"""

from __future__ import annotations

import math
import time
from email.utils import formatdate


class Clock:
    """Wall-clock time as the simulated server believes it to be."""

    def __init__(self, offset: float = 0.0) -> None:
        self.offset = offset

    def __repr__(self) -> str:
        return f"Clock(offset={self.offset!r})"

    @property
    def offset(self) -> float:
        """Seconds added to the host's time (negative: the server is behind)."""
        return self._offset

    @offset.setter
    def offset(self, value: float) -> None:
        if not math.isfinite(value):
            raise ValueError("clock offset must be a finite number of seconds")
        self._offset = float(value)

    def now(self) -> float:
        """Epoch seconds."""
        return time.time() + self._offset

    def now_ns(self) -> int:
        """Epoch nanoseconds."""
        return time.time_ns() + round(self._offset * 1e9)

    def http_date(self) -> str:
        """RFC 7231 IMF-fixdate, e.g. ``Mon, 23 Nov 2026 22:09:44 GMT``."""
        return formatdate(self.now(), usegmt=True)
