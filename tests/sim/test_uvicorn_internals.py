"""The parts of uvicorn that voki-sim reaches past ASGI for, checked against the installed one.

``voki_tui.sim.channels.uvicorn_connection`` takes uvicorn's websocket protocol object and its
asyncio transport from behind the ASGI ``send``: broadcasts are written to the transport already
framed, ``/__sim/silence`` pauses reading, and the idle timer watches ``data_received``. None of
that is uvicorn's public API, so each assumption is checked here on a real socket, and a failure
says which one a new uvicorn broke instead of leaving a 403 or a hung test to decode.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosedError, InvalidStatus

from voki_tui.sim import DEMO_EMAILS, DEMO_PASSWORD, DEMO_TENANT
from voki_tui.sim.hub import Conn
from voki_tui.sim.testing import InProcessSim, running_sim

WAIT = 10.0
BROKEN = f"uvicorn {uvicorn.__version__} changed what voki_tui/sim/channels.py relies on: "


@pytest.fixture(scope="module")
def sim() -> Iterator[InProcessSim]:
    with running_sim(seed=3, paused=True, auth_rate_limit=1000) as handle:
        yield handle


def token(sim: InProcessSim) -> str:
    body = {"email": DEMO_EMAILS["manager"], "password": DEMO_PASSWORD, "tenant": DEMO_TENANT}
    response = httpx.post(f"{sim.url}/api/auth/login", json=body, timeout=WAIT)
    assert response.status_code == 200, response.text
    access: str = response.json()["data"]["access_token"]
    return access


def the_conn(sim: InProcessSim) -> Conn:
    """The one socket of this test (the last test's may take a moment to leave the hub)."""
    deadline = time.monotonic() + WAIT
    while len(sim.server.sim.hub.conns) != 1:
        assert time.monotonic() < deadline, sim.server.sim.hub.conns
        time.sleep(0.01)
    (conn,) = sim.server.sim.hub.conns
    return conn


async def test_the_protocol_and_transport_are_behind_asgi_send(sim: InProcessSim) -> None:
    url = f"{sim.ws_url}?token={token(sim)}&vsn=2.0.0"
    try:
        async with connect(url, open_timeout=WAIT) as ws:
            conn = the_conn(sim)
            assert isinstance(conn.transport, asyncio.Transport), BROKEN + "no transport"
            assert not conn.transport.is_closing()
            # A frame the hub wrote to the transport itself, framed by voki-sim.
            await ws.send('[null,"1","phoenix","heartbeat",{}]')
            reply = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
            assert reply == [None, "1", "phoenix", "phx_reply", {"response": {}, "status": "ok"}]
    except InvalidStatus as exc:
        pytest.fail(BROKEN + f"the upgrade was refused ({exc}): uvicorn_connection found nothing")


async def test_bytes_that_are_no_message_reach_the_idle_timer(sim: InProcessSim) -> None:
    """A websocket ping is answered by uvicorn and never becomes an ASGI message: only the
    ``data_received`` hook sees it, and Cowboy's idle timer counts it."""
    async with connect(f"{sim.ws_url}?token={token(sim)}&vsn=2.0.0", open_timeout=WAIT) as ws:
        conn = the_conn(sim)
        before = conn.last_recv
        await asyncio.sleep(0.05)
        pong = await ws.ping()
        await asyncio.wait_for(pong, WAIT)
        assert conn.last_recv > before, BROKEN + "data_received no longer sees incoming bytes"


async def test_a_close_through_asgi_follows_frames_written_to_the_transport(
    sim: InProcessSim,
) -> None:
    """Frames the hub wrote past uvicorn and the close frame uvicorn writes share one stream:
    the reply to a heartbeat arrives before the 1011 for the undecodable frame after it."""
    async with connect(f"{sim.ws_url}?token={token(sim)}&vsn=2.0.0", open_timeout=WAIT) as ws:
        await ws.send('[null,"7","phoenix","heartbeat",{}]')
        await ws.send("not json")
        reply = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
        assert reply[1] == "7"
        with pytest.raises(ConnectionClosedError) as closed:
            await asyncio.wait_for(ws.recv(), WAIT)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1011


async def test_silence_pauses_reading_on_the_transport(sim: InProcessSim) -> None:
    """``/__sim/silence`` is a half-open link: reading paused on the transport, so even a
    websocket ping, which uvicorn answers by itself, waits for the silence to end."""
    async with connect(f"{sim.ws_url}?token={token(sim)}&vsn=2.0.0", open_timeout=WAIT) as ws:
        the_conn(sim)
        assert sim.control("POST", "silence?seconds=0.5").json()["sockets"] == 1
        started = time.monotonic()
        await asyncio.wait_for(await ws.ping(), WAIT)
        assert time.monotonic() - started >= 0.3, BROKEN + "pause_reading held nothing"
