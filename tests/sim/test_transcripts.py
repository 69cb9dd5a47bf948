"""Raw-frame conformance of voki-sim's Phoenix Channels endpoint.

Each test replays a scenario of phoenix-transcripts.md (or a rule of phoenix-protocol.md that a
real Phoenix server follows) with the ``websockets`` asyncio client and compares the frames
structurally: our own refs must come back exactly, control payloads exactly, application
payloads (voki-api.md section 5) by their documented keys and types. ``phx_ref`` values,
timestamps and ids are compared only for shape.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from voki_tui.sim.testing import SimHandle, running_sim

from .conftest import (
    ATTENDANT,
    CUSTOMER_JOINED,
    HTTP_TIMEOUT,
    MANAGER,
    SECRET,
    Account,
    api_get,
    is_uuid,
    login,
    resign,
)

Frame = list[Any]
OK_EMPTY = {"status": "ok", "response": {}}
UNMATCHED = {"status": "error", "response": {"reason": "unmatched topic"}}
ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
CUSTOMER_LEFT = {"call_id", "department_id", "reason"}
CALL_ASSIGNED = {"call_id", "department_id", "user_id", "user_name", "assigned_at"}
META = {"phx_ref", "name", "role", "status", "since", "call_id"}
WAIT = 5.0


class Wire:
    """A raw V2 socket: JSON arrays out, decoded frames in, with timeouts everywhere."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    async def send(self, frame: Frame | str) -> None:
        text = frame if isinstance(frame, str) else json.dumps(frame, separators=(",", ":"))
        await self.ws.send(text)

    async def recv_text(self, wait: float = WAIT) -> str:
        message = await asyncio.wait_for(self.ws.recv(), wait)
        assert isinstance(message, str), f"binary frame: {message!r}"
        return message

    async def recv(self, wait: float = WAIT) -> Frame:
        frame = json.loads(await self.recv_text(wait))
        assert isinstance(frame, list) and len(frame) == 5, frame
        return frame

    async def quiet(self, window: float = 0.3) -> None:
        """Assert that nothing arrives for ``window`` seconds."""
        try:
            message = await asyncio.wait_for(self.ws.recv(), window)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected frame: {message!r}")

    async def until(
        self, predicate: Callable[[Frame], bool], wait: float = WAIT
    ) -> tuple[Frame, list[Frame]]:
        """Read until a frame matches; return it and the frames read before it."""
        deadline = time.monotonic() + wait
        skipped: list[Frame] = []
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no matching frame within {wait} s; got {skipped}")
            frame = await self.recv(remaining)
            if predicate(frame):
                return frame, skipped
            skipped.append(frame)

    async def close_code(self, wait: float = WAIT) -> int:
        """Wait for the server to close the socket; return the close code seen."""
        deadline = time.monotonic() + wait
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"socket still open after {wait} s")
                await asyncio.wait_for(self.ws.recv(), remaining)
        except ConnectionClosed:
            pass
        code = self.ws.close_code
        assert code is not None
        return code

    async def join(self, topic: str, ref: Any, payload: Any = None) -> Frame:
        await self.send([ref, ref, topic, "phx_join", {} if payload is None else payload])
        return (await self.until(lambda f: f[1] == ref and f[3] == "phx_reply"))[0]


def socket_url(sim: SimHandle, token: str | None, vsn: str = "2.0.0") -> str:
    query = f"vsn={vsn}" if token is None else f"token={token}&vsn={vsn}"
    return f"{sim.ws_url}?{query}"


@asynccontextmanager
async def wire(sim: SimHandle, token: str | None) -> AsyncIterator[Wire]:
    async with connect(
        socket_url(sim, token), ping_interval=None, open_timeout=WAIT, close_timeout=1
    ) as ws:
        yield Wire(ws)


def customer(sim: SimHandle, department_id: str, name: str, reason: str = "billing") -> None:
    response = sim.control(
        "POST",
        "customers",
        json={"department_id": department_id, "customer_name": name, "reason": reason},
    )
    assert response.status_code < 300, response.text


