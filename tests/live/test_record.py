"""``--record`` and the replay's reading, without a network: a scripted session is recorded
(``recorded.record_session``) and read back.

What the feed published at T is what the replay shows at T, across rotated parts and after
the oldest parts were deleted; the files are private and capped; a file cut short is read up
to its last whole line; seeking back gives the same board as playing forward.
"""

from __future__ import annotations

import asyncio
import gzip
import stat
from pathlib import Path
from typing import Any, cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from voki_tui.api.client import VokiClient
from voki_tui.api.session import Session
from voki_tui.live.document import snapshot_document
from voki_tui.live.feed import ForwardClock, LiveFeed
from voki_tui.live.record import Recorder
from voki_tui.live.recording import (
    Player,
    RecordingError,
    iter_entries,
    load_part,
    open_recording,
    parse_moment,
    runs_in,
)
from voki_tui.live.state import Department
from voki_tui.phoenix import core
from voki_tui.testing.recorded import (
    T0,
    Clock,
    ScriptedRest,
    SessionStandIn,
    record_session,
    replayed,
)

Documents = list[dict[str, Any]]


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Documents]:
    """One recording in parts of about 4 KB, and what the feed published meanwhile."""
    directory = tmp_path_factory.mktemp("rec") / "voki"
    return directory, asyncio.run(record_session(directory, part_bytes=4000))


def test_the_replay_at_each_published_instant_is_what_was_published(
    session: tuple[Path, Documents],
) -> None:
    directory, published = session
    parts = sorted(directory.glob("*.jsonl.gz"))
    assert len(parts) >= 3, "the session should span several parts"
    states = {document["connection"]["state"] for document in published}
    assert {"live", "reconnecting", "syncing"} <= states
    at = replayed(directory)
    for document in published:
        assert at(document["taken_at_exact"]) == document, document["taken_at_exact"]


def test_each_part_starts_with_the_whole_state(session: tuple[Path, Documents]) -> None:
    """Any part can be replayed alone: its first lines are a header and the state."""
    directory, published = session
    last = sorted(directory.glob("*.jsonl.gz"))[-1]
    alone = last.parent.parent / "alone"
    alone.mkdir()
    alone.joinpath(last.name).write_bytes(last.read_bytes())
    recording = open_recording(alone)
    start = recording.start
    at = replayed(alone)
    later = [d for d in published if parse_moment(d["taken_at_exact"], recording) >= start]
    assert later
    for document in later:
        assert at(document["taken_at_exact"]) == document


def test_files_are_private(session: tuple[Path, Documents]) -> None:
    directory, _ = session
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    for part in directory.iterdir():
        assert stat.S_IMODE(part.stat().st_mode) == 0o600, part.name


async def test_the_size_cap_deletes_the_oldest_parts_and_the_rest_replays(
    tmp_path: Path,
) -> None:
    directory = tmp_path / "capped"
    cap = 40_000
    published = await record_session(directory, max_bytes=cap, part_bytes=5000, seconds=300)
    parts = sorted(directory.glob("*.jsonl.gz"))
    sizes = [part.stat().st_size for part in parts]
    assert sum(sizes) <= cap + max(sizes)  # the part being written may pass it, once
    names = [part.name for part in parts]
    assert not any(name.endswith("-0001.jsonl.gz") for name in names), "oldest not deleted"
    recording = open_recording(directory)
    kept = [d for d in published if parse_moment(d["taken_at_exact"], recording) >= recording.start]
    assert 0 < len(kept) < len(published)
    at = replayed(directory)
    for document in kept:
        assert at(document["taken_at_exact"]) == document


def test_a_part_cut_short_is_read_to_its_last_whole_line(
    session: tuple[Path, Documents], tmp_path: Path
) -> None:
    """A box killed mid-write: the bytes after the last flush are gone."""
    directory, published = session
    whole = sorted(directory.glob("*.jsonl.gz"))[0]
    cut = tmp_path / "cut" / whole.name
    cut.parent.mkdir()
    data = whole.read_bytes()
    cut.write_bytes(data[: int(len(data) * 0.8)])
    recording = open_recording(cut)
    loaded = load_part(recording.parts[0])
    complete = load_part(open_recording(whole).parts[0])
    assert loaded.damage is not None
    assert 0 < len(loaded.entries) < len(complete.entries)
    assert loaded.entries == complete.entries[: len(loaded.entries)]
    end = recording.end()
    at = replayed(cut.parent)
    before = [d for d in published if parse_moment(d["taken_at_exact"], recording) <= end]
    assert before
    for document in before:
        assert at(document["taken_at_exact"]) == document


def test_a_half_written_last_line_is_dropped(
    session: tuple[Path, Documents], tmp_path: Path
) -> None:
    """The gzip stream is whole but its last line is not (written, then the box stopped)."""
    directory, _ = session
    whole = sorted(directory.glob("*.jsonl.gz"))[0]
    text = gzip.decompress(whole.read_bytes())
    half = tmp_path / whole.name
    half.write_bytes(gzip.compress(text[: len(text) - 20]))
    loaded = load_part(open_recording(half).parts[0])
    complete = load_part(open_recording(whole).parts[0])
    assert loaded.damage == "its last line was cut short"
    assert loaded.entries == complete.entries[:-1]


