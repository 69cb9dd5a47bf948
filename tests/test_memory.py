"""Freed memory goes back to the system (``voki_tui.memory``), on a real heap of this process."""

from __future__ import annotations

import asyncio
import itertools
import platform
from pathlib import Path

import pytest

from voki_tui import memory


def resident_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS in /proc/self/status")


def test_pages_freed_in_holes_go_back_to_the_system() -> None:
    """60 MB of 2 KB blocks (``malloc``'s, not Python's small-object arenas), every 50th kept so
    the heap cannot shrink from its top: freeing the rest leaves the pages resident until
    released."""
    blocks = [bytes(2048) for _ in range(30_000)]
    kept = blocks[::50]
    del blocks
    before = resident_mb()
    released = memory.release_free_memory()
    after = resident_mb()
    if platform.libc_ver()[0] == "glibc":
        assert released
        assert before - after > 20, (before, after)
    else:  # nothing to call: nothing happens
        assert not released
    assert len(kept) == 600


async def test_release_runs_on_its_interval_until_cancelled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[float] = []
    three = asyncio.Event()
    loop = asyncio.get_running_loop()
    started = loop.time()

    def release() -> bool:
        calls.append(loop.time())
        if len(calls) == 3:
            three.set()
        return True

    monkeypatch.setattr(memory, "release_free_memory", release)
    task = asyncio.create_task(memory.release_periodically(0.02))
    await asyncio.wait_for(three.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    count = len(calls)
    assert count >= 3
    assert calls[0] - started >= 0.015  # it waits before the first release too
    assert all(b - a >= 0.015 for a, b in itertools.pairwise(calls))
    await asyncio.sleep(0.05)
    assert len(calls) == count  # stopped