def waiting_of(sim: SimHandle, department_id: str) -> list[str]:
    return next(d["waiting"] for d in sim.state()["departments"] if d["id"] == department_id)


def agents_of(state: dict[str, Any], department_id: str) -> dict[str, tuple[str, int]]:
    department = next(d for d in state["departments"] if d["id"] == department_id)
    return {str(a["user_id"]): (a["status"], a["devices"]) for a in department["agents"]}


def presence_summary(presences: dict[str, Any]) -> dict[str, tuple[str, int]]:
    """key -> (status of the most recent meta, number of metas): what ``/__sim/state`` reports."""
    summary: dict[str, tuple[str, int]] = {}
    for key, presence in presences.items():
        metas = presence["metas"]
        latest = max(enumerate(metas), key=lambda im: (im[1]["since"], im[0]))[1]
        summary[key] = (latest["status"], len(metas))
    return summary


def assert_meta(meta: dict[str, Any]) -> None:
    assert set(meta) - {"phx_ref_prev"} == META, meta
    assert isinstance(meta["phx_ref"], str) and meta["phx_ref"]
    assert ISO_Z.match(meta["since"]), meta
    if meta["status"] == "in_call":
        uuid.UUID(meta["call_id"])
    else:
        assert meta["call_id"] is None, meta


def apply_diff(state: dict[str, list[dict[str, Any]]], diff: dict[str, Any]) -> None:
    """phoenix.js ``syncDiff`` on a key -> metas map: all joins first, then all leaves."""
    for key, presence in diff["joins"].items():
        joined = {m["phx_ref"] for m in presence["metas"]}
        kept = [m for m in state.get(key, []) if m["phx_ref"] not in joined]
        state[key] = kept + list(presence["metas"])
    for key, presence in diff["leaves"].items():
        if key not in state:
            continue
        left = {m["phx_ref"] for m in presence["metas"]}
        state[key] = [m for m in state[key] if m["phx_ref"] not in left]
        if not state[key]:
            del state[key]


# --- connecting --------------------------------------------------------------------------------


async def test_connect_good_token(paused_sim: SimHandle, manager: Account) -> None:
    async with wire(paused_sim, manager.access_token) as w:
        await w.send([None, "1", "phoenix", "heartbeat", {}])
        assert await w.recv() == [None, "1", "phoenix", "phx_reply", OK_EMPTY]


async def test_connect_with_minted_valid_token(paused_sim: SimHandle, manager: Account) -> None:
    # Control for the refusals below: a token we sign again with the sim's secret is accepted.
    token = resign(manager.access_token)
    async with wire(paused_sim, token) as w:
        await w.send([None, "1", "phoenix", "heartbeat", {}])
        assert (await w.recv())[3] == "phx_reply"


@pytest.mark.parametrize(
    "kind", ["missing", "garbage", "forged", "expired", "other-tenant", "bad-vsn"]
)
async def test_connect_refused_403_empty_body(
    paused_sim: SimHandle, manager: Account, kind: str
) -> None:
    tokens: dict[str, str | None] = {
        "missing": None,
        "garbage": "bad-token",
        "forged": resign(manager.access_token, secret="not-the-secret-but-long-enough-for-hs256"),
        "expired": resign(manager.access_token, exp=int(time.time()) - 60),
        "other-tenant": resign(manager.access_token, tenant="nosuchtenant"),
        "bad-vsn": manager.access_token,
    }
    vsn = "3.0.0" if kind == "bad-vsn" else "2.0.0"
    with pytest.raises(InvalidStatus) as refused:
        async with connect(socket_url(paused_sim, tokens[kind], vsn), open_timeout=WAIT):
            pass
    assert refused.value.response.status_code == 403
    assert not refused.value.response.body


# --- heartbeat and refs -----------------------------------------------------------------------


async def test_heartbeat_refs_echoed_with_their_type(
    paused_sim: SimHandle, manager: Account
) -> None:
    async with wire(paused_sim, manager.access_token) as w:
        await w.send([None, "1", "phoenix", "heartbeat", {}])
        assert await w.recv() == [None, "1", "phoenix", "phx_reply", OK_EMPTY]
        await w.send([None, 7, "phoenix", "heartbeat", {}])
        assert await w.recv() == [None, 7, "phoenix", "phx_reply", OK_EMPTY]
        await w.send([None, None, "phoenix", "heartbeat", {}])
        assert await w.recv() == [None, None, "phoenix", "phx_reply", OK_EMPTY]


