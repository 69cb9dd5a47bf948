"""Reading a ``--record`` directory back: its runs, their parts, the state at any moment.

``voki_tui.live.record`` writes each feed's steps (a *run*) into parts; each part starts with
the whole state as it was (a checkpoint). :class:`Player` moves a ``FeedMachine`` along a run:
forward, step by step as they happened, or to any moment, from the nearest checkpoint before
it (a part's first line, or one it kept in memory on the way): what it holds at T is what the
feed held at T, and ``snapshot(T)`` is what it published at T.

A box killed mid-write leaves a part cut short, its last line half written: every whole line
before it is read, and the part says where it ends (``damage``). Anything that is not a
recording of this version is refused with a message that says what it is.
"""

from __future__ import annotations

import gzip
import json
import logging
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

from voki_tui.live.codec import CodecError, decode, encode, from_micros, micros
from voki_tui.live.machine import Effect, FeedMachine
from voki_tui.live.record import FORMAT, MAGIC, PATTERN
from voki_tui.live.state import Department, FeedSnapshot, UserInfo
from voki_tui.live.steps import Start, Step, Tick, Watch, is_step

log = logging.getLogger(__name__)

#: While playing forward, the state is kept every this many seconds of the recording, so a
#: step back re-applies at most this much.
CHECKPOINT_EVERY_S = 60.0
#: At most this many kept states (the older ones go first).
CHECKPOINTS_KEPT = 120


class RecordingError(Exception):
    """Not a recording this version can read, or no such moment in it (the message says)."""


@dataclass(frozen=True, slots=True)
class Part:
    """One file of a run, as its header describes it."""

    path: Path
    run: str
    part: int
    start: datetime  # on the server's clock, as every moment of a recording
    server: str
    tenant: str


@dataclass(frozen=True, slots=True)
class Entry:
    """One recorded step and its moment (whole microseconds since the epoch; monotonic)."""

    t: int
    m: float
    step: Step


@dataclass(slots=True)
class Loaded:
    """A part read: its checkpoint (as written), its steps, and why it ends early if it does."""

    checkpoint: Any
    entries: list[Entry]
    damage: str | None = None


def _lines(path: Path) -> tuple[list[bytes], str | None]:
    """Every whole line of a gzip'd file; why it stops early (a cut, damage), if it does."""
    lines: list[bytes] = []
    damage = None
    try:
        with gzip.open(path, "rb") as stream:
            for line in stream:
                lines.append(line)
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        damage = f"cut short ({exc})"
    except OSError as exc:
        raise RecordingError(f"{path}: {exc.strerror or exc}") from None
    if lines and not lines[-1].endswith(b"\n"):
        lines.pop()  # half written when the box stopped
        damage = damage or "its last line was cut short"
    return lines, damage


def _json(line: bytes) -> Any:
    return json.loads(line)


def read_header(path: Path) -> Part:
    """The header of a part (its first line only); ``RecordingError`` if it is not one."""
    try:
        with gzip.open(path, "rb") as stream:
            first = stream.readline()
        header = _json(first)
    except (OSError, EOFError, zlib.error, ValueError) as exc:
        raise RecordingError(f"{path}: not a voki-tui recording ({exc})") from None
    if not isinstance(header, dict) or header.get("$") != MAGIC:
        raise RecordingError(f"{path}: not a voki-tui recording")
    if header.get("format") != FORMAT:
        raise RecordingError(
            f"{path}: a recording of format {header.get('format')!r}; "
            f"this voki-tui reads format {FORMAT}"
        )
    try:
        return Part(
            path=path,
            run=str(header["run"]),
            part=int(header["part"]),
            start=from_micros(int(header["t"])),
            server=str(header["server"]),
            tenant=str(header["tenant"]),
        )
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise RecordingError(f"{path}: a damaged header ({exc})") from None


def load_part(part: Part) -> Loaded:
    """Read a whole part; the steps up to the first line that cannot be read."""
    lines, damage = _lines(part.path)
    if len(lines) < 2:
        raise RecordingError(f"{part.path}: no state at its start (cut short)")
    try:
        checkpoint = _json(lines[1])["checkpoint"]
    except (ValueError, KeyError, TypeError):
        raise RecordingError(f"{part.path}: a damaged state at its start") from None
    entries: list[Entry] = []
    for number, line in enumerate(lines[2:], start=3):
        try:
            data = _json(line)
            step = decode(data["s"])
            if not is_step(step):
                raise CodecError(f"a {type(step).__name__} where a step should be")
            entries.append(Entry(int(data["t"]), float(data["m"]), step))
        except (ValueError, KeyError, TypeError) as exc:  # CodecError is a ValueError
            damage = f"line {number} cannot be read ({exc})"
            break
    if damage is not None:
        log.warning("replay: %s ends early: %s", part.path.name, damage)
    return Loaded(checkpoint, entries, damage)


