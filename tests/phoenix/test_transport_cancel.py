"""Shutting the transport down must finish even when the owner is cancelled more than once."""

from __future__ import annotations

import asyncio
import socket

from voki_tui.phoenix.core import Event
from voki_tui.phoenix.transport import PhoenixClient


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_close_returns_when_run_was_cancelled_again_while_closing() -> None:
    """An app exiting cancels its workers repeatedly; a second cancel landing while ``run``
    closes its websocket once left ``close()`` waiting for ever (a hang at exit)."""
    port = closed_port()

    async def url() -> str:
        return f"ws://127.0.0.1:{port}/socket/websocket?vsn=2.0.0"

    events: list[Event] = []
    client = PhoenixClient(url, events.append)
    closing = asyncio.Event()

    async def slow_drop(code: int = 1000, reason: str = "") -> None:
        closing.set()
        await asyncio.sleep(30)

    task = asyncio.create_task(client.run())
    await asyncio.sleep(0.1)  # connection refused, backing off
    real_drop = client._drop_connection
    client._drop_connection = slow_drop  # type: ignore[method-assign]
    task.cancel()
    await asyncio.wait_for(closing.wait(), 5)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    client._drop_connection = real_drop  # type: ignore[method-assign]
    async with asyncio.timeout(5):
        await client.close()