async def test_unknown_event_on_phoenix_topic(paused_sim: SimHandle, manager: Account) -> None:
    async with wire(paused_sim, manager.access_token) as w:
        await w.send([None, "50", "phoenix", "unknown_event", {}])
        assert await w.recv() == [None, "50", "phoenix", "phx_reply", UNMATCHED]


# --- joins ------------------------------------------------------------------------------------


async def test_join_queue_ok(
    paused_sim: SimHandle, manager: Account, department_ids: list[str]
) -> None:
    topic = f"queue:{department_ids[0]}"
    async with wire(paused_sim, manager.access_token) as w:
        assert await w.join(topic, "10") == ["10", "10", topic, "phx_reply", OK_EMPTY]
        await w.quiet()


async def test_join_numeric_refs_and_null_payload(
    paused_sim: SimHandle, manager: Account, department_ids: list[str]
) -> None:
    first, second = (f"queue:{d}" for d in department_ids[:2])
    async with wire(paused_sim, manager.access_token) as w:
        await w.send([5, 5, first, "phx_join", {}])
        assert await w.recv() == [5, 5, first, "phx_reply", OK_EMPTY]
        await w.send(["9", "9", second, "phx_join", None])
        assert await w.recv() == ["9", "9", second, "phx_reply", OK_EMPTY]


async def test_join_snapshot_option() -> None:
    with running_sim(seed=7, secret=SECRET, paused=True, join_snapshot=True) as sim:
        department_id = sim.state()["departments"][0]["id"]
        customer(sim, department_id, "Snapshot Sam")
        waiting = waiting_of(sim, department_id)
        token = login(sim, MANAGER).access_token
        async with wire(sim, token) as w:
            reply = await w.join(f"queue:{department_id}", "1")
        assert reply[:4] == ["1", "1", f"queue:{department_id}", "phx_reply"]
        assert reply[4]["status"] == "ok"
        queue = reply[4]["response"]["queue"]
        assert [item["call_id"] for item in queue] == waiting
        for item in queue:
            assert set(item) == CUSTOMER_JOINED, item
        assert queue[-1]["customer_name"] == "Snapshot Sam"


async def test_unmatched_topic_and_push_to_topic_not_joined(
    paused_sim: SimHandle, manager: Account, department_ids: list[str]
) -> None:
    async with wire(paused_sim, manager.access_token) as w:
        await w.send(["21", "21", "nosuch:topic", "phx_join", {}])
        assert await w.recv() == [None, "21", "nosuch:topic", "phx_reply", UNMATCHED]
        topic = f"queue:{department_ids[0]}"
        await w.send(["22", "22", topic, "ping", {}])
        assert await w.recv() == [None, "22", topic, "phx_reply", UNMATCHED]


@pytest.mark.parametrize("prefix", ["queue", "presence"])
async def test_attendant_refused_on_foreign_department(
    paused_sim: SimHandle,
    attendant: Account,
    attendant_split: tuple[list[str], list[str]],
    prefix: str,
) -> None:
    mine, others = attendant_split
    foreign = f"{prefix}:{others[0]}"
    async with wire(paused_sim, attendant.access_token) as w:
        assert await w.join(foreign, "20") == [
            "20",
            "20",
            foreign,
            "phx_reply",
            {"status": "error", "response": {"reason": "unauthorized"}},
        ]
        await w.quiet()  # no phx_close follows a refused join
        own = f"{prefix}:{mine[0]}"
        reply = await w.join(own, "21")
        assert reply[:4] == ["21", "21", own, "phx_reply"]
        assert reply[4]["status"] == "ok"


