"""PhoenixClient over real loopback websockets against voki-sim (no mocked network)."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest

from voki_tui.phoenix.core import (
    AuthFailed,
    ChannelJoined,
    Connected,
    Disconnected,
    Event,
    Message,
    PushTimeout,
    Reply,
    Settings,
)
from voki_tui.phoenix.transport import PhoenixClient, redact_url, socket_url
from voki_tui.sim.testing import InProcessSim, running_sim

WAIT_S = 20.0  # generous: a loaded 2-core machine


@pytest.fixture(scope="module")
def sim() -> Iterator[InProcessSim]:
    with running_sim() as handle:
        yield handle


def login(sim: InProcessSim) -> str:
    response = httpx.post(
        f"{sim.url}/api/auth/login",
        json={"tenant": "demo", "email": "supervisor@demo.test", "password": "voki-demo-pass"},
        timeout=10.0,
    )
    response.raise_for_status()
    token: str = response.json()["data"]["access_token"]
    return token


class Recorder:
    def __init__(self) -> None:
        self.events: list[Event] = []
        self.changed = asyncio.Event()

    def __call__(self, event: Event) -> None:
        self.events.append(event)
        self.changed.set()

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]

    async def until(self, check: Callable[[], bool]) -> None:
        """Poll ``check`` (some conditions change without an event) until it holds."""
        async with asyncio.timeout(WAIT_S):
            while not check():
                self.changed.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(0.05):
                        await self.changed.wait()


@pytest.fixture
async def running(sim: InProcessSim) -> AsyncIterator[tuple[PhoenixClient, Recorder, list[str]]]:
    token = login(sim)
    urls: list[str] = []

    async def url_provider() -> str:
        url = socket_url(sim.url.replace("http", "ws", 1) + "/socket", {"token": token})
        urls.append(url)
        return url

    recorder = Recorder()
    settings = Settings(heartbeat_interval=0.5, heartbeat_timeout=1.5)
    client = PhoenixClient(url_provider, recorder, settings=settings, rng=random.Random(3))
    task = asyncio.create_task(client.run())
    yield client, recorder, urls
    await client.close()
    async with asyncio.timeout(WAIT_S):
        await task


def department_id(sim: InProcessSim) -> str:
    dep: str = sim.department_ids()[0]
    return dep


async def test_connect_join_queue_and_heartbeat(
    sim: InProcessSim, running: tuple[PhoenixClient, Recorder, list[str]]
) -> None:
    client, rec, urls = running
    topic = f"queue:{department_id(sim)}"
    client.join(topic)
    await rec.until(lambda: bool(rec.of(ChannelJoined)))
    assert rec.of(ChannelJoined)[0].topic == topic
    assert urls[0].endswith("vsn=2.0.0")
    rtt = client.core.stats
    await rec.until(lambda: rtt.last_heartbeat_rtt is not None)
    assert client.core.stats.malformed == 0


async def test_reconnects_and_rejoins_after_drop(
    sim: InProcessSim, running: tuple[PhoenixClient, Recorder, list[str]]
) -> None:
    client, rec, urls = running
    client.join(f"queue:{department_id(sim)}")
    await rec.until(lambda: len(rec.of(ChannelJoined)) == 1)
    await asyncio.to_thread(sim.control, "POST", "drop")
    await rec.until(lambda: len(rec.of(ChannelJoined)) == 2)
    assert len(rec.of(Connected)) == 2 and len(rec.of(Disconnected)) == 1
    first, second = rec.of(ChannelJoined)
    assert first.join_ref != second.join_ref
    assert len(urls) == 2  # the URL (token) is re-read for every attempt


async def test_silent_server_detected_by_heartbeat_timeout(
    sim: InProcessSim, running: tuple[PhoenixClient, Recorder, list[str]]
) -> None:
    client, rec, _ = running
    await rec.until(lambda: bool(rec.of(Connected)))
    await asyncio.to_thread(sim.control, "POST", "silence?seconds=4")
    await rec.until(lambda: bool(rec.of(Disconnected)))
    assert rec.of(Disconnected)[0].reason == "heartbeat timeout"
    assert client.core.stats.heartbeat_timeouts >= 1
    await rec.until(lambda: len(rec.of(Connected)) >= 2)


async def test_push_reply_and_presence_messages(
    sim: InProcessSim, running: tuple[PhoenixClient, Recorder, list[str]]
) -> None:
    client, rec, _ = running
    topic = f"presence:{department_id(sim)}"
    client.join(topic)
    await rec.until(lambda: any(m.event == "presence_state" for m in rec.of(Message)))
    state = next(m for m in rec.of(Message) if m.event == "presence_state")
    assert state.join_ref == rec.of(ChannelJoined)[0].join_ref
    ref = client.push(topic, "no_such_event", {}, timeout=1.0)
    await rec.until(lambda: any(e.ref == ref for e in rec.of(Reply) + rec.of(PushTimeout)))


async def test_bad_token_is_an_auth_failure(sim: InProcessSim) -> None:
    refreshed: list[bool] = []

    async def url_provider() -> str:
        return socket_url(sim.url.replace("http", "ws", 1) + "/socket", {"token": "bad-token"})

    async def refresh() -> None:
        refreshed.append(True)

    rec = Recorder()
    client = PhoenixClient(url_provider, rec, auth_refresh=refresh, rng=random.Random(1))
    task = asyncio.create_task(client.run())
    try:
        await rec.until(lambda: len(rec.of(AuthFailed)) >= 2)
    finally:
        await client.close()
        async with asyncio.timeout(WAIT_S):
            await task
    first, second = rec.of(AuthFailed)[:2]
    assert first.status == 403 and first.refresh_requested and not second.refresh_requested
    assert refreshed == [True]


def test_redact_url_hides_token() -> None:
    url = socket_url("wss://voki.example/socket", {"token": "s3cr3t.jwt"})
    assert url == "wss://voki.example/socket/websocket?token=s3cr3t.jwt&vsn=2.0.0"
    assert "s3cr3t" not in redact_url(url)
    assert redact_url(url) == "wss://voki.example/socket/websocket?token=<redacted>&vsn=2.0.0"
