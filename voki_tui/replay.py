"""``voki-tui replay``: the board of a past moment, from a ``--record`` directory.

A supervisor asks what the board showed at 10:15, when the queue exploded. The recording holds
every step the feed applied (``voki_tui.live.record``); a ``Player`` applies them again to the
same ``FeedMachine`` (``voki_tui.live.recording``), on the recording's own clock: the feed's
code, fed a different input. So ``replay FILE --at T snapshot --json`` prints the document
``watch --json`` printed at T (give it the line's ``taken_at_exact``), and the dashboard shows
the screens the live board showed, with ``REPLAY hh:mm:ss`` in the status bar.

For the dashboard, this module stands in for the live world: ``ReplayFeed`` is the app's
``FeedRunner`` (it publishes what the feed published, as the recording's time passes, at
``--speed`` times the pace, paused and moved by the replay keys) and ``ReplayAccount`` its
``Authenticator`` (the recorded user and departments; nothing to log in or out of).
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TextIO

from voki_tui.live.document import iso, snapshot_document
from voki_tui.live.machine import Notify as NotifyEffect
from voki_tui.live.recording import Player, Recording, RecordingError, open_recording, parse_moment
from voki_tui.live.state import Department, UserInfo
from voki_tui.ports import (
    DepartmentList,
    LastLogin,
    Member,
    Notify,
    Progress,
    Publish,
    ReplayState,
)

EXIT_OK = 0
EXIT_USAGE = 2

#: While playing, the replay looks at its clock at least this often (the status bar's time
#: moves on, a key is answered) even when the recording is quiet.
LONGEST_WAIT_S = 0.25


class ReplayError(Exception):
    """What stops a replay: a path that is not a recording, a moment not in it."""


def _open(path: Path, at: str | None) -> tuple[Recording, datetime | None]:
    try:
        recording = open_recording(path, at)
        moment = None if at is None else parse_moment(at, recording)
    except RecordingError as exc:
        raise ReplayError(str(exc)) from None
    if moment is not None:
        end = recording.end()
        if not recording.start <= moment <= end:
            raise ReplayError(
                f"--at {at}: {iso(moment)} is not in the recording, which runs from "
                f"{iso(recording.start)} to {iso(end)}"
            )
    return recording, moment


def open_feed(path: Path, at: str | None, speed: float) -> ReplayFeed:
    """The dashboard's feed for ``replay PATH [--at T] [--speed N]``."""
    recording, moment = _open(path, at)
    try:
        return ReplayFeed(recording, moment, speed)
    except RecordingError as exc:
        raise ReplayError(str(exc)) from None


def snapshot_at(path: Path, at: str, out: TextIO, err: TextIO = sys.stderr) -> int:
    """``replay PATH --at T snapshot --json``: the document of the board at T."""
    try:
        recording, moment = _open(path, at)
        assert moment is not None
        player = Player(recording)
        player.seek(moment)
    except (ReplayError, RecordingError) as exc:
        print(f"voki-tui: {exc}", file=err)
        return EXIT_USAGE
    out.write(json.dumps(snapshot_document(player.snapshot()), ensure_ascii=False) + "\n")
    out.flush()
    for note in recording.damage():
        print(f"voki-tui: note: {note}", file=err)
    return EXIT_OK


# -- the dashboard ---------------------------------------------------------------------------


