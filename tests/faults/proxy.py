"""A misbehaving front for voki-sim: a TCP proxy that passes plain HTTP through and does
something else with websocket upgrades (refuse them, redirect them), or drips its answers.

What a corporate proxy, a broken load balancer or a hostile server does, on real loopback
sockets, in front of the real simulator.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Literal

Mode = Literal["pass", "refuse_upgrades", "redirect_upgrades", "drip"]


@dataclass
class Proxy:
    """Listens on ``url``; forwards to ``target_port``; ``mode`` decides what goes wrong."""

    target_port: int
    mode: Mode = "pass"
    redirect_to: str = ""  # for redirect_upgrades: the Location given
    upgrades_seen: int = 0
    requests_seen: list[str] = field(default_factory=list)  # request lines, in order
    url: str = ""
    _server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            writer.close()
            return
        self.requests_seen.append(head.split(b"\r\n", 1)[0].decode("latin-1"))
        upgrade = b"upgrade: websocket" in head.lower()
        if upgrade:
            self.upgrades_seen += 1
        if upgrade and self.mode == "refuse_upgrades":
            writer.write(
                b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )
            await _close(writer)
            return
        if upgrade and self.mode == "redirect_upgrades":
            writer.write(
                b"HTTP/1.1 302 Found\r\nLocation: "
                + self.redirect_to.encode()
                + b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )
            await _close(writer)
            return
        if self.mode == "drip" and not upgrade:
            # A status line, then one header byte a second: no single read times out.
            writer.write(b"HTTP/1.1 200 OK\r\n")
            with contextlib.suppress(ConnectionError):
                for _ in range(100):
                    await writer.drain()
                    writer.write(b"X")
                    await asyncio.sleep(1)
            await _close(writer)
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            await _close(writer)
            return
        up_writer.write(head)
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        await _close(writer)


async def _close(writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(Exception):
        writer.close()
        await writer.wait_closed()


@asynccontextmanager
async def proxy(target_port: int, mode: Mode, redirect_to: str = "") -> AsyncIterator[Proxy]:
    front = Proxy(target_port, mode, redirect_to)
    await front.start()
    try:
        yield front
    finally:
        await front.stop()


@asynccontextmanager
async def listener() -> AsyncIterator[list[bytes]]:
    """A port that records the first bytes of every connection it gets (and answers none)."""
    got: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            got.append(await asyncio.wait_for(reader.read(4096), 2))
        await _close(writer)

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    got.append(str(server.sockets[0].getsockname()[1]).encode())  # got[0]: the port
    try:
        yield got
    finally:
        server.close()
