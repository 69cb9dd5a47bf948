"""Hostile frames from the server, sent through voki-sim's ``POST /__sim/raw`` to a real
``LiveFeed`` over a real websocket.

For each frame: the feed keeps running, every department still shows exactly the sim's state
(``GET /__sim/state``), the frame is counted in ``FeedSnapshot.counters`` and a log line says
what was wrong. The sim is paused so the truth only changes when a test changes it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from voki_tui.sim.testing import InProcessSim, SimHandle, running_sim

from .harness import FeedRun, live_feed, wait_for

pytestmark = pytest.mark.faults


@pytest.fixture
def sim() -> Iterator[InProcessSim]:
    with running_sim(seed=11, paused=True, auth_rate_limit=1000, widget_rate_limit=1000) as h:
        yield h


@pytest.fixture
def dept(sim: InProcessSim) -> str:
    """The first department's id (a uuid), from the sim's ground truth."""
    return sim.department_ids()[0]


@pytest.fixture
def topic(dept: str) -> str:
    return f"queue:{dept}"


def frame(topic: str, event: str, payload: Any, join_ref: Any = None) -> str:
    return json.dumps([join_ref, None, topic, event, payload])


def customer(sim: SimHandle, name: str = "Ana") -> dict[str, Any]:
    """Add a real waiting customer to the first department; the sim broadcasts it."""
    body = {"department_id": sim.department_ids()[0], "customer_name": name}
    response = sim.control("POST", "customers", json=body)
    response.raise_for_status()
    data: dict[str, Any] = response.json()["data"]
    return data


def counters(run: FeedRun) -> dict[str, int]:
    return asdict(run.fresh().counters)


async def inject(run: FeedRun, text: str) -> dict[str, int]:
    """Send ``text`` to every socket; return the counter deltas once the feed has read it."""
    before = counters(run)
    response = run.sim.control("POST", "raw", json={"frame": text})
    assert response.status_code == 200, response.text
    assert response.json()["sockets"] == 1
    await wait_for(lambda: counters(run)["frames_received"] > before["frames_received"])
    after = counters(run)
    return {k: after[k] - before[k] for k in after if after[k] != before[k]}


def logged(caplog: pytest.LogCaptureFixture, *needles: str) -> bool:
    text = "\n".join(r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING)
    return all(needle in text for needle in needles)


def huge_payload(topic: str) -> str:
    return frame(topic, "customer_joined", {"customer_name": "x" * (10 * 1024 * 1024)})


NESTING = 100_000


def malformed(topic: str) -> dict[str, str]:
    return {
        "not-json": "{this is not json",
        "not-an-array": json.dumps({"topic": topic, "event": "customer_joined"}),
        "wrong-arity": json.dumps([None, None, topic, "customer_joined"]),
        "topic-not-string": json.dumps([None, None, 42, "customer_joined", {}]),
        "payload-not-object": json.dumps([None, None, topic, "customer_joined", [1, 2]]),
        "ref-is-bool": json.dumps([True, None, topic, "customer_joined", {}]),
        "nan-constant": f'[null,null,"{topic}","customer_joined",{{"position":NaN}}]',
        "deeply-nested": f'[null,null,"{topic}","x",{{"a":' + "[" * NESTING + "]" * NESTING + "}]",
    }


@pytest.mark.parametrize("name", sorted(malformed("queue:any")))
async def test_malformed_frame_is_counted_logged_and_survived(
    name: str, sim: InProcessSim, topic: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with live_feed(sim, tmp_path) as run:
        await run.converged()
        reconnects = run.fresh().counters.reconnects
        delta = await inject(run, malformed(topic)[name])
        assert delta.get("malformed_frames") == 1, delta
        assert logged(caplog, "protocol violation")
        # The connection survives where the protocol allows: a bad text frame is not a drop.
        assert run.fresh().counters.reconnects == reconnects
        customer(sim, "after the bad frame")
        await run.converged()
        assert run.alive()


async def test_ten_megabyte_frame(
    sim: InProcessSim, topic: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Under the 16 MiB limit: parsed, found invalid (no call_id), counted; nothing else moves."""
    async with live_feed(sim, tmp_path) as run:
        await run.converged()
        delta = await inject(run, huge_payload(topic))
        assert delta.get("invalid_payloads") == 1, delta
        assert logged(caplog, f"customer_joined on {topic}")
        # The log line must not carry the 10 MB of text.
        assert max(len(r.getMessage()) for r in caplog.records) < 10_000
        customer(sim)
        await run.converged()