@pytest.mark.parametrize("ident", ["999999", "1", "unknown-uuid"])
@pytest.mark.parametrize("prefix", ["queue", "presence"])
async def test_unknown_department_not_found(
    paused_sim: SimHandle, manager: Account, prefix: str, ident: str
) -> None:
    """Topics name a department's uuid; an integer or an unknown uuid is no department."""
    topic = f"{prefix}:{uuid.uuid4() if ident == 'unknown-uuid' else ident}"
    async with wire(paused_sim, manager.access_token) as w:
        assert await w.join(topic, "3") == [
            "3",
            "3",
            topic,
            "phx_reply",
            {"status": "error", "response": {"reason": "not_found"}},
        ]


async def test_notification_topic_of_own_user(
    paused_sim: SimHandle, manager: Account, attendant: Account
) -> None:
    assert is_uuid(manager.id)
    topic = f"notification:{manager.id}"
    refused = {"status": "error", "response": {"reason": "unauthorized"}}
    async with wire(paused_sim, manager.access_token) as w:
        assert await w.join(topic, "4") == ["4", "4", topic, "phx_reply", OK_EMPTY]
        other = f"notification:{attendant.id}"
        assert await w.join(other, "5") == ["5", "5", other, "phx_reply", refused]


async def test_duplicate_join_reply_first_then_close_old(
    paused_sim: SimHandle, manager: Account, department_ids: list[str]
) -> None:
    topic = f"queue:{department_ids[0]}"
    async with wire(paused_sim, manager.access_token) as w:
        assert await w.join(topic, "10") == ["10", "10", topic, "phx_reply", OK_EMPTY]
        await w.send(["30", "30", topic, "phx_join", {}])
        assert await w.recv() == ["30", "30", topic, "phx_reply", OK_EMPTY]
        assert await w.recv() == ["10", "10", topic, "phx_close", {}]
        # The new instance is live: injected customers still reach this socket.
        customer(paused_sim, department_ids[0], "After Duplicate")
        event = await w.recv()
        assert event[:4] == [None, None, topic, "customer_joined"]


async def test_leave_reply_then_close(
    paused_sim: SimHandle, manager: Account, department_ids: list[str]
) -> None:
    topic = f"queue:{department_ids[1]}"
    async with wire(paused_sim, manager.access_token) as w:
        await w.join(topic, "34")
        await w.send(["34", "35", topic, "phx_leave", {}])
        assert await w.recv() == ["34", "35", topic, "phx_reply", OK_EMPTY]
        assert await w.recv() == ["34", "34", topic, "phx_close", {}]
        # The channel is gone: nothing more is delivered, a push is an unmatched topic.
        customer(paused_sim, department_ids[1], "After Leave")
        await w.quiet(0.5)
        await w.send(["34", "36", topic, "ping", {}])
        assert await w.recv() == [None, "36", topic, "phx_reply", UNMATCHED]


async def test_leave_of_topic_not_joined_is_ok(
    paused_sim: SimHandle, manager: Account, department_ids: list[str]
) -> None:
    topic = f"queue:{department_ids[0]}"
    async with wire(paused_sim, manager.access_token) as w:
        await w.send(["60", "61", topic, "phx_leave", {}])
        assert await w.recv() == ["60", "61", topic, "phx_reply", OK_EMPTY]


async def test_channel_crash_phx_error_empty_then_rejoin(
    paused_sim: SimHandle, manager: Account, department_ids: list[str]
) -> None:
    """Transcript 8: an event the channel has no clause for crashes it. ``phx_error`` carries
    ``{}`` and the channel's join_ref as both refs; the push gets no reply; the socket stays
    open and a rejoin with a new join_ref works."""
    topic = f"queue:{department_ids[0]}"
    async with wire(paused_sim, manager.access_token) as w:
        assert await w.join(topic, "30") == ["30", "30", topic, "phx_reply", OK_EMPTY]
        await w.send(["30", "31", topic, "crash", {}])
        assert await w.recv() == ["30", "30", topic, "phx_error", {}]
        await w.quiet()
        assert await w.join(topic, "32") == ["32", "32", topic, "phx_reply", OK_EMPTY]


