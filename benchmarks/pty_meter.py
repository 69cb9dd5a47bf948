"""Run a terminal program in a pseudo-terminal and measure what it costs an SSH link.

The child gets a pty of the requested size (set before exec, so it never lays out at 80x24
first). After a warm-up we count the bytes it writes, group them into frames (bursts separated
by a quiet gap), and sample its CPU time and resident memory from ``/proc``. Then we force one
full repaint (a resize away and back) to learn what a whole screen costs, which gives
``full_repaint_ratio`` = bytes written / (full-screen bytes x frames that changed).
"""

from __future__ import annotations

import codecs
import contextlib
import fcntl
import os
import pty
import re
import select
import signal
import struct
import termios
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pyte

FRAME_GAP_S = 0.008  # Textual writes a frame in one go; a quiet gap ends it


@dataclass(frozen=True)
class PtyMeasurement:
    cols: int
    rows: int
    seconds: float
    bytes_total: int
    frames: int
    full_screen_bytes: int
    cpu_percent: float
    rss_mb: float

    @property
    def bytes_per_s(self) -> float:
        return self.bytes_total / self.seconds if self.seconds else 0.0

    @property
    def full_repaint_ratio(self) -> float | None:
        denominator = self.full_screen_bytes * self.frames
        return self.bytes_total / denominator if denominator else None


def _set_size(fd: int, cols: int, rows: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of every thread of ``pid``."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


_KITTY_KEYBOARD = re.compile(r"\x1b\[[<>=?][0-9;]*u")


def for_pyte(text: str) -> str:
    """``text`` without what pyte misreads: the kitty keyboard protocol's flags pushed,
    popped, set or asked for (Textual pushes them as it starts and pops them as it ends).
    Terminals that know the protocol and terminals that do not both leave the screen and the
    cursor alone; pyte takes ``CSI > 25 u`` for a restored cursor and draws the ``u`` of
    ``CSI < u``."""
    return _KITTY_KEYBOARD.sub("", text)


class PtyChild:
    """A child process on a pty whose output we read and count, and whose screen we keep.

    What is on screen is read from a terminal emulator (pyte) fed everything the child wrote,
    never from the bytes themselves: voki-tui sends only the characters that changed, so a
    name on screen may never appear whole in its output (``Zq0043k`` after ``Zq0042k`` is a
    cursor move and a ``3``).
    """

    def __init__(self, argv: Sequence[str], cols: int, rows: int, env: Mapping[str, str]) -> None:
        self.cols, self.rows = cols, rows
        self.screen = pyte.Screen(cols, rows)
        self._stream = pyte.Stream(self.screen)
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        pid, fd = pty.fork()
        if pid == 0:  # pragma: no cover - the child
            _set_size(0, cols, rows)
            os.execvpe(argv[0], list(argv), dict(env))
        self.pid, self.fd = pid, fd
        self.alive = True

    def feed(self, data: bytes) -> None:
        """Put what the child wrote on the emulated screen (``read_for`` does it for its own
        reads; a reader of its own, as the latency watcher, calls it)."""
        self._stream.feed(for_pyte(self._decoder.decode(data)))

    def shows(self, text: bytes) -> bool:
        """Whether ``text`` is on the screen now (within one line)."""
        wanted = text.decode()
        return any(wanted in line for line in self.screen.display)

    def read_for(self, seconds: float) -> tuple[int, int, bytes]:
        """Read for ``seconds``; return (bytes, frames, the raw output)."""
        deadline = time.monotonic() + seconds
        total, frames, last_data = 0, 0, 0.0
        chunks: list[bytes] = []
        while self.alive:
            now = time.monotonic()
            if now >= deadline:
                break
            ready, _, _ = select.select([self.fd], [], [], min(0.05, deadline - now))
            if not ready:
                continue
            try:
                data = os.read(self.fd, 65536)
            except OSError:
                self.alive = False
                break
            if not data:
                self.alive = False
                break
            now = time.monotonic()
            if now - last_data > FRAME_GAP_S:
                frames += 1
            last_data = now
            total += len(data)
            chunks.append(data)
            self.feed(data)
        return total, frames, b"".join(chunks)

    def resize(self, cols: int, rows: int) -> None:
        self.screen.resize(rows, cols)
        _set_size(self.fd, cols, rows)
        os.kill(self.pid, signal.SIGWINCH)

    def stop(self) -> None:
        if self.alive:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGTERM)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            done, _ = os.waitpid(self.pid, os.WNOHANG)
            if done:
                break
            self.read_for(0.1)
        else:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        os.close(self.fd)


def measure(
    argv: Sequence[str],
    *,
    cols: int,
    rows: int,
    warmup_s: float,
    measure_s: float,
    env: Mapping[str, str] | None = None,
    before_measure: Sequence[bytes] = (),
) -> PtyMeasurement:
    """Start ``argv`` on a ``cols``x``rows`` pty, warm up, then measure for ``measure_s``."""
    child_env = dict(os.environ if env is None else env)
    child_env.setdefault("TERM", "xterm-256color")
    child = PtyChild(argv, cols, rows, child_env)
    try:
        child.read_for(warmup_s)
        for keys in before_measure:
            os.write(child.fd, keys)
            child.read_for(1.0)
        cpu0, t0 = cpu_seconds(child.pid), time.monotonic()
        total, frames, _ = child.read_for(measure_s)
        elapsed = time.monotonic() - t0
        cpu = cpu_seconds(child.pid) - cpu0
        memory = rss_mb(child.pid)
        child.resize(cols - 1, rows)
        child.read_for(1.0)
        child.resize(cols, rows)
        full, _, _ = child.read_for(1.0)
    finally:
        child.stop()
    return PtyMeasurement(
        cols=cols,
        rows=rows,
        seconds=elapsed,
        bytes_total=total,
        frames=frames,
        full_screen_bytes=full,
        cpu_percent=100.0 * cpu / elapsed if elapsed else 0.0,
        rss_mb=memory,
    )
