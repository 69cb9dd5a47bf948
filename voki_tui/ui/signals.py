"""Leave cleanly when the terminal goes away (textual-notes §2.14).

Textual installs no SIGHUP/SIGTERM handler: a closed SSH session kills the process without
``on_unmount`` (socket not closed) and ``kill`` leaves the terminal in the alternate screen. And
when SIGHUP is ignored (nohup, some supervisors) and the tty vanishes, Textual's input thread
spins at full CPU. So: both signals become ``app.exit``, and a 5 s watchdog exits when standard
input is no longer a live terminal.

Leaving must also finish: Textual's output thread can die or block on a terminal that vanished
while output was queued, and its shutdown then waits for it for ever. So an exit for one of
these reasons arms a deadline after which the process ends with ``os._exit``.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from collections.abc import Callable
from functools import partial
from typing import Any

from textual.app import App

HANDLED = (signal.SIGHUP, signal.SIGTERM)
WATCHDOG_INTERVAL_S = 5.0
EXIT_TERMINAL_GONE = 129  # as if killed by SIGHUP: supervisors read it as "hung up"
FORCED_EXIT_AFTER_S = 5.0


_deadline: threading.Timer | None = None


def exit_soon(app: App[Any], code: int, deadline_s: float = FORCED_EXIT_AFTER_S) -> None:
    """``app.exit(code)``; with a real terminal, also ``os._exit`` after ``deadline_s`` unless
    :func:`cancel_exit_deadline` is called once ``App.run`` has returned."""
    global _deadline
    if not app.is_headless and _deadline is None:
        _deadline = threading.Timer(deadline_s, os._exit, args=(code,))
        _deadline.daemon = True  # a clean exit does not wait for it
        _deadline.start()
    app.exit(return_code=code)


def cancel_exit_deadline() -> None:
    """The app has shut down: what follows (closing sockets, the demo's simulator) may take
    its time."""
    global _deadline
    if _deadline is not None:
        _deadline.cancel()
        _deadline = None


def install_exit_handlers(app: App[Any]) -> Callable[[], None]:
    """Make SIGHUP and SIGTERM end ``app`` with 128 + signal; returns the undo function."""
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    for sig in HANDLED:
        try:
            loop.add_signal_handler(sig, partial(exit_soon, app, 128 + int(sig)))
        except (NotImplementedError, RuntimeError, ValueError):  # no unix signals here
            continue
        installed.append(sig)

    def remove() -> None:
        for sig in installed:
            loop.remove_signal_handler(sig)

    return remove


def terminal_alive(fd: int = 0) -> bool:
    """True while ``fd`` is a terminal that still has a foreground process group."""
    try:
        if not os.isatty(fd):
            return False
        os.tcgetpgrp(fd)
    except OSError:  # EIO / ENOTTY once the terminal is gone
        return False
    return True


def start_tty_watchdog(
    app: App[Any], alive: Callable[[], bool] = terminal_alive
) -> Callable[[], None] | None:
    """Exit ``app`` once the terminal dies; armed only when there is a terminal to watch."""
    if app.is_headless or not alive():
        return None

    def check() -> None:
        if not alive():
            exit_soon(app, EXIT_TERMINAL_GONE)

    timer = app.set_interval(WATCHDOG_INTERVAL_S, check, name="tty-watchdog")
    return timer.stop