@pytest.mark.parametrize(("crash", "event"), [(True, "phx_error"), (False, "phx_close")])
async def test_server_side_close_channel(
    paused_sim: SimHandle, manager: Account, department_ids: list[str], crash: bool, event: str
) -> None:
    topic = f"presence:{department_ids[1]}"
    async with wire(paused_sim, manager.access_token) as w:
        await w.join(topic, "7")
        await w.until(lambda f: f[3] == "presence_state")
        params = {"topic": topic, "crash": "1"} if crash else {"topic": topic}
        answer = paused_sim.control("POST", "close-channel", params=params)
        assert answer.status_code == 200 and answer.json()["channels"] == 1, answer.text
        frame, _ = await w.until(lambda f: f[3] in ("phx_error", "phx_close"))
        assert frame == ["7", "7", topic, event, {}]
        await w.send([None, "8", "phoenix", "heartbeat", {}])
        assert await w.recv() == [None, "8", "phoenix", "phx_reply", OK_EMPTY]


# --- malformed input --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "this is not json",
        '[null,"1","phoenix","heartbeat"]',
        '{"topic":"phoenix","event":"heartbeat","payload":{},"ref":"1"}',
    ],
    ids=["not-json", "four-elements", "v1-object"],
)
async def test_malformed_frame_closes_1011(
    paused_sim: SimHandle, manager: Account, text: str
) -> None:
    async with wire(paused_sim, manager.access_token) as w:
        await w.send(text)
        assert await w.close_code() == 1011


# --- serializer V1 (transcripts 14 and 15) ---------------------------------------------------


@pytest.mark.parametrize("vsn", ["1.0.0", None], ids=["vsn-1.0.0", "no-vsn"])
async def test_v1_serializer_objects(
    paused_sim: SimHandle, manager: Account, department_ids: list[str], vsn: str | None
) -> None:
    url = f"{paused_sim.ws_url}?token={manager.access_token}"
    if vsn is not None:
        url += f"&vsn={vsn}"
    async with connect(url, ping_interval=None, open_timeout=WAIT) as ws:
        await ws.send('{"topic":"phoenix","event":"heartbeat","payload":{},"ref":"1"}')
        reply = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
        assert reply == {"event": "phx_reply", "payload": OK_EMPTY, "ref": "1", "topic": "phoenix"}
        topic = f"queue:{department_ids[0]}"
        join = {"topic": topic, "event": "phx_join", "payload": {}, "ref": "2", "join_ref": "2"}
        await ws.send(json.dumps(join))
        reply = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
        assert reply == {"event": "phx_reply", "payload": OK_EMPTY, "ref": "2", "topic": topic}
        customer(paused_sim, department_ids[0], "Vee One")
        event = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
        assert set(event) == {"event", "payload", "ref", "topic"}  # no join_ref on V1 output
        assert (event["event"], event["ref"], event["topic"]) == ("customer_joined", None, topic)


# --- queue broadcasts -------------------------------------------------------------------------


async def test_injected_customer_broadcast(
    paused_sim: SimHandle, manager: Account, department_ids: list[str]
) -> None:
    department_id = department_ids[0]
    topic = f"queue:{department_id}"
    async with wire(paused_sim, manager.access_token) as w:
        await w.join(topic, "1")
        customer(paused_sim, department_id, "Broadcast Bea", reason="refund")
        frame = await w.recv()
    assert frame[:4] == [None, None, topic, "customer_joined"]
    payload = frame[4]
    assert set(payload) == CUSTOMER_JOINED, payload
    uuid.UUID(payload["call_id"])
    assert payload["department_id"] == department_id
    assert payload["customer_name"] == "Broadcast Bea"
    assert payload["reason"] == "refund"
    assert ISO_Z.match(payload["queued_at"])
    assert type(payload["estimated_wait_time"]) is int
    waiting = waiting_of(paused_sim, department_id)
    assert waiting[-1] == payload["call_id"]
    assert payload["position"] == len(waiting)