def test_what_is_not_a_recording_is_refused_clearly(tmp_path: Path) -> None:
    plain = tmp_path / "notes.jsonl.gz"
    plain.write_bytes(b"not gzip at all")
    with pytest.raises(RecordingError, match="not a voki-tui recording"):
        open_recording(plain)
    with pytest.raises(RecordingError, match="no voki-tui recording in this directory"):
        open_recording(tmp_path)
    with pytest.raises(RecordingError, match="no such file"):
        open_recording(tmp_path / "absent")


def test_seeking_back_and_forth_gives_the_board_of_playing_forward(
    session: tuple[Path, Documents],
) -> None:
    directory, published = session
    recording = open_recording(directory)
    forward = {d["taken_at_exact"]: d for d in published}
    moments = list(forward)

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(st.sampled_from(moments), min_size=2, max_size=8))
    def check(order: list[str]) -> None:
        player = Player(recording)
        for instant in order:
            player.seek(parse_moment(instant, recording))
            assert snapshot_document(player.snapshot()) == forward[instant]

    check()


def test_a_moment_between_steps_shows_the_board_then(session: tuple[Path, Documents]) -> None:
    """Half a second after a publish, nothing happened yet: the same board, half a second
    older (the same figures and sources; only the instant and the ages move)."""
    directory, published = session
    recording = open_recording(directory)
    player = Player(recording)
    document = published[30]
    moment = parse_moment(document["taken_at_exact"], recording)
    player.seek(moment.replace(microsecond=500_000))
    later = snapshot_document(player.snapshot())
    assert later["taken_at"] == document["taken_at"]
    assert later["taken_at_exact"] != document["taken_at_exact"]
    assert [d["waiting"] for d in later["departments"]] == [
        d["waiting"] for d in document["departments"]
    ]


def test_times_of_day_are_local_on_the_recordings_day(session: tuple[Path, Documents]) -> None:
    directory, _ = session
    recording = open_recording(directory)
    local = recording.start.astimezone()
    text = f"{local:%H:%M:%S}"
    assert parse_moment(text, recording) == recording.start.replace(microsecond=0)
    with pytest.raises(RecordingError, match="expected a time of day"):
        parse_moment("quarter past ten", recording)


def test_no_token_reaches_a_recording(tmp_path: Path) -> None:
    """The socket's URL carries the token; it is never a step."""

    class TokenSession(SessionStandIn):
        token = "SECRET-ACCESS-TOKEN-42"

        async def access_token(self) -> str:
            return self.token

        async def on_unauthorized(self, rejected: str) -> str:
            self.token = "SECRET-ACCESS-TOKEN-43"
            return self.token

    async def run() -> None:
        clock = Clock()
        recorder = Recorder(tmp_path / "rec", 10_000_000)
        feed = LiveFeed(
            cast(VokiClient, ScriptedRest(clock)),
            cast(Session, TokenSession()),
            clock=clock.wall,
            monotonic=clock.monotonic,
            recorder=recorder,
        )
        feed.watch([Department("d-support", "Suporte")])
        url = await feed._socket_url(0)
        assert "SECRET-ACCESS-TOKEN-42" in url
        feed._on_event(0, core.AuthFailed(403, refresh_requested=True))
        assert "SECRET-ACCESS-TOKEN-43" in await feed._socket_url(0)
        feed._on_event(0, core.Connected())
        feed.snapshot()
        recorder.close()

    asyncio.run(run())
    (part,) = (tmp_path / "rec").iterdir()
    text = gzip.decompress(part.read_bytes()).decode()
    assert "AuthFailed" in text and "Connected" in text
    assert "SECRET-ACCESS-TOKEN" not in text


async def test_a_recording_that_cannot_be_written_stops_and_says_so(tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory")
    clock = Clock()
    recorder = Recorder(blocked / "rec", 10_000_000)
    feed = LiveFeed(
        cast(VokiClient, ScriptedRest(clock)),
        cast(Session, SessionStandIn()),
        clock=clock.wall,
        monotonic=clock.monotonic,
        recorder=recorder,
    )
    feed.watch([Department("d-support", "Suporte")])
    feed._on_event(0, core.Connected())
    snapshot = feed.snapshot()
    assert recorder.problem is not None and "recording stopped" in recorder.problem
    assert any("recording stopped" in notice for notice in snapshot.notices)
    assert feed.connection.state.value == "syncing"  # the feed carries on


def test_the_feeds_clock_never_repeats_an_instant() -> None:
    """The server-clock estimate steps back a little when refined: the feed's stamps still
    move on; a real jump back of the server's clock is followed."""
    readings = [T0, T0.replace(microsecond=300_000), T0.replace(microsecond=100_000), T0]
    jumped = T0.replace(hour=8)
    source = iter([*readings, jumped])
    clock = ForwardClock(lambda: next(source))
    stamps = [clock() for _ in readings]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
    assert stamps[2] > stamps[1]
    assert clock() == jumped


def test_every_run_of_a_directory_is_found(session: tuple[Path, Documents]) -> None:
    directory, _ = session
    runs = runs_in(directory)
    assert len(runs) == 1
    (parts,) = runs.values()
    assert [p.part for p in parts] == list(range(1, len(parts) + 1))
    assert sum(1 for _ in iter_entries(open_recording(directory))) > 100
