"""Run voki-sim from tests and benchmarks: in-process on its own thread, or as a subprocess.

Both handles share one API (``url``, ``ws_url``, ``port``, ``control``, ``state``,
``restart``, ``stop``). A restart keeps the port and the signing secret, so tokens issued
before it still work; the in-process restart re-seeds a fresh state from the same seed.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import httpx

from .config import SimConfig
from .server import SimServer

START_TIMEOUT_S = 15.0
_URL_LINE = re.compile(r"listening on (http://\S+)")


class SimHandle:
    """What a test holds: addresses, the control API, and lifecycle."""

    url: str
    ws_url: str
    port: int

    def _set_address(self, url: str) -> None:
        self.url = url.rstrip("/")
        self.port = int(self.url.rsplit(":", 1)[1])
        self.ws_url = self.url.replace("http", "ws", 1) + "/socket/websocket"

    def control(self, method: str, path: str, **httpx_kwargs: Any) -> httpx.Response:
        """``control("POST", "silence?seconds=5")`` -> the ``/__sim/`` response."""
        httpx_kwargs.setdefault("timeout", 10.0)
        return httpx.request(method, f"{self.url}/__sim/{path.lstrip('/')}", **httpx_kwargs)

    def state(self) -> dict[str, Any]:
        response = self.control("GET", "state")
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def department_ids(self) -> list[str]:
        """Every department's id (a uuid), in the order ``GET /__sim/state`` lists them."""
        return [str(d["id"]) for d in self.state()["departments"]]

    @property
    def mfa_secret(self) -> str:
        """The base32 TOTP secret of ``mfa@demo.test`` (also printed by the CLI)."""
        return str(self.state()["mfa_totp_secret"])

    def restart(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError


class InProcessSim(SimHandle):
    """uvicorn on a private event loop in a daemon thread."""

    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: SimServer | None = None

    def __repr__(self) -> str:
        return f"InProcessSim(url={getattr(self, 'url', None)!r})"

    def start(self) -> None:
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="voki-sim", daemon=True)
        thread.start()
        self._loop, self._thread = loop, thread

        async def boot() -> SimServer:
            server = SimServer(self.config)
            await server.start()
            return server

        try:
            self._server = asyncio.run_coroutine_threadsafe(boot(), loop).result(START_TIMEOUT_S)
        except BaseException:
            self._shutdown_loop()
            raise
        self._set_address(self._server.url)

    def stop(self) -> None:
        if self._server is not None and self._loop is not None:
            asyncio.run_coroutine_threadsafe(self._server.stop(), self._loop).result(30)
            self._server = None
        self._shutdown_loop()

    def _shutdown_loop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._loop.close()
        self._loop, self._thread = None, None

    def restart(self) -> None:
        self.stop()
        self.config = replace(self.config, port=self.port, boot=self.config.boot + 1)
        self.start()

    @property
    def server(self) -> SimServer:
        """The live server, for tests that need its internals (same thread rules apply)."""
        if self._server is None:
            raise RuntimeError("simulator not running")
        return self._server


@contextmanager
def running_sim(**options: Any) -> Iterator[InProcessSim]:
    """An in-process simulator on a free loopback port (``port=0``) unless told otherwise."""
    options.setdefault("port", 0)
    handle = InProcessSim(SimConfig.from_options(**options))
    handle.start()
    try:
        yield handle
    finally:
        handle.stop()


def cli_args(config: SimConfig) -> list[str]:
    """The ``voki-sim`` flags that reproduce ``config``."""
    args: list[str] = []
    defaults = SimConfig()
    for name in SimConfig.__dataclass_fields__:
        value = getattr(config, name)
        flag = "--" + name.replace("_", "-")
        if isinstance(value, bool):
            if value:
                args.append(flag)
        elif value != getattr(defaults, name) or name in ("port", "boot"):
            args += [flag, str(value)]
    return args


def _terminate_with_parent() -> None:
    """In the child before exec: ask Linux for SIGTERM when the parent goes away."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


_PR_SET_PDEATHSIG = 1


class SimProcess(SimHandle):
    """``python -m voki_tui.sim`` as a child process; a context manager like ``running_sim``."""

    def __init__(self, *, die_with_parent: bool = False, **options: Any) -> None:
        """``die_with_parent`` (Linux): the simulator ends when the process that started it
        does, even if that one is killed or ``os._exit``s (``voki-tui --demo`` uses it). Only
        for a parent that starts it from its main thread: the kernel ties it to the thread."""
        options.setdefault("port", 0)
        self.config = SimConfig.from_options(**options)
        self.die_with_parent = die_with_parent
        self.process: subprocess.Popen[str] | None = None

    def __repr__(self) -> str:
        return f"SimProcess(url={getattr(self, 'url', None)!r})"

    def __enter__(self) -> SimProcess:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and flags
            [sys.executable, "-m", "voki_tui.sim", *cli_args(self.config)],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            preexec_fn=_terminate_with_parent if self.die_with_parent else None,
        )
        self.process = process
        found: list[str] = []
        ready = threading.Event()
        reader = threading.Thread(
            target=self._read_stdout, args=(process, found, ready), daemon=True
        )
        reader.start()
        ready.wait(START_TIMEOUT_S)
        if not found:
            self.stop()
            raise RuntimeError("voki-sim subprocess did not start")
        self._set_address(found[0])

    @staticmethod
    def _read_stdout(
        process: subprocess.Popen[str], found: list[str], ready: threading.Event
    ) -> None:
        assert process.stdout is not None
        for line in process.stdout:  # keep draining so the child never blocks on a full pipe
            match = _URL_LINE.search(line)
            if match and not found:
                found.append(match.group(1))
                ready.set()
        ready.set()  # the child exited

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.config = replace(self.config, port=self.port, boot=self.config.boot + 1)
        self.start()
