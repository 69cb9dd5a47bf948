"""Settings of one simulator instance, shared by the CLI, the in-process test server and tests."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

# A fixed default so tokens stay valid across restarts of a default-configured simulator.
DEFAULT_SECRET = "voki-sim-insecure-demo-secret-change-me"  # noqa: S105 - public demo key


@dataclass(frozen=True, slots=True)
class SimConfig:
    """Every knob of ``voki-sim``; field names match the long CLI flags (``_`` for ``-``)."""

    host: str = "127.0.0.1"
    port: int = 4000
    seed: int = 1
    speed: float = 1.0
    departments: int = 4
    agents: int = 12
    join_snapshot: bool = False
    access_ttl: int = 900
    refresh_ttl: int = 7 * 24 * 3600
    auth_rate_limit: int = 5
    widget_rate_limit: int = 30
    secret: str = DEFAULT_SECRET
    idle_timeout: float = 60.0
    paused: bool = False
    #: ``GET /api/v1/users/me`` lists an attendant's ``departments`` (``[{"id", "name"}]``).
    #: The docs list no such field (voki-api.md marks it ASSUMED, optional), so by default the
    #: sim leaves it out and an attendant finds their departments through their calls.
    me_departments: bool = False
    #: After a restart, refuse (401) every refresh token an earlier run issued: a server that
    #: lost its session table. Runs are told apart by ``boot``, which every restart bumps.
    forget_sessions_on_restart: bool = False
    #: Seconds added to the host's time wherever the server reads "now" (``sim/clock.py``).
    clock_offset: float = 0.0
    #: Which start of this server this is. Call ids are drawn from (seed, boot), so a restarted
    #: server never re-issues the ids of an earlier run, as a real server with a database would not;
    #: refresh tokens carry it for ``forget_sessions_on_restart``. Both restarts in
    #: ``testing.py`` bump it.
    boot: int = 0

    def __post_init__(self) -> None:
        if self.departments < 1:
            raise ValueError("departments must be >= 1")
        if self.agents < 0:
            raise ValueError("agents must be >= 0")
        if self.speed <= 0:
            raise ValueError("speed must be > 0")
        if self.idle_timeout <= 0:
            raise ValueError("idle_timeout must be > 0")
        if not math.isfinite(self.clock_offset):
            raise ValueError("clock_offset must be a finite number of seconds")

    def __repr__(self) -> str:  # the signing secret never appears in logs or reprs
        shown = ", ".join(
            f"{f.name}={'<redacted>' if f.name == 'secret' else repr(getattr(self, f.name))}"
            for f in fields(self)
        )
        return f"SimConfig({shown})"

    @classmethod
    def from_options(cls, **options: Any) -> SimConfig:
        """Build from keyword options (as ``running_sim`` takes them); unknown names are errors."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise TypeError(f"unknown simulator option(s): {', '.join(unknown)}")
        return cls(**options)
