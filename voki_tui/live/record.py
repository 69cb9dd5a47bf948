"""``--record DIR``: every step of the feed, with its moment, in compressed rotated files.

A supervisor asks what the board showed at 10:15; ``voki-tui replay`` answers from these files
(``voki_tui.live.replay``). The feed hands each step to :meth:`Recorder.write` before applying
it, with the moment it happened: the server's time, as every age on the board uses it, and
this process's monotonic time. Steps never hold a token or a password (the feed keeps those out
of its state: the socket URL and the ``Authorization`` header are never steps), so neither can
reach a recording; what the server said (customer names and contacts, reasons) does, so the
files are ``0600`` in a ``0700`` directory.

Files are gzip'd JSON Lines, named ``voki-<run>-<part>.jsonl.gz`` where a run is one feed (a
process may run several, one per sign-in). Each part starts with a header line and the whole
state as it is (a checkpoint), so any part can be replayed without the ones before it: when the
directory passes its size cap the oldest parts are deleted. A part ends after ``part_bytes`` of
compressed data or ``part_s`` seconds, whichever comes first. The stream is flushed at most once
a second, so a box that loses power loses at most the last second, and the reader takes every
whole line of a file that was cut short.

A recording that cannot be written (a full disk, a directory that is not ours) stops, says why
(``problem``, shown on the board) and never stops the feed.
"""

from __future__ import annotations

import contextlib
import gzip
import itertools
import json
import logging
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from voki_tui import __version__
from voki_tui.live.codec import encode, micros
from voki_tui.live.machine import FeedMachine
from voki_tui.live.steps import Step

log = logging.getLogger(__name__)

FORMAT = 1
"""The layout of a recording's lines; a reader refuses any other."""
MAGIC = "voki-tui recording"
PATTERN = "voki-*.jsonl.gz"
PART_S = 900.0
"""A part ends after 15 minutes at most: seeking back in a replay re-reads at most one part."""
PARTS_PER_CAP = 8
"""A part is at most this share of the directory's cap, so deleting the oldest frees little."""
FLUSH_EVERY_S = 1.0

_runs = itertools.count(1)


def part_name(run: str, part: int) -> str:
    return f"voki-{run}-{part:04d}.jsonl.gz"


def new_run(started: datetime) -> str:
    """A name for one feed's recording: its start, this process and its count, sortable."""
    return f"{started.astimezone(UTC):%Y%m%dT%H%M%SZ}-{os.getpid()}-{next(_runs)}"


class Recorder:
    """Writes one run's steps into ``directory``; implements the feed's ``StepLog``."""

    def __init__(
        self,
        directory: Path,
        max_bytes: int,
        *,
        part_s: float = PART_S,
        part_bytes: int | None = None,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self.part_bytes = part_bytes or max(64 * 1024, max_bytes // PARTS_PER_CAP)
        self.part_s = part_s
        self._wall = wall
        self._run: str | None = None
        self._part = 0
        self._raw: IO[bytes] | None = None
        self._gzip: gzip.GzipFile | None = None
        self._started_m = 0.0  # monotonic start of the current part
        self._flushed_m = 0.0
        self._last_m = 0.0
        self._problem: str | None = None
        self._closed = False
        self.path: Path | None = None  # the part being written

    @property
    def problem(self) -> str | None:
        return self._problem

    def write(self, step: Step, now: datetime, monotonic: float, machine: FeedMachine) -> None:
        if self._closed or self._problem is not None:
            return
        try:
            if self._gzip is None or self._full(monotonic):
                self._next_part(now, monotonic, machine)
            self._line({"t": micros(now), "m": monotonic, "s": encode(step)})
            self._last_m = monotonic
        except (OSError, ValueError) as exc:  # ValueError: a step the codec cannot write
            self._stop(exc)

    def flush(self) -> None:
        """Push what is buffered to the file, at most once a second."""
        if self._gzip is None or self._last_m - self._flushed_m < FLUSH_EVERY_S:
            return
        try:
            self._flush()
        except OSError as exc:
            self._stop(exc)

    def close(self) -> None:
        """End the current part (a later ``write`` is ignored)."""
        self._closed = True
        try:
            self._end_part()
        except OSError as exc:
            self._stop(exc)

    # -- parts -------------------------------------------------------------------------------

    def _full(self, monotonic: float) -> bool:
        assert self._raw is not None
        return monotonic - self._started_m >= self.part_s or self._raw.tell() >= self.part_bytes

    def _next_part(self, now: datetime, monotonic: float, machine: FeedMachine) -> None:
        self._end_part()
        if self._run is None:
            self._run = new_run(now)
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._part += 1
        self.path = self.directory / part_name(self._run, self._part)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self._raw = os.fdopen(fd, "wb")
        self._gzip = gzip.GzipFile(fileobj=self._raw, mode="wb", compresslevel=6, mtime=0)
        self._started_m = self._last_m = monotonic
        header = {
            "$": MAGIC,
            "format": FORMAT,
            "version": __version__,
            "run": self._run,
            "part": self._part,
            "t": micros(now),
            "m": monotonic,
            "wall": self._wall(),
            "server": machine.server,
            "tenant": machine.tenant,
        }
        self._line(header)
        self._line({"t": micros(now), "m": monotonic, "checkpoint": encode(machine)})
        self._flush()
        log.info("recording to %s", self.path)
        self._trim()

    def _end_part(self) -> None:
        gz, raw = self._gzip, self._raw
        self._gzip = self._raw = None
        if gz is not None and raw is not None:
            try:
                gz.close()
            finally:
                raw.close()

    def _trim(self) -> None:
        """Delete the oldest parts while the directory holds more than ``max_bytes``."""
        parts = sorted(self.directory.glob(PATTERN))
        sizes = {path: path.stat().st_size for path in parts}
        total = sum(sizes.values())
        for path in parts:
            if total <= self.max_bytes or path == self.path:
                break
            path.unlink(missing_ok=True)
            total -= sizes[path]
            log.info("recording: deleted %s (over the %d-byte cap)", path.name, self.max_bytes)

    def _line(self, data: dict[str, Any]) -> None:
        assert self._gzip is not None
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        self._gzip.write(text.encode() + b"\n")

    def _flush(self) -> None:
        assert self._gzip is not None and self._raw is not None
        self._gzip.flush()
        self._raw.flush()
        self._flushed_m = self._last_m

    def _stop(self, exc: Exception) -> None:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        self._problem = f"recording stopped: {reason}"
        log.warning("%s (%s)", self._problem, self.path)
        with contextlib.suppress(OSError):
            self._end_part()
