"""A closed SSH session or a vanished terminal ends the real app, with no spinning.

Runs ``voki-tui --demo`` in a pseudo-terminal, waits for live data, then closes the terminal
(the pty master): with the default SIGHUP disposition, and with SIGHUP ignored (as under
``nohup``), where only the terminal watchdog can notice. Either way the app must exit on its
own, take its embedded voki-sim with it, and not burn CPU meanwhile.
"""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.faults

EXIT_WITHIN_S = 15.0


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    found = subprocess.run(
        ["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False
    ).stdout.split()
    return [int(child) for child in found]


def _start(tmp_path: Path, ignore_hangup: bool) -> tuple[int, int]:
    env = {
        **os.environ,
        "VOKI_TUI_HOME": str(tmp_path),
        "TERM": "xterm-256color",
        "COLUMNS": "120",
        "LINES": "40",
    }
    env.pop("NO_COLOR", None)
    pid, fd = pty.fork()
    if pid == 0:  # the child: become the app
        if ignore_hangup:
            signal.signal(signal.SIGHUP, signal.SIG_IGN)
        os.execvpe(sys.executable, [sys.executable, "-m", "voki_tui", "--demo"], env)
    return pid, fd


def _read_until(fd: int, needle: bytes, within: float) -> bytes:
    seen = b""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline and needle not in seen:
        if select.select([fd], [], [], 0.1)[0]:
            try:
                seen += os.read(fd, 65536)
            except OSError:
                break
    return seen


def _wait_exit(pid: int, within: float) -> tuple[int, float] | None:
    """(exit status, CPU seconds the process used in its whole life), once it has exited."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            return status, usage.ru_utime + usage.ru_stime
        time.sleep(0.1)
    return None


def _wait_gone(pid: int, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1]
        except FileNotFoundError:
            return True
        if state.split()[0] == "Z":  # exited, not yet reaped
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize("ignore_hangup", [False, True], ids=["sighup", "sighup-ignored"])
def test_closing_the_terminal_ends_the_app(tmp_path: Path, ignore_hangup: bool) -> None:
    pid, fd = _start(tmp_path, ignore_hangup)
    result = None
    try:
        assert b"live" in _read_until(fd, b"live", 30), "the demo never showed live data"
        sims = _children(pid)
        assert sims, "the demo's voki-sim child was not found"
        cpu_before = _cpu_seconds(pid)
        started = time.monotonic()
        os.close(fd)
        fd = -1
        result = _wait_exit(pid, EXIT_WITHIN_S)
        assert result is not None, f"still running {EXIT_WITHIN_S} s after the terminal closed"
        elapsed = time.monotonic() - started
        _status, cpu_total = result
        # Noticing took ``elapsed`` seconds; spinning (textual-notes 2.14) would burn more
        # than a core for all of it. Allow shutdown work, not a spin.
        assert cpu_total - cpu_before < 0.5 * elapsed + 1.0, (cpu_total - cpu_before, elapsed)
        for sim in sims:
            assert _wait_gone(sim, 10), f"voki-sim child {sim} outlived the app"
    finally:
        if fd >= 0:
            os.close(fd)
        if result is None:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)


def test_quitting_with_q_exits_zero_and_stops_the_demo_sim(tmp_path: Path) -> None:
    """The plain way out: ``q`` ends the app with status 0, no traceback, nothing left behind."""
    pid, fd = _start(tmp_path, ignore_hangup=False)
    result = None
    try:
        assert b"live" in _read_until(fd, b"live", 30), "the demo never showed live data"
        sims = _children(pid)
        os.write(fd, b"q")
        tail = _read_until(fd, b"Traceback", 10)
        result = _wait_exit(pid, EXIT_WITHIN_S)
        assert result is not None, "still running after q"
        assert os.waitstatus_to_exitcode(result[0]) == 0
        assert b"Traceback" not in tail and b"Error" not in tail
        for sim in sims:
            assert _wait_gone(sim, 10), f"voki-sim child {sim} outlived the app"
    finally:
        os.close(fd)
        if result is None:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)


def test_without_a_terminal_the_dashboard_refuses_to_start(tmp_path: Path) -> None:
    """Seen: started with stdin from /dev/null (systemd, cron) it spun a core at 99 % for
    ever. It now says what to use instead and exits at once."""
    env = {**os.environ, "VOKI_TUI_HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "voki_tui", "--server", "http://127.0.0.1:9", "--tenant", "t"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
        check=False,
    )
    assert done.returncode == 2
    assert "needs a terminal" in done.stderr and "watch --json" in done.stderr
