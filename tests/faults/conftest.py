"""Every fault test must leave no task running: an app or feed that does not finish closing
within a few seconds of being cancelled is a bug (its socket would never close cleanly)."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator

import pytest

SETTLE_S = 5.0


@pytest.fixture(autouse=True)
async def _no_task_left_behind() -> AsyncIterator[None]:
    yield
    current = asyncio.current_task()
    left = [task for task in asyncio.all_tasks() if task is not current]
    for task in left:
        task.cancel()
    if not left:
        return
    _done, pending = await asyncio.wait(left, timeout=SETTLE_S)
    if pending:
        stacks = io.StringIO()
        for task in pending:
            stacks.write(f"{task.get_name()}: {' -> '.join(_awaiting(task))}\n")
        pytest.fail(f"{len(pending)} task(s) did not end when cancelled:\n{stacks.getvalue()}")


def _awaiting(task: asyncio.Task[object]) -> list[str]:
    """Where a task is stuck: the chain of coroutines it awaits, innermost last."""
    chain: list[str] = []
    coro: object = task.get_coro()
    while coro is not None and len(chain) < 30:
        code = getattr(coro, "cr_code", None) or getattr(coro, "ag_code", None)
        frame = getattr(coro, "cr_frame", None)
        if code is not None:
            line = frame.f_lineno if frame is not None else "?"
            chain.append(f"{code.co_qualname}:{line}")
        coro = getattr(coro, "cr_await", None)
    return chain
