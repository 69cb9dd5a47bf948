"""The terminal driver: Textual's own for Linux and macOS, writing through a ``ScreenCopy``.

Textual's ``Driver.write`` is where a frame leaves for the terminal; this subclass hands each
one to the copy first, so only the cells that changed are sent (``screen_copy.py`` says why
and how). The copy is sized by the terminal itself (the ioctl, not ``COLUMNS``) and forgets
the screen whenever that size changes, as terminals reflow or clear on a resize. Signal
handlers that write while a frame is being copied (Textual's suspend on ``SIGTSTP``) get their
text through as it is, and the copy forgets what it knew after that frame. Should the copy
ever fail, the failure is logged and Textual's text is sent as it is from then on: a board
that sends more bytes beats one that stops.
"""

from __future__ import annotations

import logging
import os
import sys
import time

from textual.driver import Driver
from textual.drivers.linux_driver import LinuxDriver

from voki_tui.ui.screen_copy import ScreenCopy

log = logging.getLogger(__name__)

FORGET_EVERY_S = 60.0
"""How often the copy forgets the screen, so Textual's next frame goes out as Textual wrote it.

Without the copy every tick redraws its whole cell, so whatever a foreign writer left on the
terminal (a ``wall`` broadcast, a kernel message on a console) lasts a second in a ticking
cell; with it, only the changed character is drawn. Forgetting once a minute bounds that to a
minute, for one frame a minute sent whole (a busy queue's tick: about 1.3 KB, 20 bytes/s)."""


def driver_for(chosen: type[Driver], *, raw: bool) -> type[Driver]:
    """The driver to run with when Textual chose ``chosen``: its Linux driver becomes the
    copying one unless ``raw`` (``--raw-output``); any other (the web driver of ``voki-tui
    serve``, one set through ``TEXTUAL_DRIVER``) is left as it is."""
    return chosen if raw or chosen is not LinuxDriver else ScreenCopyDriver


def terminal_size() -> tuple[int, int] | None:
    """(columns, lines) of the terminal Textual writes to (its stderr), None if none is."""
    stream = sys.__stderr__
    try:
        size = os.get_terminal_size(stream.fileno() if stream is not None else 2)
    except (OSError, ValueError):
        return None
    return (size.columns, size.lines) if size.columns and size.lines else None


class Output:
    """What the driver sends for each write of Textual's: the copy's text, with the copy sized
    to the terminal and forgotten when it must be. Time and size are passed in."""

    def __init__(self) -> None:
        self.screen_copy: ScreenCopy | None = None
        self.forgotten_at = 0.0
        self.failed = False

    def send(self, data: str, size: tuple[int, int] | None, now: float) -> str:
        """What to write for ``data`` on a terminal of ``size`` (None: not a terminal)."""
        copy = self.screen_copy
        if size is None or self.failed:
            self.screen_copy = None
            return data
        if copy is None:
            copy = self.screen_copy = ScreenCopy(*size)
            self.forgotten_at = now
        elif (copy.width, copy.height) != size:
            copy.resize(*size)
            self.forgotten_at = now
        elif now - self.forgotten_at >= FORGET_EVERY_S:
            copy.forget_cells()
            self.forgotten_at = now
        try:
            return copy.feed(data)
        except Exception:
            log.exception("the screen copy failed; sending the screen as Textual writes it")
            self.failed, self.screen_copy = True, None
            return data

    def forget(self) -> None:
        """Something else was written to the terminal: what it shows is not known."""
        if self.screen_copy is not None:
            self.screen_copy.forget()


class ScreenCopyDriver(LinuxDriver):
    """Textual's Linux driver, sending only what changed on the screen."""

    output: Output | None = None
    copying = False
    interrupted = False

    def write(self, data: str) -> None:
        output = self.output
        if output is None:
            output = self.output = Output()
        if self.copying:  # a signal handler's text, in the middle of a frame
            self.interrupted = True
            super().write(data)
            return
        self.copying = True
        try:
            sent = output.send(data, terminal_size(), time.monotonic())
        finally:
            self.copying = False
        if self.interrupted:
            self.interrupted = False
            output.forget()
        super().write(sent)
