"""The server's clock from here: offsets from Date and iat, robust to a stray sample, to a step
of the box's own clock, and quick to follow a jump of the server's."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from voki_tui.api.servertime import FAR_OFF_S, ServerTime


class Clocks:
    """A box's wall clock and monotonic clock, moved by hand."""

    def __init__(self, wall: float = 1_800_000_000.0) -> None:
        self.wall_now, self.mono_now = wall, 500.0

    def wall(self) -> float:
        return self.wall_now

    def mono(self) -> float:
        return self.mono_now

    def tick(self, seconds: float) -> None:
        self.wall_now += seconds
        self.mono_now += seconds


def test_before_any_sample_the_box_clock_is_used() -> None:
    box = Clocks()
    clock = ServerTime(box.wall, box.mono)
    assert clock.now() == box.wall() and clock.offset_s == 0.0 and not clock.far_off


def test_offset_follows_the_server_and_ignores_a_stray_sample() -> None:
    box = Clocks()
    clock = ServerTime(box.wall, box.mono)
    for step in range(10):
        box.tick(1)
        clock.observe(box.wall() + 7200 + (step % 2))  # the server is two hours ahead
    clock.observe(5.0)  # one stray Date (a proxy with a broken clock)
    assert 7200 <= clock.offset_s <= 7201.5
    assert clock.far_off


def test_a_step_of_the_box_clock_changes_nothing() -> None:
    """NTP catching up after boot steps the wall clock by hours: the server's time, kept
    against the monotonic clock, does not move, and the board says the box is now right."""
    box = Clocks(wall=1_000_000_000.0)  # booted in 2001
    clock = ServerTime(box.wall, box.mono)
    server = 1_800_000_000.0
    for _ in range(5):
        box.tick(1)
        server += 1
        clock.observe(server)
    assert clock.far_off
    before = clock.now()
    box.wall_now += server - box.wall_now  # NTP: the wall clock is right now
    assert abs(clock.now() - before) < 1e-6
    assert abs(clock.offset_s) < 1.0 and not clock.far_off


def test_a_jump_of_the_server_clock_is_followed_after_a_few_samples() -> None:
    box = Clocks()
    clock = ServerTime(box.wall, box.mono)
    for _ in range(15):
        box.tick(1)
        clock.observe(box.wall())
    for _ in range(3):
        box.tick(1)
        clock.observe(box.wall() + 7200)
    assert abs(clock.offset_s - 7200) < 1.5


def test_nonsense_samples_are_ignored() -> None:
    box = Clocks()
    clock = ServerTime(box.wall, box.mono)
    for bad in (float("nan"), -1.0, 0.0):
        clock.observe(bad)
    assert clock.offset_s == 0.0


@given(
    offset=st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
    latencies=st.lists(st.floats(min_value=0, max_value=0.49), min_size=1, max_size=30),
)
def test_the_estimate_is_within_a_second_of_the_truth(
    offset: float, latencies: list[float]
) -> None:
    """Whole-second stamps (floored), each read up to half a second after the server wrote
    it: the estimate is within a second of the server's true time."""
    box = Clocks()
    clock = ServerTime(box.wall, box.mono)
    for latency in latencies:
        box.tick(0.7)
        clock.observe(float(math.floor(box.wall() + offset - latency)))
    assert abs(clock.now() - (box.wall() + offset)) <= 1.0


def test_a_box_within_a_minute_is_not_called_off() -> None:
    box = Clocks()
    clock = ServerTime(box.wall, box.mono)
    clock.observe(box.wall() + FAR_OFF_S - 2)
    assert not clock.far_off
