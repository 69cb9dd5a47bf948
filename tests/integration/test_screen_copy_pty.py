"""The screen copy on a real terminal: the app in a pty against voki-sim, a busy queue.

The app runs with its own copying driver, wrapped to record what Textual wrote before the copy
(``scripts/record_output.py``); what reached the pty is the copy's output, after the tty's own
newline translation. Fed to two terminal emulators, Textual's text and what was sent must
leave the same screen (characters, colours, attributes) at the moment the app was stopped,
with fewer bytes sent: the driver's wiring, sizing and the copy, end to end.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pyte

from benchmarks.app_pty import app_argv, app_env, wait_for_text
from benchmarks.cost import LIVE, realistic_sim
from benchmarks.pty_meter import PtyChild, for_pyte

ROOT = Path(__file__).resolve().parents[2]
COLS, ROWS = 100, 30
LEAVE_ALT_SCREEN = "\x1b[?1049l"  # the app's exit: compare the screens it leaves


def screen_of(text: str) -> list[list[tuple[object, ...]]]:
    screen = pyte.Screen(COLS, ROWS)
    pyte.Stream(screen).feed(for_pyte(text))
    return [[tuple(screen.buffer[y][x]) for x in range(COLS)] for y in range(ROWS)]


def test_the_terminal_shows_what_textual_wrote(tmp_path: Path) -> None:
    record = tmp_path / "writes"
    with realistic_sim() as (sim, department, _), app_env() as env:
        env = {
            **env,
            "TEXTUAL_DRIVER": "scripts.record_output:RecordingDriver",
            "VOKI_RECORD_OUTPUT": str(record),
            "PYTHONPATH": str(ROOT),
        }
        argv = app_argv(sim.url, "--lang", "en", "--department", department)
        child = PtyChild(argv, COLS, ROWS, env)
        try:
            at, sent = wait_for_text(child, [LIVE], 60)
            assert at is not None, sent[-400:]
            os.write(child.fd, b"u")
            sent += child.read_for(8.0)[2]  # ticks, customers taken and topped up
            os.kill(child.pid, signal.SIGTERM)
            deadline = time.monotonic() + 20
            while child.alive and time.monotonic() < deadline:
                sent += child.read_for(0.5)[2]
            assert not child.alive, "the app did not end on SIGTERM"
        finally:
            child.stop()
    wrote = record.read_text(encoding="utf-8").replace("\x00", "")
    received = sent.decode()
    assert LEAVE_ALT_SCREEN in wrote and LEAVE_ALT_SCREEN in received
    wrote = wrote[: wrote.rindex(LEAVE_ALT_SCREEN)]
    received = received[: received.rindex(LEAVE_ALT_SCREEN)]
    shown = screen_of(received)
    assert shown == screen_of(wrote)
    text = "\n".join("".join(str(cell[0]) for cell in line) for line in shown)
    assert "Wait" in text and "Customer" in text
    assert len(received.encode()) < len(wrote.encode())