async def test_widget_customer_broadcast(
    paused_sim: SimHandle, manager: Account, department_ids: list[str]
) -> None:
    department_id = department_ids[-1]
    topic = f"queue:{department_id}"
    links = api_get(
        paused_sim, manager, "access-links", department_id=department_id, status="active"
    ).json()["data"]
    async with wire(paused_sim, manager.access_token) as w:
        await w.join(topic, "1")
        async with httpx.AsyncClient(timeout=HTTP_TIMEOUT) as client:
            joined = await client.post(
                f"{paused_sim.url}/api/v1/call/{links[0]['token']}/join",
                json={"name": "Widget Walt"},
            )
        assert joined.status_code in (200, 201), joined.text
        frame = await w.recv()
    assert frame[:4] == [None, None, topic, "customer_joined"]
    assert set(frame[4]) == CUSTOMER_JOINED
    assert frame[4]["call_id"] == joined.json()["data"]["call_id"]
    assert frame[4]["customer_name"] == "Widget Walt"


# --- presence ---------------------------------------------------------------------------------


async def test_presence_state_pushed_after_join_reply(
    paused_sim: SimHandle, manager: Account, department_ids: list[str]
) -> None:
    department_id = department_ids[0]
    topic = f"presence:{department_id}"
    async with wire(paused_sim, manager.access_token) as w:
        assert await w.join(topic, "40") == ["40", "40", topic, "phx_reply", OK_EMPTY]
        state_frame, before = await w.until(lambda f: f[3] == "presence_state")
        for frame in before:  # phoenix may deliver the joiner's own diff first
            assert frame[:4] == [None, None, topic, "presence_diff"], frame
        assert state_frame[:4] == ["40", None, topic, "presence_state"]
        presences = state_frame[4]
        refs: list[str] = []
        for key, presence in presences.items():
            assert is_uuid(key), key  # presence keys are user ids: uuids
            assert presence["metas"], key
            for meta in presence["metas"]:
                assert_meta(meta)
                refs.append(meta["phx_ref"])
        assert len(refs) == len(set(refs)), "every meta has its own phx_ref"
        # Diffs that overtook the state are applied after it, as phoenix.js does.
        metas = {k: list(v["metas"]) for k, v in presences.items()}
        for diff in before:
            apply_diff(metas, diff[4])
        seen = presence_summary({k: {"metas": m} for k, m in metas.items()})
        assert seen == agents_of(paused_sim.state(), department_id)


# --- the running scenario ---------------------------------------------------------------------


@dataclass
class Recording:
    """What one manager socket saw while the scenario ran, plus the ground truth afterwards."""

    initial_waiting: dict[str, list[str]]
    presence_states: dict[str, dict[str, Any]] = field(default_factory=dict)
    frames: list[Frame] = field(default_factory=list)
    final_state: dict[str, Any] = field(default_factory=dict)

    def events(self, name: str) -> list[Frame]:
        return [f for f in self.frames if f[3] == name]


def is_update(diff: dict[str, Any]) -> bool:
    for key, presence in diff["joins"].items():
        left = {m["phx_ref"] for m in diff["leaves"].get(key, {}).get("metas", [])}
        if any(m.get("phx_ref_prev") in left for m in presence["metas"]):
            return True
    return False


async def record_scenario(sim: SimHandle) -> Recording:
    manager = login(sim, MANAGER)
    state = sim.state()
    ids = [d["id"] for d in state["departments"]]
    recording = Recording({d["id"]: list(d["waiting"]) for d in state["departments"]})
    async with wire(sim, manager.access_token) as w:
        for n, department_id in enumerate(ids):
            reply = await w.join(f"queue:{department_id}", f"q{n}")
            assert reply[4] == OK_EMPTY, reply
            reply = await w.join(f"presence:{department_id}", f"p{n}")
            assert reply[4] == OK_EMPTY, reply
            frame, _ = await w.until(lambda f: f[3] == "presence_state")
            recording.presence_states[department_id] = frame[4]
        assert sim.control("POST", "rate", params={"events_per_second": 100}).status_code < 300
        assert sim.control("POST", "resume").status_code < 300

        def complete() -> bool:
            names = {f[3] for f in recording.frames}
            updates = any(is_update(f[4]) for f in recording.events("presence_diff"))
            return {"customer_joined", "call_assigned", "customer_left"} <= names and updates

        deadline = time.monotonic() + 25
        while not complete() and time.monotonic() < deadline:
            try:
                recording.frames.append(await w.recv(0.5))
            except TimeoutError:
                continue
        assert sim.control("POST", "pause").status_code < 300
        # Drain what was already under way, then take the ground truth.
        while True:
            try:
                recording.frames.append(await w.recv(1.0))
            except TimeoutError:
                break
        recording.final_state = sim.state()
    return recording


