"""The dashboard on a recording (``voki-tui replay``): the recorded board, ``REPLAY hh:mm:ss``
in the status bar, and the keys that pause, step and jump.

The recording is the scripted session of ``tests/live/recorded.py`` (a link lost at 0:40 and
back at 0:43); the app runs with ``ReplayFeed`` and ``ReplayAccount`` as ``voki-tui replay``
builds them, paused where the test wants a picture.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from voki_tui.live.recording import open_recording
from voki_tui.replay import ReplayAccount, ReplayFeed
from voki_tui.testing.fakes import FakeAuth, FakeFeed, FrozenClock, options
from voki_tui.testing.recorded import USER, record_session
from voki_tui.ui.app import VokiApp
from voki_tui.ui.screens.departments import DepartmentsScreen
from voki_tui.ui.screens.help import HelpScreen, help_text
from voki_tui.ui.screens.jump import JumpScreen
from voki_tui.ui.screens.queue import QueueScreen
from voki_tui.ui.screens.wallboard import WallboardScreen
from voki_tui.ui.widgets.status_bar import StatusBar

from .test_shell_snapshots import wait_for

SIZES = [
    pytest.param((80, 24), id="80x24"),
    pytest.param((120, 40), id="120x40"),
    pytest.param((200, 60), id="200x60"),
]


@pytest.fixture(scope="module")
def recording_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("replay") / "rec"
    asyncio.run(record_session(directory))
    return directory


def replay_app(directory: Path, after_s: float, *, paused: bool = True, **shown: Any) -> VokiApp:
    recording = open_recording(directory)
    feed = ReplayFeed(recording, recording.start + timedelta(seconds=after_s), paused=paused)
    settings = replace(options(**shown), read_only=True, departments=())
    return VokiApp(settings, ReplayAccount(feed), feed, feed.wall_clock, replay=feed)


def status(app: VokiApp) -> str:
    return app.screen.query_one(StatusBar).text


def listed(app: Any) -> bool:
    return isinstance(app.screen, DepartmentsScreen) and len(app.screen.views) == 3


def position(app: VokiApp) -> datetime:
    assert app.replay is not None
    return app.replay.state().position


async def test_the_recorded_board_with_the_replay_mark(recording_dir: Path) -> None:
    app = replay_app(recording_dir, 30)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(listed)(pilot)
        assert app.user == USER
        assert status(app).startswith(" ‖ REPLAY 09:00:30 · ● live")
        await pilot.press("w")
        await wait_for(lambda a: isinstance(a.screen, WallboardScreen))(pilot)
        assert "REPLAY 09:00:30" in status(app)


async def test_the_keys_pause_step_and_jump(recording_dir: Path) -> None:
    app = replay_app(recording_dir, 30)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(listed)(pilot)
        await pilot.press("u")
        await wait_for(lambda a: isinstance(a.screen, QueueScreen))(pilot)
        start = position(app)
        await pilot.press("right")
        assert position(app) == start + timedelta(seconds=10)
        await pilot.press("left", "left")
        assert position(app) == start - timedelta(seconds=10)
        await pilot.press("right_square_bracket")
        assert position(app) == start + timedelta(seconds=50)
        await wait_for(lambda a: "REPLAY 09:01:20" in status(a))(pilot)
        await pilot.press("left_square_bracket", "left_square_bracket")
        assert position(app) == start - timedelta(seconds=30)  # 0:00, the recording's start

        await pilot.press("t")
        await wait_for(lambda a: isinstance(a.screen, JumpScreen))(pilot)
        await pilot.press("ctrl+u", *"9:00:41", "enter")
        await wait_for(lambda a: not isinstance(a.screen, JumpScreen))(pilot)
        assert position(app).astimezone().strftime("%H:%M:%S") == "09:00:41"
        await wait_for(lambda a: "reconnecting" in status(a))(pilot)  # the link was down

        await pilot.press("space")
        assert app.replay is not None and not app.replay.state().paused
        await wait_for(lambda a: position(a).second >= 43)(pilot)
        await wait_for(lambda a: "● live" in status(a))(pilot)  # and came back at 0:43
        await pilot.press("space")
        held = position(app)
        await pilot.pause(0.3)
        assert position(app) == held


async def test_a_time_that_is_not_one_is_said_in_the_field(recording_dir: Path) -> None:
    app = replay_app(recording_dir, 10)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(listed)(pilot)
        before = position(app)
        await pilot.press("t")
        await wait_for(lambda a: isinstance(a.screen, JumpScreen))(pilot)
        await pilot.press("ctrl+u", *"soon", "enter")
        await pilot.pause()
        assert isinstance(app.screen, JumpScreen)
        assert "expected a time of day" in str(app.screen.query_one("#jump-error").render())
        await pilot.press("ctrl+u", *"10:30", "enter")
        await pilot.pause()
        shown = str(app.screen.query_one("#jump-error").render())
        assert shown == "not in the recording, which runs from 09:00:00 to 09:01:30"
        await pilot.press("escape")
        await wait_for(lambda a: not isinstance(a.screen, JumpScreen))(pilot)
        assert position(app) == before


async def test_help_lists_the_replay_keys_in_a_replay_only(recording_dir: Path) -> None:
    app = replay_app(recording_dir, 10)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(listed)(pilot)
        await pilot.press("question_mark")
        await wait_for(lambda a: isinstance(a.screen, HelpScreen))(pilot)
        assert isinstance(app.screen, HelpScreen)
        assert "jump to a time" in app.screen.body
    assert "jump to a time" not in help_text(app.snapshot.counters, 10.0)  # type: ignore[union-attr]


async def test_a_live_board_has_no_replay_keys() -> None:
    from voki_tui.testing.fakes import SUPERVISOR, snapshot

    app = VokiApp(options(), FakeAuth(restored=SUPERVISOR), FakeFeed([snapshot()]), FrozenClock())
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(lambda a: isinstance(a.screen, DepartmentsScreen))(pilot)
        assert app.check_action("replay_pause", ()) is False
        assert app.check_action("replay_jump", ()) is False
        await pilot.press("t")
        await pilot.pause()
        assert not isinstance(app.screen, JumpScreen)
        assert "REPLAY" not in status(app)


@pytest.mark.parametrize("size", SIZES)
def test_replay_wallboard(
    snap_compare: Callable[..., bool], recording_dir: Path, size: tuple[int, int]
) -> None:
    app = replay_app(recording_dir, 41)  # the link was lost a second ago

    async def run_before(pilot: Any) -> None:
        await wait_for(listed)(pilot)
        await pilot.press("w")
        await wait_for(lambda a: isinstance(a.screen, WallboardScreen))(pilot)
        await wait_for(lambda a: "reconnecting" in status(a))(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)