async def test_unknown_event(
    sim: InProcessSim, topic: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with live_feed(sim, tmp_path) as run:
        await run.converged()
        delta = await inject(run, frame(topic, "queue_exploded", {"why": "because"}))
        assert delta.get("unknown_events") == 1, delta
        assert logged(caplog, "queue_exploded")
        await run.converged()


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"call_id": {"nested": 1}},
        {"call_id": True, "customer_name": ["not", "a", "string"], "queued_at": "yesterday"},
        {"call_id": None, "customer_name": None, "queued_at": None},
    ],
    ids=["empty", "object-id", "wrong-types", "nulls"],
)
async def test_payload_failing_validation(
    payload: dict[str, Any],
    sim: InProcessSim,
    topic: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with live_feed(sim, tmp_path) as run:
        await run.converged()
        delta = await inject(run, frame(topic, "customer_joined", payload))
        assert delta.get("invalid_payloads") == 1, delta
        assert logged(caplog, f"customer_joined on {topic}")
        await run.converged()


UNKNOWN_LEAVE = {"joins": {}, "leaves": {"no-such-user": {"metas": [{"phx_ref": "ghost"}]}}}


async def _unknown_presence_leave(run: FeedRun) -> dict[str, int]:
    await run.converged()
    dept = run.sim.department_ids()[0]
    delta = await inject(run, frame(f"presence:{dept}", "presence_diff", UNKNOWN_LEAVE))
    await run.converged()
    return delta


async def test_presence_diff_leave_for_unknown_key_changes_nothing(
    sim: InProcessSim, tmp_path: Path
) -> None:
    async with live_feed(sim, tmp_path) as run:
        await _unknown_presence_leave(run)
        assert run.alive()


async def test_presence_diff_leave_for_unknown_key_is_counted(
    sim: InProcessSim, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with live_feed(sim, tmp_path) as run:
        delta = await _unknown_presence_leave(run)
        assert set(delta) - {"frames_received"}, f"not counted: {delta}"
        assert logged(caplog, "no-such-user")


async def _stray_department_event(run: FeedRun) -> dict[str, int]:
    """The second department exists but is not watched: send it an event on its topic."""
    await run.converged()
    other = run.sim.department_ids()[1]
    payload = {**customer(run.sim), "department_id": other, "call_id": "stray"}
    await run.converged()
    delta = await inject(run, frame(f"queue:{other}", "customer_joined", payload))
    await run.converged()
    return delta


async def test_event_for_a_department_not_joined_changes_nothing(
    sim: InProcessSim, dept: str, tmp_path: Path
) -> None:
    async with live_feed(sim, tmp_path, departments=(dept,)) as run:
        await _stray_department_event(run)
        assert [v.department.id for v in run.fresh().departments] == [dept]
        assert all(c.call_id != "stray" for v in run.fresh().departments for c in v.waiting)


async def test_event_for_a_department_not_joined_is_counted(
    sim: InProcessSim, dept: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with live_feed(sim, tmp_path, departments=(dept,)) as run:
        delta = await _stray_department_event(run)
        assert set(delta) - {"frames_received"}, f"not counted: {delta}"
        assert logged(caplog, f"queue:{sim.department_ids()[1]}")


async def test_duplicate_join_is_idempotent(sim: InProcessSim, topic: str, tmp_path: Path) -> None:
    async with live_feed(sim, tmp_path) as run:
        await run.converged()
        data = customer(sim, "Bia")
        await run.converged()
        for _ in range(3):
            await inject(run, frame(topic, "customer_joined", data))
        await run.converged()
        waiting = [c.call_id for v in run.fresh().departments for c in v.waiting]
        assert waiting.count(data["call_id"]) == 1


async def test_leave_that_overtakes_its_join(
    sim: InProcessSim, dept: str, topic: str, tmp_path: Path
) -> None:
    """Out of order: ``customer_left`` then the (late) ``customer_joined`` of the same call.
    The sim never had that call waiting: the late join must not resurrect a ghost."""
    async with live_feed(sim, tmp_path) as run:
        await run.converged()
        template = customer(sim, "Caio")
        await run.converged()
        ghost = {**template, "call_id": "late-ghost", "customer_name": "Ghost"}
        left = {"call_id": "late-ghost", "department_id": dept, "reason": "abandoned"}
        await inject(run, frame(topic, "customer_left", left))
        await inject(run, frame(topic, "customer_joined", ghost))
        await run.converged()
        assert all(c.call_id != "late-ghost" for v in run.fresh().departments for c in v.waiting)


async def test_stale_join_ref_is_dropped(sim: InProcessSim, topic: str, tmp_path: Path) -> None:
    """A push carrying an old join_ref (a previous incarnation of the channel) is ignored."""
    async with live_feed(sim, tmp_path) as run:
        await run.converged()
        ghost = {**customer(sim, "Duda"), "call_id": "stale-ref"}
        await run.converged()
        await inject(run, frame(topic, "customer_joined", ghost, join_ref="999999"))
        await run.converged()
        assert run.feed.pool.stats().stale_dropped >= 1


def test_sim_cannot_send_invalid_utf8(sim: InProcessSim) -> None:
    """``/__sim/raw`` takes a JSON string, so it can only send valid UTF-8: a lone surrogate is
    refused instead of reaching a socket. Invalid UTF-8 on the wire needs a bytes endpoint
    (see RELIABILITY.md); the decoder's own handling is covered by test_frames.py."""
    body = '{"frame": "[null,null,\\"queue:1\\",\\"x\\",{\\"a\\":\\"\\udcff\\"}]"}'
    response = sim.control(
        "POST", "raw", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code >= 400
