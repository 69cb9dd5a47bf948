"""The auth budget with a fake clock: never more than ``limit`` sends in any window."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voki_tui.api.errors import RateLimitedError
from voki_tui.api.ratelimit import SLACK_S, AuthRateGuard


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_budget_then_refusal_with_the_wait() -> None:
    clock = FakeClock()
    guard = AuthRateGuard(limit=5, clock=clock)
    for _ in range(5):
        guard.acquire()
        clock.now += 1
    with pytest.raises(RateLimitedError) as refused:
        guard.acquire()
    assert refused.value.retry_after == pytest.approx(60 + SLACK_S - 5)
    assert "try again in 56 s" in refused.value.message
    clock.now += refused.value.retry_after
    guard.acquire()  # the oldest send has left the window


def test_server_hold_blocks_even_with_budget_left() -> None:
    clock = FakeClock()
    guard = AuthRateGuard(limit=5, clock=clock)
    guard.hold(30)
    with pytest.raises(RateLimitedError) as refused:
        guard.acquire()
    assert refused.value.retry_after == pytest.approx(30)
    clock.now += 29.9
    assert guard.wait_s() == pytest.approx(0.1)
    clock.now += 0.1
    guard.acquire()


def test_refusals_do_not_spend_budget() -> None:
    clock = FakeClock()
    guard = AuthRateGuard(limit=1, clock=clock)
    guard.acquire()
    for _ in range(100):
        with pytest.raises(RateLimitedError):
            guard.acquire()
    clock.now += 60 + SLACK_S
    guard.acquire()


@given(
    limit=st.integers(min_value=1, max_value=6),
    steps=st.lists(st.floats(min_value=0, max_value=40, allow_nan=False), max_size=60),
)
def test_no_window_ever_holds_more_than_the_limit(limit: int, steps: list[float]) -> None:
    clock = FakeClock()
    guard = AuthRateGuard(limit=limit, clock=clock)
    sent: list[float] = []
    for step in steps:
        clock.now += step
        try:
            guard.acquire()
            sent.append(clock.now)
        except RateLimitedError as exc:
            assert exc.retry_after > 0
    for i, start in enumerate(sent):
        in_window = [t for t in sent[i:] if t < start + 60 + SLACK_S]
        assert len(in_window) <= limit
