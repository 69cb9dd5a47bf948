"""The server's clock, as seen from here: local time plus an offset the server tells us.

Wall boxes without a battery-backed clock boot with the wrong time, and NTP may be out of
reach on a locked-down network. Every age on the board (how long a customer has waited, how
long an agent has been away) is ``now - a server timestamp``: with the box two hours behind,
a 5-minute wait reads over two hours (a red alarm); two hours ahead, it reads 0 s and the
hour's figures vanish. So ages are computed on the server's time: every REST answer carries an
HTTP ``Date`` and every access token an ``iat``, both whole seconds of the server's clock. The
offset is the median of the latest samples, which one stray ``Date`` (a proxy with its own
clock) cannot move. Pure apart from the injected local clock.
"""

from __future__ import annotations

import statistics
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime

#: The box's clock is said to be off (on screen) beyond this many seconds.
FAR_OFF_S = 60.0
SAMPLES = 15


class ServerTime:
    """Local time corrected by the median offset of the server's recent time samples."""

    def __init__(self, local: Callable[[], float] = time.time, samples: int = SAMPLES) -> None:
        self._local = local
        self._offsets: deque[float] = deque(maxlen=samples)
        self.offset_s = 0.0

    def observe(self, server_epoch: float) -> None:
        """The server said it was ``server_epoch`` (whole seconds) about now."""
        if server_epoch != server_epoch or server_epoch <= 0:  # NaN or nonsense
            return
        # A whole-second stamp stands for somewhere in that second: count its middle.
        self._offsets.append(server_epoch + 0.5 - self._local())
        self.offset_s = statistics.median(self._offsets)

    def now(self) -> float:
        return self._local() + self.offset_s

    def now_utc(self) -> datetime:
        return datetime.fromtimestamp(self.now(), UTC)

    @property
    def far_off(self) -> bool:
        return abs(self.offset_s) > FAR_OFF_S
