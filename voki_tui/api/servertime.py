"""The server's clock, as seen from here, for every age on the board.

Wall boxes without a battery-backed clock boot with the wrong time, and NTP may be out of
reach on a locked-down network, or step the clock hours later. Every age on the board (how
long a customer has waited, how long an agent has been away) is ``now - a server timestamp``:
with the box two hours behind, a 5-minute wait reads over two hours (a red alarm); two hours
ahead, it reads 0 s and the hour's figures vanish. So ages are computed on the server's time.

Every REST answer carries an HTTP ``Date`` and every access token an ``iat``, both whole
seconds of the server's clock. Each sample is kept as an offset from this process's
*monotonic* clock, so a step of the box's own clock (NTP catching up after boot) changes
nothing: the server's time is ``monotonic + offset``. The offset is the median of the latest
samples, which one stray ``Date`` (a proxy with its own clock) cannot move; when the last few
samples agree with each other and not with the median, the server's clock itself has jumped,
and they are believed at once.
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
#: This many samples in a row, within ``AGREE_S`` of each other and more than ``JUMP_S`` from
#: the median, mean the server's clock jumped.
JUMP_RUN = 3
AGREE_S = 2.0
JUMP_S = 30.0


class ServerTime:
    """The server's clock: monotonic time plus the median offset of recent samples."""

    def __init__(
        self,
        wall: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        samples: int = SAMPLES,
    ) -> None:
        self._wall = wall
        self._monotonic = monotonic
        self._offsets: deque[float] = deque(maxlen=samples)
        self._median: float | None = None

    def observe(self, server_epoch: float) -> None:
        """The server said it was ``server_epoch`` (whole seconds) about now."""
        if server_epoch != server_epoch or server_epoch <= 0:  # NaN or nonsense
            return
        # A whole-second stamp stands for somewhere in that second: count its middle.
        self._offsets.append(server_epoch + 0.5 - self._monotonic())
        recent = list(self._offsets)[-JUMP_RUN:]
        median = self._median
        jumped = (
            median is not None
            and len(recent) == JUMP_RUN
            and max(recent) - min(recent) <= AGREE_S
            and all(abs(offset - median) > JUMP_S for offset in recent)
        )
        if jumped:
            self._offsets = deque(recent, maxlen=self._offsets.maxlen)
        self._median = statistics.median(self._offsets)

    def now(self) -> float:
        """The server's time now (epoch seconds); our own wall clock until it has spoken."""
        if self._median is None:
            return self._wall()
        return self._monotonic() + self._median

    def now_utc(self) -> datetime:
        return datetime.fromtimestamp(self.now(), UTC)

    @property
    def offset_s(self) -> float:
        """The server's clock minus this box's wall clock (what to tell the user)."""
        return self.now() - self._wall()

    @property
    def far_off(self) -> bool:
        return abs(self.offset_s) > FAR_OFF_S
