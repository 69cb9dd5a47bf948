"""How a headless ``watch --record`` ends: as a person (Ctrl-C) or a supervisor (SIGTERM,
SIGHUP) ends it, a real process against a voki-sim process over loopback.

Each signal must end it cleanly and soon: sockets closed, the recording's last part finished
(gzip cannot read a part the process was killed in the middle of), and the exit code saying
why. SIGINT must work even when the process inherited it as ignored, as every job a script
starts in the background does: before the fix such a watch ignored Ctrl-C and had to be
killed, leaving its last part unreadable.
"""

from __future__ import annotations

import gzip
import json
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from voki_tui.sim.testing import SimProcess
from voki_tui.testing.headless import Watch, converge

STARTUP_S = 30.0


@pytest.fixture(scope="module")
def sim() -> Iterator[SimProcess]:
    with SimProcess(seed=31, auth_rate_limit=1000) as process:
        process.control("POST", "rate?events_per_second=20")
        yield process


def started(sim: SimProcess, home: Path, *, sigint_ignored: bool = False) -> Watch:
    """A recording watch, live and converged; started with SIGINT ignored if asked."""
    watch = Watch(sim, home, extra=["--record", str(home / "recording")])
    if sigint_ignored:  # a child inherits an ignored signal across exec
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            watch.start()
        finally:
            signal.signal(signal.SIGINT, previous)
    else:
        watch.start()
    assert converge(watch, sim, STARTUP_S).converged, watch.stderr()
    return watch


def finished_parts(directory: Path) -> list[dict[str, object]]:
    """Every entry of every part, read with plain gzip: raises if a part was left unfinished."""
    parts = sorted(directory.iterdir())
    assert parts
    return [
        json.loads(line)
        for part in parts
        for line in gzip.decompress(part.read_bytes()).decode().splitlines()
    ]


@pytest.mark.parametrize(
    ("sig", "code"), [(signal.SIGTERM, 128 + signal.SIGTERM), (signal.SIGHUP, 128 + signal.SIGHUP)]
)
def test_a_supervisor_signal_ends_it_cleanly_with_its_code(
    sim: SimProcess, tmp_path: Path, sig: signal.Signals, code: int
) -> None:
    watch = started(sim, tmp_path / "box")
    try:
        assert watch.stop(sig) == code, watch.stderr()
    finally:
        watch.stop(signal.SIGKILL)
    assert finished_parts(tmp_path / "box" / "recording")
    assert "internal error" not in watch.stderr()


def test_ctrl_c_ends_it_even_when_inherited_as_ignored(sim: SimProcess, tmp_path: Path) -> None:
    watch = started(sim, tmp_path / "box", sigint_ignored=True)
    try:
        assert watch.stop(signal.SIGINT) == 0, watch.stderr()
    finally:
        watch.stop(signal.SIGKILL)
    assert finished_parts(tmp_path / "box" / "recording")