def runs_in(directory: Path) -> dict[str, list[Part]]:
    """Every run recorded in ``directory``, its parts in order; unreadable files are skipped
    (and logged)."""
    runs: dict[str, list[Part]] = {}
    for path in sorted(directory.glob(PATTERN)):
        try:
            part = read_header(path)
        except RecordingError as exc:
            log.warning("replay: %s", exc)
            continue
        runs.setdefault(part.run, []).append(part)
    for parts in runs.values():
        parts.sort(key=lambda p: p.part)
    return runs


def open_recording(path: Path, moment: str | None = None) -> Recording:
    """The run ``path`` names: a part (its run, every part of it still in the directory), or a
    directory (the run that started last before ``--at``, else the last one started)."""
    if path.is_dir():
        runs = runs_in(path)
        if not runs:
            raise RecordingError(f"{path}: no voki-tui recording in this directory")
        ordered = [Recording(parts) for parts in sorted(runs.values(), key=lambda p: p[0].start)]
        if moment is None:
            return ordered[-1]
        started = [run for run in ordered if run.start <= parse_moment(moment, run)]
        return started[-1] if started else ordered[0]
    if not path.exists():
        raise RecordingError(f"{path}: no such file or directory")
    run = read_header(path).run
    return Recording(runs_in(path.parent)[run])


_TIME_OF_DAY = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?$")


