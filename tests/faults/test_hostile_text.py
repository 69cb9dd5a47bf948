"""Hostile customer names and reasons, injected through ``POST /__sim/customers`` into the real
``voki-tui`` running in a pseudo-terminal (and, in-process, into ``VokiApp`` with a real feed).

What must hold: the app keeps running, the bytes written to the terminal never contain the
injected escape sequences (the terminal is not retitled, cleared or given a clipboard), and the
text appears literally on the screen those bytes leave (a terminal emulator's: the app sends
only the characters that changed, so a name need not appear whole in its bytes), with control
characters shown as visible pictures (``␛``, ``␇``).
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.pty_meter import PtyChild
from voki_tui.account import Account, AccountFeed
from voki_tui.api.tokens import TokenStore
from voki_tui.settings import Settings
from voki_tui.sim import DEMO_PASSWORD, DEMO_TENANT
from voki_tui.sim.testing import InProcessSim, running_sim
from voki_tui.ui.app import VokiApp

from .harness import FAST_PHOENIX, SUPERVISOR, wait_for

pytestmark = pytest.mark.faults

LONG = "M9" + "y" * 10_000

#: (customer name, reason, raw bytes that must never reach the terminal, literal text shown)
HOSTILE: list[tuple[str, str, bytes | None, str]] = [
    ("M1[b]x[/b]", "R1[i]r[/i]", None, "M1[b]x[/b]"),
    ("M2[@click=app.quit]q[/]", "R2", None, "M2[@click=app.quit]q[/]"),
    ("M3[/foo]", "R3[/]", None, "M3[/foo]"),
    ("M4\x1b[2JZ", "R4\x1b[31mred", b"M4\x1b[2J", "M4\u241b[2JZ"),
    ("M5\x1b]0;pwned\x07Z", "R5", b"\x1b]0;pwned", "M5\u241b]0;pwned\u2407Z"),
    ("M6\x1b]52;c;cHduZWQ=\x07Z", "R6", b"\x1b]52;", "M6\u241b]52;c;cHduZWQ=\u2407Z"),
    ("M7\u202eevil", "R7\u2066", "M7\u202e".encode(), "M7\ufffdevil"),
    ("M8a\u200bb", "R8\u200d", "\u200b".encode(), "M8ab"),
    (LONG, "R9" + "z" * 10_000, None, "M9yyyyyyyy"),
]


def visible(child: PtyChild) -> str:
    """What the child's terminal shows, line by line."""
    return "\n".join(child.screen.display)


@pytest.fixture
def sim() -> Iterator[InProcessSim]:
    with running_sim(seed=23, paused=True, auth_rate_limit=1000, widget_rate_limit=1000) as h:
        first = h.department_ids()[0]
        for name, reason, _, _ in HOSTILE:
            body = {"department_id": first, "customer_name": name, "reason": reason}
            h.control("POST", "customers", json=body).raise_for_status()
        yield h


def read_until(child: PtyChild, wanted: list[str], seconds: float) -> bytes:
    """Read the pty until every ``wanted`` string is visible or ``seconds`` pass."""
    out = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and child.alive:
        out += child.read_for(0.5)[2]
        shown = visible(child)
        if all(w in shown for w in wanted):
            break
    return out


def test_hostile_text_in_a_real_terminal(sim: InProcessSim, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "TERM": "xterm-256color",
        "VOKI_PASSWORD": DEMO_PASSWORD,
        "VOKI_TUI_HOME": str(tmp_path),
        "LANG": "C.UTF-8",
    }
    env.pop("NO_COLOR", None)
    argv = [sys.executable, "-m", "voki_tui", "--server", sim.url, "--tenant", DEMO_TENANT]
    first = sim.department_ids()[0]
    argv += ["--email", SUPERVISOR, "--department", first, "--lang", "en", "--insecure"]
    child = PtyChild(argv, 200, 50, env)
    try:
        wanted = [literal for _, _, _, literal in HOSTILE] + ["TLS not verified"]
        raw = read_until(child, wanted, 60)
        shown = visible(child)
        missing = [w for w in wanted if w not in shown]
        assert not missing, f"not shown literally: {missing!r}"
        for _, _, forbidden, _ in HOSTILE:
            if forbidden is not None:
                assert forbidden not in raw, forbidden
        # No bell and no OSC terminator from the data (Textual's own OSC 22 pointer-shape
        # sequence ends with BEL, so it is taken out first).
        assert b"\x07" not in re.sub(rb"\x1b\]22;[a-z-]*\x07", b"", raw)
        assert b"\x1b]52" not in raw and b"\x1b]0;" not in raw  # clipboard, title
        # Secrets never on screen: the password, and the stored tokens.
        assert DEMO_PASSWORD.encode() not in raw
        token_files = list((tmp_path / "state").glob("token-*.json"))
        assert token_files, "the app did not store a session"
        stored = token_files[0].read_text()
        for token in re.findall(r'"(?:refresh|access)_token": "([^"]+)"', stored):
            assert token.encode()[:40] not in raw
        assert child.alive, "the app exited"
        os.write(child.fd, b"q")
        deadline = time.monotonic() + 15
        while child.alive and time.monotonic() < deadline:
            child.read_for(0.2)
        assert not child.alive, "q did not quit"
    finally:
        child.stop()


async def test_hostile_text_in_the_app_with_a_real_feed(sim: InProcessSim, tmp_path: Path) -> None:
    first = tuple(sim.department_ids()[:1])
    options = Settings(sim.url, DEMO_TENANT, SUPERVISOR, first, password=DEMO_PASSWORD, lang="en")
    account = Account(options, TokenStore(tmp_path))
    app = VokiApp(options, account, AccountFeed(account, FAST_PHOENIX))
    try:
        async with app.run_test(size=(200, 50)) as pilot:

            def all_waiting() -> bool:
                snap = app.snapshot
                return (
                    snap is not None
                    and snap.connection.state.value == "live"
                    and sum(len(v.waiting) for v in snap.departments) >= len(HOSTILE)
                )

            await wait_for(all_waiting, 20)
            steps = [
                ("p", "PresenceScreen"),
                ("u", "QueueScreen"),
                ("w", "WallboardScreen"),
                ("u", "QueueScreen"),
                ("question_mark", "HelpScreen"),
                ("escape", "QueueScreen"),
            ]
            for key, screen in steps:
                await pilot.press(key)
                await wait_for(lambda screen=screen: type(app.screen).__name__ == screen, 10)
            await pilot.click(offset=(10, 8))  # somewhere in the hostile rows
            literals = [_escaped(literal) for _, _, _, literal in HOSTILE[:3]]
            await wait_for(lambda: all(text in app.export_screenshot() for text in literals), 10)
            assert app.is_running
    finally:
        await account.close()


def _escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
