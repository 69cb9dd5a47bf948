"""``watch --json --record`` against a voki-sim process with faults, then ``replay``.

The CLI runs as a subprocess against a real voki-sim process over loopback; the sim's
``/__sim/`` hooks inject the faults while its generator makes events: a dropped connection,
lost broadcasts (the drift guard repairs them), a server restart, garbage frames, a channel
closed by the server. Then, for moments the ``watch`` printed, ``voki-tui replay DIR --at T
snapshot --json`` must print exactly the line ``watch`` printed at T: the whole document, no
field left out. (No field needs leaving out: ``clock_offset_s`` and the counters kept outside
the state are recorded at each publish, and the replaying process's own clock plays no part.)
"""

from __future__ import annotations

import gzip
import itertools
import json
import random
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from voki_tui.live.document import snapshot_document
from voki_tui.live.recording import Player, iter_entries, open_recording, parse_moment
from voki_tui.sim import DEMO_PASSWORD
from voki_tui.sim.testing import SimProcess
from voki_tui.testing.headless import Watch, converge, garbage_frames, send_raw

STARTUP_S = 30.0
RECOVERY_S = 15.0
#: Moments checked through the real command line (each is a process start); every line is
#: checked in this process as well.
CLI_MOMENTS = 8


def replay_cli(directory: Path, at: str) -> subprocess.CompletedProcess[str]:
    """``voki-tui replay DIR --at AT snapshot --json``."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "voki_tui",
            "replay",
            str(directory),
            "--at",
            at,
            "snapshot",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, list[Any]]]:
    """A watch session through faults, recorded: the directory, and every line printed."""
    home = tmp_path_factory.mktemp("replay")
    directory = home / "recording"
    with SimProcess(seed=23, speed=5.0, auth_rate_limit=1000) as sim:
        watch = Watch(sim, home / "watch", extra=["--record", str(directory)])
        with watch:
            assert converge(watch, sim, STARTUP_S).converged, watch.stderr()
            ids = sim.department_ids()
            sim.control("POST", "rate?events_per_second=15")
            time.sleep(2)
            sim.control("POST", "drop")
            time.sleep(3)
            sim.control("POST", "lose?seconds=3&share=0.5")
            time.sleep(4)
            sim.restart()
            time.sleep(4)
            send_raw(sim, garbage_frames(ids[0]))
            time.sleep(1)
            sim.control("POST", f"close-channel?topic=queue:{ids[1]}")
            time.sleep(3)
            sim.control("POST", "rate?events_per_second=0")
            sim.control("POST", "pause")
            result = converge(watch, sim, RECOVERY_S)
            assert result.converged, (result.problems, watch.stderr())
            time.sleep(1)
            # Ctrl-C ends it by itself (a kill would leave the last part unfinished)
            assert watch.stop() == 0, watch.stderr()
        lines = list(watch.lines)
    yield directory, lines


def test_the_session_went_through_its_faults(recorded: tuple[Path, list[Any]]) -> None:
    _, lines = recorded
    states = {line["connection"]["state"] for line in lines}
    assert {"live", "reconnecting", "syncing"} <= states
    counters = lines[-1]["counters"]
    assert counters["reconnects"] >= 2  # the drop and the restart
    assert counters["malformed_frames"] + counters["invalid_payloads"] > 0
    assert counters["rejoins"] >= 1  # the channel the server closed
    assert len(lines) > 50


def test_every_line_is_the_replay_of_its_instant(recorded: tuple[Path, list[Any]]) -> None:
    directory, lines = recorded
    recording = open_recording(directory)
    player = Player(recording)
    for line in lines:
        player.seek(parse_moment(line["taken_at_exact"], recording))
        assert snapshot_document(player.snapshot()) == line, line["taken_at_exact"]


def test_one_instant_is_one_state(recorded: tuple[Path, list[Any]]) -> None:
    """The server-clock estimate is refined by every REST answer (a restart brings many) and
    may step back; the moments the feed stamps never do, so an instant names one state."""
    directory, lines = recorded
    moments = [entry.t for entry in iter_entries(open_recording(directory))]
    assert all(a < b for a, b in itertools.pairwise(moments))
    instants = [line["taken_at_exact"] for line in lines]
    assert len(set(instants)) == len(instants)


def test_replay_snapshot_prints_the_line_watch_printed(
    recorded: tuple[Path, list[Any]],
) -> None:
    """Through the command line, for moments of every connection state and a few more."""
    directory, lines = recorded
    chosen: dict[str, Any] = {}
    for line in lines:  # the first line of each state, then random ones
        chosen.setdefault(line["connection"]["state"], line)
    rest = [line for line in lines if line not in chosen.values()]
    picked = [*chosen.values(), *random.Random(5).sample(rest, CLI_MOMENTS - len(chosen))]
    for line in picked:
        result = replay_cli(directory, line["taken_at_exact"])
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout) == line, line["taken_at_exact"]


def test_the_recording_is_private_and_holds_no_secret(
    recorded: tuple[Path, list[Any]],
) -> None:
    directory, _ = recorded
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    parts = list(directory.iterdir())
    assert parts
    for part in parts:
        assert stat.S_IMODE(part.stat().st_mode) == 0o600
        text = gzip.decompress(part.read_bytes()).decode()
        assert DEMO_PASSWORD not in text
        assert "eyJ" not in text  # every token is a JWT: its header starts so in base64
        assert "token=" not in text and "Bearer" not in text


def test_a_moment_outside_the_recording_is_refused_clearly(
    recorded: tuple[Path, list[Any]],
) -> None:
    directory, _ = recorded
    result = replay_cli(directory, "2001-01-01T00:00:00Z")
    assert result.returncode == 2
    assert "is not in the recording, which runs from" in result.stderr
    assert result.stdout == ""