class ReplayFeed:
    """The app's ``FeedRunner`` in a replay: the recorded board, as the recording's time
    passes. The replay keys call ``toggle_pause``, ``step`` and ``jump``."""

    def __init__(
        self,
        recording: Recording,
        start: datetime | None = None,
        speed: float = 1.0,
        *,
        paused: bool = False,
    ) -> None:
        self.recording = recording
        self.player = Player(recording)
        self.speed = speed
        self.paused = paused
        self.end = recording.end()
        self._start = start or recording.start
        self._wake = asyncio.Event()
        self._jump_to: datetime | None = self._start
        # The moment shown, and where the wall clock was when it was: it advances from there.
        self._anchor = (self._start, 0.0)
        self._publish: Publish = lambda _snapshot: None
        self._login = recording.login()
        self.player.seek(self._start)

    # -- what the app reads ------------------------------------------------------------------

    def state(self) -> ReplayState:
        position = self.position()
        return ReplayState(position, self.paused, self.speed, position >= self.end)

    def position(self) -> datetime:
        """The moment of the recording shown now (it moves on while playing)."""
        moment, since = self._anchor
        if self.paused:
            return moment
        elapsed = asyncio.get_running_loop().time() - since if since else 0.0
        return min(self.end, moment + timedelta(seconds=elapsed * self.speed))

    def wall_clock(self) -> datetime:
        """The app's clock: this box's time at the moment shown (the app adds the recorded
        offset of the server's clock, as it does live)."""
        return self.position() - timedelta(seconds=self.player.machine.outside.offset_s)

    def user(self) -> UserInfo | None:
        """Who the recorded feed ran for."""
        return self._login[0]

    def departments(self) -> tuple[Department, ...]:
        """The departments the recorded feed watched."""
        return self._login[1]

    # -- the replay keys ---------------------------------------------------------------------

    def toggle_pause(self) -> None:
        self._anchor = (self.position(), self._now())
        self.paused = not self.paused
        if not self.paused and self._anchor[0] >= self.end:  # play again from the start
            self.jump(self.recording.start)
        self._wake.set()

    def step(self, seconds: float) -> None:
        self.jump(self.position() + timedelta(seconds=seconds))

    def moment(self, text: str) -> datetime:
        try:
            moment = parse_moment(text, self.recording)
        except RecordingError as exc:
            raise ValueError(str(exc).removeprefix(f"--at {text!r}: ")) from None
        if not self.recording.start <= moment <= self.end:
            first, last = (f"{m.astimezone():%H:%M:%S}" for m in (self.recording.start, self.end))
            raise ValueError(f"not in the recording, which runs from {first} to {last}")
        return moment

    def jump(self, moment: datetime) -> None:
        moment = max(self.recording.start, min(self.end, moment))
        self._jump_to = moment
        self._anchor = (moment, self._now())
        self._wake.set()

    # -- FeedRunner --------------------------------------------------------------------------

    async def run(
        self, departments: Sequence[Department], publish: Publish, notify: Notify
    ) -> None:
        """Publish the board as the recording's time passes; never returns (the app stops it
        when it quits)."""
        self._publish = publish
        self._anchor = (self._anchor[0], self._now())
        while True:
            jump, self._jump_to = self._jump_to, None
            if jump is not None:
                self.player.seek(jump)
                publish(self.player.snapshot())
            elif not self.paused:
                self._advance(self.position(), notify)
            self._wake.clear()
            wait = self._wait()
            if wait is None:
                await self._wake.wait()
            else:
                try:
                    async with asyncio.timeout(wait):
                        await self._wake.wait()
                except TimeoutError:
                    pass

    def _advance(self, moment: datetime, notify: Notify) -> None:
        """Apply the recorded steps up to ``moment``; publish the last snapshot the feed
        published on the way (at its own moment), and show the notifications that came."""
        before = self.player.ticked
        for effect in self.player.advance(moment):
            if isinstance(effect, NotifyEffect):
                notify(effect.notification)
        ticked = self.player.ticked
        if ticked is not None and ticked != before:
            self._publish(self.player.machine.snapshot(ticked))

    def _wait(self) -> float | None:
        if self.paused:
            return None
        following = self.player.next_moment()
        if following is None:
            return LONGEST_WAIT_S
        ahead = (following - self.position()).total_seconds() / self.speed
        return max(0.0, min(LONGEST_WAIT_S, ahead))

    @staticmethod
    def _now() -> float:
        return asyncio.get_running_loop().time()


class ReplayAccount:
    """The app's ``Authenticator`` in a replay: the recorded login, nothing to sign in to."""

    def __init__(self, feed: ReplayFeed) -> None:
        self.feed = feed

    def last(self) -> LastLogin | None:
        user = self.feed.user()
        email = user.email if user is not None else ""
        return LastLogin(self.feed.recording.server, self.feed.recording.tenant, email)

    def can_resume(self) -> bool:
        return True

    async def resume(
        self, progress: Progress | None = None, *, deadline: float | None = None
    ) -> UserInfo | None:
        user = self.feed.user()
        if user is None:
            return UserInfo(id="", name="", email="", role="unknown")
        return user

    async def await_sign_in(self) -> UserInfo:
        await asyncio.Event().wait()  # a replay's session never ends
        raise AssertionError("unreachable")

    async def login(self, server: str, tenant: str, email: str, password: str) -> UserInfo:
        raise ReplayError("a replay has no login")

    async def verify_mfa(self, mfa_token: str, code: str) -> UserInfo:
        raise ReplayError("a replay has no login")

    async def logout(self) -> None:
        return None

    async def departments(
        self, progress: Progress | None = None, *, deadline: float | None = None
    ) -> DepartmentList:
        return DepartmentList(self.feed.departments())

    async def close(self) -> None:
        return None

    async def customer_of(self, call_id: str) -> str | None:
        return None

    async def members(self, department_id: str) -> tuple[Member, ...] | None:
        return None
