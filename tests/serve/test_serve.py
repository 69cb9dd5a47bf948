"""``voki-tui serve``: the board in a browser, never open to whoever finds the port.

The real command in a subprocess, against voki-sim; the browser is Debian's headless Chromium
driven by playwright-core from node (``tests/node/browser.mjs``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from voki_tui.sim import DEMO_EMAILS, DEMO_PASSWORD, DEMO_TENANT
from voki_tui.sim.testing import InProcessSim, running_sim

NODE_DIR = Path(__file__).resolve().parent.parent / "node"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


class Served:
    """``voki-tui serve`` running; ``url`` is what it printed (with the token)."""

    def __init__(self, sim: InProcessSim, home: Path, *extra: str) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("VOKI_")}
        env |= {"VOKI_TUI_HOME": str(home), "VOKI_PASSWORD": DEMO_PASSWORD}
        args = [sys.executable, "-m", "voki_tui", "serve", "--port", "0", *extra]
        args += ["--server", sim.url, "--tenant", DEMO_TENANT, "--email", DEMO_EMAILS["supervisor"]]
        self.process = subprocess.Popen(
            args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.lines: list[str] = []
        self.errors: list[str] = []
        self.home = home
        got = threading.Event()

        def read(stream: object, into: list[str]) -> None:
            for line in stream:  # type: ignore[attr-defined]
                into.append(line)
                got.set()

        threading.Thread(target=read, args=(self.process.stdout, self.lines), daemon=True).start()
        threading.Thread(target=read, args=(self.process.stderr, self.errors), daemon=True).start()
        deadline = time.monotonic() + 30
        while not self.url and time.monotonic() < deadline:
            got.wait(0.2)
        assert self.url, (self.lines, self.errors)

    @property
    def url(self) -> str:
        found = re.search(r"(http://\S+\?token=\S+)", "".join(self.lines))
        return found.group(1) if found else ""

    @property
    def base(self) -> str:
        return self.url.split("/?", 1)[0]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()


@pytest.fixture
def sim() -> Iterator[InProcessSim]:
    with running_sim(seed=31, auth_rate_limit=1000) as handle:
        yield handle


@pytest.fixture
def served(sim: InProcessSim, tmp_path: Path) -> Iterator[Served]:
    running = Served(sim, tmp_path, "--wallboard")
    try:
        yield running
    finally:
        running.stop()


def test_nothing_with_data_opens_without_the_token(served: Served) -> None:
    base, token = served.base, served.url.rsplit("token=", 1)[1]
    with httpx.Client(timeout=10) as client:
        assert client.get(f"{base}/").status_code == 403
        assert client.get(f"{base}/?token=not-{token}").status_code == 403
        upgrade = {"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
                   "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}  # fmt: skip
        assert client.get(f"{base}/ws", headers=upgrade).status_code == 403
        assert client.get(f"{base}/download/x").status_code == 403
        page = client.get(served.url)
        assert page.status_code == 200
        cookie = page.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        assert page.headers["referrer-policy"] == "no-referrer"
        # The emulator's own script is the same for everyone and carries no data.
        assert client.get(f"{base}/static/js/textual.js").status_code == 200


def test_listening_beyond_loopback_without_tls_warns(sim: InProcessSim, tmp_path: Path) -> None:
    running = Served(sim, tmp_path, "--host", "0.0.0.0")
    try:
        deadline = time.monotonic() + 10
        while "WARNING" not in "".join(running.errors) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "without TLS" in "".join(running.errors)
    finally:
        running.stop()


def _children(pid: int) -> list[str]:
    """Command lines of the processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except (OSError, ValueError):
            continue
    return found


@pytest.mark.node
def test_a_browser_gets_the_live_board(served: Served, tmp_path: Path) -> None:
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (.ci/run installs Debian's chromium)")
    shot = tmp_path / "browser.png"
    sessions: list[str] = []

    def watch_children() -> None:
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline and not sessions:
            # A child that has forked but not yet exec'd still shows the server's own
            # command line: only a session's (no ``serve``) counts.
            sessions.extend(
                c for c in _children(served.process.pid) if "voki_tui" in c and " serve " not in c
            )
            time.sleep(0.2)

    watcher = threading.Thread(target=watch_children, daemon=True)
    watcher.start()
    done = subprocess.run(
        ["node", "browser.mjs", served.url, str(shot), "30"],
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
        env={**os.environ, "CHROMIUM": CHROMIUM},
    )
    watcher.join(45)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["status"] == 200 and result["first_byte"], (result, done.stderr)
    assert result["frames"] > 5 and result["bytes"] > 5_000, result
    assert sessions and "--read-only" in sessions[0] and "--wallboard" in sessions[0]
    assert shot.stat().st_size > 10_000
    log = (served.home / "log" / "voki-tui.log").read_text()
    assert "browser session 1 started" in log