@pytest.fixture(scope="module")
def recording() -> Iterator[Recording]:
    with (
        running_sim(seed=7, speed=20, auth_rate_limit=1000, secret=SECRET, paused=True) as sim,
        concurrent.futures.ThreadPoolExecutor(1) as pool,
    ):
        yield pool.submit(asyncio.run, record_scenario(sim)).result()


def test_scenario_broadcasts_have_null_refs(recording: Recording) -> None:
    assert recording.frames
    for frame in recording.frames:
        assert frame[0] is None and frame[1] is None, frame
        assert frame[3] in {
            "customer_joined",
            "customer_left",
            "call_assigned",
            "presence_diff",
        }, frame


def test_scenario_customer_joined_payload(recording: Recording) -> None:
    events = recording.events("customer_joined")
    assert events
    for frame in events:
        payload = frame[4]
        assert set(payload) == CUSTOMER_JOINED, payload
        assert frame[2] == f"queue:{payload['department_id']}"
        uuid.UUID(payload["call_id"])
        assert type(payload["position"]) is int and payload["position"] >= 1
        assert ISO_Z.match(payload["queued_at"])


def test_scenario_call_assigned_payload(recording: Recording) -> None:
    events = recording.events("call_assigned")
    assert events
    for frame in events:
        payload = frame[4]
        assert set(payload) == CALL_ASSIGNED, payload
        assert frame[2] == f"queue:{payload['department_id']}"
        uuid.UUID(payload["call_id"])
        assert is_uuid(payload["user_id"]), payload
        assert isinstance(payload["user_name"], str)
        assert ISO_Z.match(payload["assigned_at"])


def test_scenario_customer_left_payload(recording: Recording) -> None:
    events = recording.events("customer_left")
    assert events
    for frame in events:
        payload = frame[4]
        assert set(payload) == CUSTOMER_LEFT, payload
        assert frame[2] == f"queue:{payload['department_id']}"
        assert payload["reason"] in {"abandoned", "cancelled", "missed"}


def test_scenario_presence_update_is_leave_plus_join(recording: Recording) -> None:
    updates = [f for f in recording.events("presence_diff") if is_update(f[4])]
    assert updates, "no status change arrived as a leave+join with phx_ref_prev"
    for frame in updates:
        assert set(frame[4]) == {"joins", "leaves"}
        for key, presence in frame[4]["joins"].items():
            for meta in presence["metas"]:
                assert_meta(meta)
                if "phx_ref_prev" in meta:
                    assert meta["phx_ref"] != meta["phx_ref_prev"]
                    left = frame[4]["leaves"][key]["metas"]
                    assert meta["phx_ref_prev"] in {m["phx_ref"] for m in left}


def test_some_agent_has_several_devices(recording: Recording) -> None:
    # Issue 2: several metas for one user on several devices, each with its own phx_ref.
    several = [
        presence["metas"]
        for presences in recording.presence_states.values()
        for presence in presences.values()
        if len(presence["metas"]) >= 2
    ]
    assert several, "no user is present on two devices"
    for metas in several:
        assert len({m["phx_ref"] for m in metas}) == len(metas)


def test_scenario_replayed_queues_match_ground_truth(recording: Recording) -> None:
    waiting = {d: list(ids) for d, ids in recording.initial_waiting.items()}
    for frame in recording.frames:
        department_id = frame[2].split(":", 1)[1]
        if frame[3] == "customer_joined":
            waiting[department_id].append(frame[4]["call_id"])
        elif frame[3] in ("customer_left", "call_assigned"):
            assert frame[4]["call_id"] in waiting[department_id], frame
            waiting[department_id].remove(frame[4]["call_id"])
    truth = {d["id"]: d["waiting"] for d in recording.final_state["departments"]}
    assert waiting == truth


