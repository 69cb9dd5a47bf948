"""The auth budget with a fake clock: never more than ``limit`` sends in any window."""

from __future__ import annotations

import stat
from pathlib import Path

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


def test_a_shared_budget_counts_every_process_of_the_box(tmp_path: Path) -> None:
    """A wallboard, a watch and a cron job of one server share one address: the server counts
    their auth requests together, so the budget is kept in one file for all of them."""
    clock = FakeClock()
    ledger = tmp_path / "auth.json"
    processes = [AuthRateGuard(limit=5, clock=clock, shared=ledger) for _ in range(3)]
    for n in range(5):
        processes[n % 3].acquire()
    for guard in processes:
        with pytest.raises(RateLimitedError):
            guard.acquire()
    clock.now += 60 + SLACK_S
    processes[2].acquire()


def test_a_hold_and_a_refund_reach_every_process(tmp_path: Path) -> None:
    clock = FakeClock()
    ledger = tmp_path / "auth.json"
    one, two = (AuthRateGuard(limit=2, clock=clock, shared=ledger) for _ in range(2))
    stamp = one.acquire()
    two.acquire()
    one.refund(stamp)  # never reached the server
    two.acquire()
    one.hold(30)  # a 429 seen by one process stops the other too
    clock.now += 62
    assert two.wait_s() == 0.0
    one.hold(30)
    assert 29 < two.wait_s() <= 30
    assert stat.S_IMODE(ledger.stat().st_mode) == 0o600


def test_a_backwards_step_of_the_wall_clock_does_not_block_for_ever(tmp_path: Path) -> None:
    clock = FakeClock()
    clock.now = 10_000.0
    ledger = tmp_path / "auth.json"
    guard = AuthRateGuard(limit=1, clock=clock, shared=ledger)
    guard.acquire()
    clock.now = 1_000.0  # the box's clock was set back by hours
    guard.acquire()  # the entry from "the future" is dropped


def test_an_unusable_ledger_falls_back_to_this_process(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    guard = AuthRateGuard(limit=1, clock=FakeClock(), shared=blocker / "auth.json")
    guard.acquire()
    with pytest.raises(RateLimitedError):
        guard.acquire()
