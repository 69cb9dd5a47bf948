"""A recording TCP relay on loopback: what the client really put on the wire, byte for byte.

Used instead of mocking the network: the client talks to the relay over a real socket, the
relay forwards to voki-sim, and tests read back every HTTP request head that went through
(to count auth requests and check headers on each one).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

_HEAD = re.compile(rb"(GET|POST|PUT|PATCH|DELETE) (\S+) HTTP/1\.[01]\r\n(.*?)\r\n\r\n", re.S)


@dataclass(frozen=True)
class RequestHead:
    method: str
    target: str
    headers: dict[str, str]  # lower-case names

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]


class Wiretap:
    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.sent = bytearray()
        self.url = ""
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def requests(self) -> list[RequestHead]:
        heads = []
        for match in _HEAD.finditer(bytes(self.sent)):
            headers = {}
            for line in match.group(3).split(b"\r\n"):
                name, _, value = line.partition(b":")
                headers[name.strip().lower().decode()] = value.strip().decode()
            heads.append(RequestHead(match.group(1).decode(), match.group(2).decode(), headers))
        return heads

    def auth_requests(self) -> list[RequestHead]:
        return [r for r in self.requests() if r.path.startswith("/api/auth/")]

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, record: bool
    ) -> None:
        try:
            while data := await reader.read(65536):
                if record:
                    self.sent.extend(data)
                writer.write(data)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        tasks = [
            asyncio.create_task(self._pipe(reader, up_writer, True)),
            asyncio.create_task(self._pipe(up_reader, writer, False)),
        ]
        self._tasks.update(tasks)
        await asyncio.gather(*tasks, return_exceptions=True)

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await self._server.wait_closed()


@contextlib.asynccontextmanager
async def wiretap(upstream_port: int) -> AsyncIterator[Wiretap]:
    tap = Wiretap(upstream_port)
    await tap.start()
    try:
        yield tap
    finally:
        await tap.stop()