def parse_moment(text: str, recording: Recording) -> datetime:
    """``--at``: a date and time (ISO 8601; without a zone, this machine's local time, as the
    board shows it), or a time of day (``HH:MM[:SS[.ffffff]]``, local) on the recording's
    first day, or on the next when that is before the recording starts and the next is not
    after it ends."""
    text = text.strip()
    found = _TIME_OF_DAY.match(text)
    if found is not None:
        hour, minute, second, fraction = found.groups()
        try:
            of_day = time(
                int(hour), int(minute), int(second or 0), int((fraction or "0").ljust(6, "0"))
            )
        except ValueError as exc:
            raise RecordingError(f"--at {text!r}: {exc}") from None
        first = recording.start.astimezone().date()
        moment = datetime.combine(first, of_day).astimezone()
        if moment < recording.start:
            later = datetime.combine(first + timedelta(days=1), of_day).astimezone()
            if later <= recording.end():
                moment = later
        return moment.astimezone(UTC)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise RecordingError(
            f"--at {text!r}: expected a time of day (10:15:00) or a date and time "
            "(2025-11-25T10:15:00, 2025-11-25T10:15:00.482113Z)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.astimezone()
    return moment.astimezone(UTC)


@dataclass(slots=True)
class _Kept:
    t: int
    part: int  # index in Recording.parts
    index: int  # entries of that part applied
    state: Any  # the machine, encoded (decoded again for each use: it is never shared)


class Recording:
    """One run: its parts, read when needed (one at a time stays in memory)."""

    def __init__(self, parts: list[Part]) -> None:
        if not parts:
            raise RecordingError("an empty recording")
        self.parts = parts
        self._loaded: tuple[int, Loaded] | None = None

    @property
    def start(self) -> datetime:
        return self.parts[0].start

    @property
    def server(self) -> str:
        return self.parts[0].server

    @property
    def tenant(self) -> str:
        return self.parts[0].tenant

    def load(self, index: int) -> Loaded:
        if self._loaded is None or self._loaded[0] != index:
            self._loaded = (index, load_part(self.parts[index]))
        return self._loaded[1]

    def end(self) -> datetime:
        """The moment of the last step recorded (the start, if none)."""
        for index in reversed(range(len(self.parts))):
            entries = self.load(index).entries
            if entries:
                return from_micros(entries[-1].t)
        return self.start

    def login(self) -> tuple[UserInfo | None, tuple[Department, ...]]:
        """Who the feed ran for and which departments it watched: from the state at the
        start of the first part still there, else from its first steps."""
        loaded = self.load(0)
        try:
            machine = decode(loaded.checkpoint)
        except CodecError as exc:
            path = self.parts[0].path
            raise RecordingError(f"{path}: a state this version cannot read ({exc})") from None
        user = machine.user if isinstance(machine, FeedMachine) else None
        departments: tuple[Department, ...] = ()
        if isinstance(machine, FeedMachine):
            departments = tuple(e.book.department for e in machine.departments.values())
        for entry in loaded.entries:
            if user is not None and departments:
                break
            if user is None and isinstance(entry.step, Start):
                user = entry.step.user
            elif not departments and isinstance(entry.step, Watch):
                departments = entry.step.departments
        return user, departments

    def damage(self) -> list[str]:
        """Every part read so far that ends early, and why."""
        loaded = self._loaded
        if loaded is not None and loaded[1].damage is not None:
            return [f"{self.parts[loaded[0]].path.name}: {loaded[1].damage}"]
        return []


class Player:
    """A ``FeedMachine`` at a moment of a recording: moved forward as the steps come, or to
    any moment (``seek``); ``snapshot()`` is the board at that moment."""

    def __init__(self, recording: Recording) -> None:
        self.recording = recording
        self._kept: list[_Kept] = []
        self._part = self._index = self._last_kept = 0
        self.machine = self._restore(0, 0, recording.load(0).checkpoint)
        self.position = recording.start
        #: The moment of the last ``Tick`` applied: the feed published the board then.
        self.ticked: datetime | None = None

    def snapshot(self) -> FeedSnapshot:
        return self.machine.snapshot(self.position)

    def seek(self, moment: datetime) -> list[Effect]:
        """Move to ``moment`` (back or forward); the effects of the steps applied on the way."""
        target = micros(moment)
        if moment < self.position or self._part_of(target) != self._part:
            self._rebuild(target)
        return self.advance(moment)

    def advance(self, moment: datetime) -> list[Effect]:
        """Apply every step up to ``moment`` (inclusive) from where the player is; the
        effects they asked for (a notification to show, say)."""
        target = micros(moment)
        effects: list[Effect] = []
        while True:
            entries = self.recording.load(self._part).entries
            while self._index < len(entries) and entries[self._index].t <= target:
                entry = entries[self._index]
                self.machine.apply(entry.step, from_micros(entry.t), entry.m)
                effects += self.machine.take_effects()
                if isinstance(entry.step, Tick):
                    self.ticked = from_micros(entry.t)
                self._index += 1
                self._keep(entry.t)
            if self._index < len(entries) or self._part + 1 >= len(self.recording.parts):
                break
            following = self.recording.parts[self._part + 1]
            if micros(following.start) > target:
                break
            self._restore(self._part + 1, 0, self.recording.load(self._part + 1).checkpoint)
        self.position = moment
        return effects

    def next_moment(self) -> datetime | None:
        """When the next recorded step happened; None at the end of the recording."""
        entries = self.recording.load(self._part).entries
        if self._index < len(entries):
            return from_micros(entries[self._index].t)
        if self._part + 1 < len(self.recording.parts):
            return self.recording.parts[self._part + 1].start
        return None

    # -- internals ---------------------------------------------------------------------------

    def _part_of(self, target: int) -> int:
        found = 0
        for index, part in enumerate(self.recording.parts):
            if micros(part.start) <= target:
                found = index
        return found

    def _rebuild(self, target: int) -> None:
        part = self._part_of(target)
        kept = [k for k in self._kept if k.part == part and k.t <= target]
        if kept:
            self._restore(kept[-1].part, kept[-1].index, kept[-1].state)
        else:
            self._restore(part, 0, self.recording.load(part).checkpoint)

    def _restore(self, part: int, index: int, state: Any) -> FeedMachine:
        try:
            machine = decode(state)
        except CodecError as exc:
            path = self.recording.parts[part].path
            raise RecordingError(f"{path}: a state this version cannot read ({exc})") from None
        if not isinstance(machine, FeedMachine):
            raise RecordingError(f"{self.recording.parts[part].path}: no feed state at its start")
        self.machine = machine
        self._part, self._index = part, index
        self._last_kept = micros(self.recording.parts[part].start) if index == 0 else 0
        return machine

    def _keep(self, t: int) -> None:
        if t - self._last_kept < CHECKPOINT_EVERY_S * 1_000_000:
            return
        self._last_kept = t
        if any(k.part == self._part and k.index == self._index for k in self._kept):
            return
        self._kept.append(_Kept(t, self._part, self._index, encode(self.machine)))
        self._kept.sort(key=lambda k: (k.part, k.index))
        if len(self._kept) > CHECKPOINTS_KEPT:
            self._kept.pop(0)


def iter_entries(recording: Recording) -> Iterator[Entry]:
    """Every step of the run, in order (for tests and tools)."""
    for index in range(len(recording.parts)):
        yield from recording.load(index).entries
