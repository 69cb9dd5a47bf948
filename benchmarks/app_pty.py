"""The real ``voki-tui`` on a pty against a separate voki-sim process: shared by the benchmarks.

The simulator runs as its own process (``SimProcess``) so that the CPU we sample from ``/proc``
is the app's alone. The app logs in as the demo supervisor with ``VOKI_PASSWORD``, with its
state in a throw-away ``VOKI_TUI_HOME``; ``TERM=xterm-256color``, no ``COLORTERM``, the default
theme (the figures change by +-35 % with those, textual-notes.md section 5).
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from benchmarks.pty_meter import PtyChild

PASSWORD = "voki-demo-pass"
_ANSI = re.compile(rb"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b[()][A-Z0-9]|\x1b[=>]")


def voki_tui() -> list[str]:
    """The installed entry point next to this interpreter, else ``python -m voki_tui``."""
    script = Path(sys.executable).with_name("voki-tui")
    return [str(script)] if script.exists() else [sys.executable, "-m", "voki_tui"]


#: Runs the CLI with ``LiveFeed``'s default ``publish_interval`` replaced (an experiment only).
_PATCHED_LAUNCHER = (
    "import sys\n"
    "from voki_tui.live.feed import LiveFeed\n"
    "LiveFeed.__init__.__kwdefaults__['publish_interval'] = float(sys.argv[1])\n"
    "from voki_tui.cli import main\n"
    "sys.exit(main(sys.argv[2:]))\n"
)


def app_argv(server: str, *extra: str, publish_interval: float | None = None) -> list[str]:
    """The dashboard logged in to ``server``; ``publish_interval`` overrides the feed's pacing."""
    args = ["--server", server, "--tenant", "demo", "--email", "supervisor@demo.test", *extra]
    if publish_interval is None:
        return [*voki_tui(), *args]
    return [sys.executable, "-c", _PATCHED_LAUNCHER, str(publish_interval), *args]


@contextmanager
def app_env() -> Iterator[dict[str, str]]:
    """A clean environment for the app: fixed TERM, no colour overrides, private state dir.

    Bytecode is cached as on a user's machine (pip compiles an installed package): a
    ``PYTHONDONTWRITEBYTECODE`` in the caller's environment had every start compile the
    app's 80 modules again, about a tenth of its start time.
    """
    home = tempfile.mkdtemp(prefix="voki-bench-")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("TEXTUAL")
        and k not in ("COLORTERM", "NO_COLOR", "PYTHONDONTWRITEBYTECODE")
    }
    env.update(TERM="xterm-256color", VOKI_TUI_HOME=home, VOKI_PASSWORD=PASSWORD)
    try:
        yield env
    finally:
        shutil.rmtree(home, ignore_errors=True)


def plain(data: bytes) -> bytes:
    """Terminal output without escape sequences (text runs become searchable)."""
    return _ANSI.sub(b"", data)


def wait_for_text(
    child: PtyChild, needles: Sequence[bytes], timeout: float
) -> tuple[float | None, bytes]:
    """Read until any of ``needles`` is on the child's screen; (monotonic time or None, raw)."""
    deadline = time.monotonic() + timeout
    seen = b""
    while time.monotonic() < deadline and child.alive:
        _, _, raw = child.read_for(0.02)
        if not raw:
            continue
        seen += raw
        if any(child.shows(n) for n in needles):
            return time.monotonic(), seen
    return None, seen
