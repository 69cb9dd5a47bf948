"""Regenerate ``screenshots/*.svg``: every screen in the dark and the light theme.

The data are the test fakes (``voki_tui.testing.fakes``) at a frozen instant, so the pictures
change only when the UI does; the replay's is the scripted recording of
``voki_tui.testing.recorded``, paused a second after its link was lost. Run from the
repository root: ``.venv/bin/python scripts/screenshots.py``.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from voki_tui.live.recording import open_recording
from voki_tui.live.state import FeedSnapshot
from voki_tui.replay import ReplayAccount, ReplayFeed
from voki_tui.testing.fakes import (
    SUPERVISOR,
    FakeAuth,
    FakeFeed,
    FrozenClock,
    options,
    snapshot,
    stale,
)
from voki_tui.testing.recorded import record_session
from voki_tui.ui.app import VokiApp
from voki_tui.ui.widgets.status_bar import StatusBar

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "screenshots"
SIZE = (120, 40)
WALL = (200, 60)
"""The wall monitor of the README's set-up: tmux at 200x60."""
THEMES = ("dark", "light")
Step = Callable[[Any], Awaitable[None]]


async def settle(pilot: Any, condition: Callable[[VokiApp], bool]) -> None:
    for _ in range(500):
        if condition(pilot.app):
            await pilot.pause()
            return
        await pilot.pause(0.02)
    raise RuntimeError("the app never reached the state to photograph")


def keys(*pressed: str, screen: str) -> Step:
    async def step(pilot: Any) -> None:
        await settle(pilot, lambda app: type(app.screen).__name__ == "DepartmentsScreen")
        for key in pressed:  # one at a time: a screen takes the focus once it is shown
            await pilot.press(key)
            await pilot.pause(0.2)
        await settle(pilot, lambda app: type(app.screen).__name__ == screen)

    return step


async def login_screen(pilot: Any) -> None:
    await settle(pilot, lambda app: type(app.screen).__name__ == "LoginScreen")


SHOTS: dict[str, tuple[Step, FeedSnapshot | None]] = {
    "login": (login_screen, None),
    "departments": (keys(screen="DepartmentsScreen"), snapshot()),
    "departments-stale": (keys(screen="DepartmentsScreen"), stale(snapshot())),
    "queue": (keys("u", screen="QueueScreen"), snapshot()),
    "presence": (keys("p", screen="PresenceScreen"), snapshot()),
    "wallboard": (keys("w", screen="WallboardScreen"), snapshot()),
    "wallboard-reconnecting": (keys("w", screen="WallboardScreen"), stale(snapshot())),
    "queue-reconnecting": (keys("u", screen="QueueScreen"), stale(snapshot())),
    "help": (keys("question_mark", screen="HelpScreen"), snapshot()),
    "customer": (keys("u", "enter", screen="DetailPanel"), snapshot()),
    "wall-200x60": (keys("w", screen="WallboardScreen"), snapshot()),
}


async def shoot(name: str, theme: str, step: Step, snap: FeedSnapshot | None) -> Path:
    auth = FakeAuth(
        restored=SUPERVISOR if snap is not None else None,
        call_customers={"c-0": "Zé Ninguém"},
        department_members={"d-sales": (("u-9", "Otto Ausente"),)},
    )
    feed = FakeFeed([snap] if snap is not None else [])
    app = VokiApp(options(theme=theme), auth, feed, FrozenClock())
    async with app.run_test(size=WALL if name.startswith("wall-") else SIZE) as pilot:
        await step(pilot)
        path = OUT / f"{name}-{theme}.svg"
        path.write_text(app.export_screenshot(title=f"voki-tui · {name}"), encoding="utf-8")
    return path


async def shoot_replay(theme: str) -> Path:
    """``voki-tui replay`` on the wallboard, paused a second after the recorded link was lost."""
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch) / "recording"
        await record_session(directory)
        recording = open_recording(directory)
        feed = ReplayFeed(recording, recording.start + timedelta(seconds=41), paused=True)
        settings = replace(options(theme=theme), read_only=True, departments=())
        app = VokiApp(settings, ReplayAccount(feed), feed, feed.wall_clock, replay=feed)
        async with app.run_test(size=SIZE) as pilot:
            await keys("w", screen="WallboardScreen")(pilot)
            await settle(pilot, lambda app: "reconnecting" in app.screen.query_one(StatusBar).text)
            await pilot.pause(0.3)
            path = OUT / f"replay-wallboard-{theme}.svg"
            path.write_text(app.export_screenshot(title="voki-tui replay"), encoding="utf-8")
    return path


async def main() -> None:
    for name in [n for n in os.environ if n.startswith("TEXTUAL_")] + ["NO_COLOR", "COLORTERM"]:
        os.environ.pop(name, None)
    os.environ["TZ"] = "UTC"
    time.tzset()
    OUT.mkdir(exist_ok=True)
    for name, (step, snap) in SHOTS.items():
        for theme in THEMES:
            print(await shoot(name, theme, step, snap))
    for theme in THEMES:
        print(await shoot_replay(theme))


if __name__ == "__main__":
    asyncio.run(main())