def test_scenario_replayed_presence_matches_ground_truth(recording: Recording) -> None:
    states = {
        d: {k: list(p["metas"]) for k, p in presences.items()}
        for d, presences in recording.presence_states.items()
    }
    for frame in recording.events("presence_diff"):
        apply_diff(states[frame[2].split(":", 1)[1]], frame[4])
    for department_id, state in states.items():
        replayed = presence_summary({k: {"metas": m} for k, m in state.items()})
        assert replayed == agents_of(recording.final_state, department_id), department_id


# --- control endpoints seen from the socket ---------------------------------------------------


async def test_raw_frames_delivered_as_is(paused_sim: SimHandle, manager: Account) -> None:
    async with wire(paused_sim, manager.access_token) as w:
        for text in ('[null,null,"queue:1","custom_event",{"x":1}]', "not json at all {"):
            assert paused_sim.control("POST", "raw", json={"frame": text}).status_code < 300
            assert await w.recv_text() == text
        await w.send([None, "9", "phoenix", "heartbeat", {}])
        assert await w.recv() == [None, "9", "phoenix", "phx_reply", OK_EMPTY]


async def test_drop_closes_sockets(paused_sim: SimHandle, manager: Account) -> None:
    async with wire(paused_sim, manager.access_token) as w:
        await w.send([None, "1", "phoenix", "heartbeat", {}])
        await w.recv()
        assert paused_sim.control("POST", "drop").status_code < 300
        await w.close_code()
    async with wire(paused_sim, manager.access_token) as again:
        await again.send([None, "2", "phoenix", "heartbeat", {}])
        assert await again.recv() == [None, "2", "phoenix", "phx_reply", OK_EMPTY]


async def test_idle_timeout_closes_and_heartbeats_keep_alive() -> None:
    with running_sim(seed=7, secret=SECRET, paused=True, idle_timeout=1.0) as sim:
        token = login(sim, MANAGER).access_token
        async with wire(sim, token) as w:
            for n in range(8):  # 2.4 s of traffic, more than twice the timeout
                await w.send([None, str(n), "phoenix", "heartbeat", {}])
                assert await w.recv() == [None, str(n), "phoenix", "phx_reply", OK_EMPTY]
                await asyncio.sleep(0.3)
            started = time.monotonic()
            code = await w.close_code(wait=10)
        assert code in (1000, 1002)  # Cowboy / Bandit
        assert time.monotonic() - started >= 0.5


async def test_silence_holds_replies_without_closing() -> None:
    with running_sim(seed=7, secret=SECRET, paused=True) as sim:
        token = login(sim, MANAGER).access_token
        async with wire(sim, token) as w:
            assert sim.control("POST", "silence", params={"seconds": 2}).status_code < 300
            silenced_at = time.monotonic()
            await w.send([None, "s1", "phoenix", "heartbeat", {}])
            await w.quiet(1.0)
            await asyncio.sleep(max(0.0, 2.5 - (time.monotonic() - silenced_at)))
            await w.send([None, "s2", "phoenix", "heartbeat", {}])
            reply, earlier = await w.until(lambda f: f[1] == "s2")
            assert reply == [None, "s2", "phoenix", "phx_reply", OK_EMPTY]
            assert all(f[1] == "s1" for f in earlier), earlier


async def test_revoked_token_refused_at_connect_but_live_socket_kept() -> None:
    with running_sim(seed=7, auth_rate_limit=1000, secret=SECRET, paused=True) as sim:
        account = login(sim, ATTENDANT)
        async with wire(sim, account.access_token) as live:
            assert sim.control("POST", "revoke").status_code < 300
            with pytest.raises(InvalidStatus) as refused:
                async with connect(socket_url(sim, account.access_token), open_timeout=WAIT):
                    pass
            assert refused.value.response.status_code == 403
            await live.send([None, "1", "phoenix", "heartbeat", {}])
            assert await live.recv() == [None, "1", "phoenix", "phx_reply", OK_EMPTY]
