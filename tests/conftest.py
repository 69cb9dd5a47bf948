"""Shared fixtures: a fresh in-process voki-sim per test (starts in a few milliseconds)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from voki_tui.api.ratelimit import forget_shared_guards
from voki_tui.sim.testing import InProcessSim, running_sim


@pytest.fixture(autouse=True)
def fresh_auth_budget() -> Iterator[None]:
    """The auth budget is per server address and process-wide; a simulator on a port a
    previous test used must not inherit that test's spent budget."""
    forget_shared_guards()
    yield


@pytest.fixture
def sim() -> Iterator[InProcessSim]:
    """voki-sim on a free loopback port, seed 7, with rate limits raised for tests."""
    with running_sim(seed=7, auth_rate_limit=1000, widget_rate_limit=1000) as handle:
        yield handle
