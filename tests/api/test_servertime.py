"""The server's clock from here: offsets from Date and iat, robust to a stray sample."""

from __future__ import annotations

from voki_tui.api.servertime import FAR_OFF_S, ServerTime


def test_offset_follows_the_server_and_ignores_a_stray_sample() -> None:
    local = [1_000_000.0]
    clock = ServerTime(lambda: local[0])
    assert clock.offset_s == 0.0 and not clock.far_off
    for step in range(10):
        local[0] += 1
        clock.observe(local[0] + 7200 + (step % 2))  # the server is two hours ahead
    clock.observe(5.0)  # one stray Date (a proxy with a broken clock)
    assert 7200 <= clock.offset_s <= 7201.5
    assert clock.far_off
    assert abs(clock.now() - (local[0] + clock.offset_s)) < 1e-9


def test_nonsense_samples_are_ignored() -> None:
    clock = ServerTime(lambda: 1_000.0)
    for bad in (float("nan"), -1.0, 0.0):
        clock.observe(bad)
    assert clock.offset_s == 0.0


def test_a_box_within_a_minute_is_not_called_off() -> None:
    clock = ServerTime(lambda: 1_000.0)
    clock.observe(1_000.0 + FAR_OFF_S - 2)
    assert not clock.far_off
