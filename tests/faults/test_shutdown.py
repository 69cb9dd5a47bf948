"""Shutdown under repeated cancellation: what an app exit (Textual cancels the feed worker)
followed by an event-loop teardown (which cancels every task again) does to the socket."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from voki_tui.api.client import VokiClient
from voki_tui.phoenix.core import Connected, Event
from voki_tui.phoenix.transport import PhoenixClient, socket_url
from voki_tui.sim import DEMO_EMAILS, DEMO_PASSWORD, DEMO_TENANT
from voki_tui.sim.testing import InProcessSim, running_sim

pytestmark = pytest.mark.faults


@pytest.fixture
def sim() -> Iterator[InProcessSim]:
    with running_sim(seed=3, paused=True) as handle:
        yield handle


async def test_close_returns_after_run_was_cancelled_twice(sim: InProcessSim) -> None:
    async with VokiClient(sim.url, DEMO_TENANT) as rest:
        token = (await rest.login(DEMO_EMAILS["supervisor"], DEMO_PASSWORD)).access_token
    connected = asyncio.Event()

    def on_event(event: Event) -> None:
        if isinstance(event, Connected):
            connected.set()

    async def url() -> str:
        return socket_url(sim.ws_url.rsplit("/websocket", 1)[0], {"token": token})

    client = PhoenixClient(url, on_event)
    task = asyncio.create_task(client.run())
    await asyncio.wait_for(connected.wait(), 10)
    sim.control("POST", "silence?seconds=5")  # the close handshake will not be answered
    task.cancel()
    await asyncio.sleep(0.1)  # run() is now in its finally, closing the websocket
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await asyncio.wait_for(client.close(), 3)
