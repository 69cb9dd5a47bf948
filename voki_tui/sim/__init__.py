"""voki-sim: a loopback stand-in for the Voki server (REST API and real Phoenix Channels).

See ``voki_tui.sim.testing`` for running it from tests, and ``python -m voki_tui.sim --help``.
"""

from .config import SimConfig
from .world import DEMO_EMAILS, DEMO_PASSWORD, DEMO_TENANT

__all__ = ["DEMO_EMAILS", "DEMO_PASSWORD", "DEMO_TENANT", "SimConfig"]
