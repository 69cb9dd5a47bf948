"""Quick checks of voki-sim's own building blocks and of each basic path over real sockets.

The conformance suites (REST contract, transcripts, phoenix.js) judge the simulator against the
documentation; these are the simulator author's smoke tests: pure units without I/O, plus one
real-websocket run through each path.
"""

from __future__ import annotations

import asyncio
import json
import random
import socket
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from voki_tui.sim import DEMO_EMAILS, DEMO_PASSWORD, DEMO_TENANT
from voki_tui.sim.__main__ import build_parser, parse_args
from voki_tui.sim.auth import RateLimiter
from voki_tui.sim.config import SimConfig
from voki_tui.sim.control import ROUTES as CONTROL_ROUTES
from voki_tui.sim.presence import PresenceBook
from voki_tui.sim.scenario import Scenario
from voki_tui.sim.testing import InProcessSim, SimHandle, SimProcess, cli_args, running_sim
from voki_tui.sim.totp import totp, verify
from voki_tui.sim.wire import V1, V2, FrameError, serializer_for, text_frame
from voki_tui.sim.world import build_world

WAIT = 10.0

# ---- pure units ---------------------------------------------------------------------------


def test_totp_matches_rfc6238_sha1_vector() -> None:
    # RFC 6238 appendix B: key "12345678901234567890", T=59 -> 94287082 (8 digits).
    secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
    assert totp(secret, at=59) == "287082"
    assert totp(secret, at=1111111109) == "081804"
    assert verify(secret, "287082", at=59 + 30)
    assert not verify(secret, "287082", at=59 + 90)


def test_vsn_negotiation_like_phoenix() -> None:
    assert serializer_for("2.0.0") is V2
    assert serializer_for("2.0.7") is V2
    assert serializer_for(None) is V1
    assert serializer_for("1.0.0") is V1
    for bad in ("2.1.0", "3.0.0", "2.0", "x"):
        assert serializer_for(bad) is None


def test_v2_codec_compact_sorted_and_strict() -> None:
    assert V2.encode("1", None, "t", "e", {"b": 1, "a": 2}) == '["1",null,"t","e",{"a":2,"b":1}]'
    assert V2.decode('[5,5,"q:1","phx_join",null]').join_ref == 5
    for bad in ("this is not json", '[null,"1","phoenix","heartbeat"]', '{"a":1}'):
        with pytest.raises(FrameError):
            V2.decode(bad)


def test_text_frame_length_encodings() -> None:
    assert text_frame("hi") == b"\x81\x02hi"
    assert text_frame("x" * 200)[:4] == b"\x81\x7e\x00\xc8"
    assert text_frame("x" * 70000)[:2] == b"\x81\x7f"


def test_rate_limiter_retry_after() -> None:
    limiter = RateLimiter(2, window_s=60)
    assert limiter.check("a", now=0) is None
    assert limiter.check("a", now=1) is None
    assert limiter.check("a", now=10) == 50
    assert limiter.check("b", now=10) is None
    assert limiter.check("a", now=60.5) is None


def test_presence_update_is_leave_plus_join_with_prev_ref() -> None:
    sent: list[tuple[str, str, dict[str, Any]]] = []
    book = PresenceBook(lambda t, e, p: sent.append((t, e, p)))
    ref = book.track("presence:1", "7", {"status": "available"})
    assert len(ref) == 16
    new_ref = book.update("presence:1", "7", ref, {"status": "away"})
    _, event, diff = sent[-1]
    assert event == "presence_diff"
    assert diff["leaves"]["7"]["metas"][0]["phx_ref"] == ref
    joined = diff["joins"]["7"]["metas"][0]
    assert joined["phx_ref"] == new_ref != ref and joined["phx_ref_prev"] == ref
    book.untrack("presence:1", "7", new_ref)
    assert book.snapshot("presence:1") == {}


def _scenario(seed: int) -> tuple[Scenario, list[tuple[str, str, dict[str, Any]]]]:
    config = SimConfig(seed=seed, speed=5.0)
    rng = random.Random(seed)
    world = build_world(config, rng, time.time())
    sent: list[tuple[str, str, dict[str, Any]]] = []

    def record(topic: str, event: str, payload: dict[str, Any]) -> None:
        sent.append((topic, event, payload))

    scenario = Scenario(config, world, rng, PresenceBook(record), record)
    scenario.seed()
    return scenario, sent


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), steps=st.lists(st.floats(0.0, 30.0), max_size=40))
def test_scenario_invariants(seed: int, steps: list[float]) -> None:
    scenario, sent = _scenario(seed)
    for dt in steps:
        scenario.step(dt)
    world = scenario.world
    for dept_id, queue in world.queues.items():
        assert all(world.calls[c].status == "queued" for c in queue)
        assert all(world.calls[c].department_id == dept_id for c in queue)
    assert sum(map(len, world.queues.values())) == sum(
        c.status == "queued" for c in world.calls.values()
    )
    for agent in scenario.agents.values():  # presence shows exactly each agent's devices
        for dept_id in agent.user.department_ids:
            metas = scenario.presence.metas(f"presence:{dept_id}", agent.key)
            assert len(metas) == agent.devices
            assert all(m["status"] == agent.status for m in metas)
    for entry in scenario.state():
        for a in entry["agents"]:
            assert a["status"] != "offline"
    # every event that announced a customer left names a call that really left
    for topic, event, payload in sent:
        if event in ("customer_left", "call_assigned"):
            assert world.calls[payload["call_id"]].status != "queued"
            assert topic == f"queue:{payload['department_id']}"


def test_pause_freezes_and_seed_is_deterministic() -> None:
    a, sent_a = _scenario(42)
    b, sent_b = _scenario(42)
    a.paused = True
    before = len(sent_a)
    a.step(500.0)
    assert len(sent_a) == before
    a.paused = False
    for scenario in (a, b):
        for _ in range(50):
            scenario.step(2.0)
    names = [(t, e, p.get("call_id"), p.get("customer_name")) for t, e, p in sent_a]
    assert names == [(t, e, p.get("call_id"), p.get("customer_name")) for t, e, p in sent_b]


def test_rate_mode_emits_requested_events() -> None:
    scenario, sent = _scenario(3)
    scenario.rate = 400.0
    before = len(sent)
    for _ in range(50):
        scenario.step(0.02)  # one simulated second
    produced = len(sent) - before
    assert 350 <= produced <= 1000  # presence changes may emit one diff per device and topic


# ---- over real sockets ----------------------------------------------------------------------


def _login(sim: SimHandle, role: str = "manager") -> str:
    body = {"email": DEMO_EMAILS[role], "password": DEMO_PASSWORD, "tenant": DEMO_TENANT}
    response = httpx.post(f"{sim.url}/api/auth/login", json=body, timeout=WAIT)
    assert response.status_code == 200, response.text
    token: str = response.json()["data"]["access_token"]
    return token


async def _frame(ws: ClientConnection) -> list[Any]:
    frame: list[Any] = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
    return frame


async def _until(ws: ClientConnection, event: str, topic: str) -> list[Any]:
    while True:
        frame = await _frame(ws)
        if frame[3] == event and frame[2] == topic:
            return frame


def _socket(sim: SimHandle, token: str) -> Any:
    return connect(f"{sim.ws_url}?token={token}&vsn=2.0.0", open_timeout=WAIT, max_size=2**24)


async def test_join_presence_matches_ground_truth_and_queue_events(sim: InProcessSim) -> None:
    assert sim.control("POST", "pause").status_code == 200
    token = _login(sim)
    dept = sim.state()["departments"][0]
    async with _socket(sim, token) as ws:
        await ws.send('[null,"1","phoenix","heartbeat",{}]')
        ok = {"response": {}, "status": "ok"}
        assert await _frame(ws) == [None, "1", "phoenix", "phx_reply", ok]
        await ws.send(f'["2","2","presence:{dept["id"]}","phx_join",{{}}]')
        assert (await _frame(ws))[:4] == ["2", "2", f"presence:{dept['id']}", "phx_reply"]
        state = await _frame(ws)
        assert state[:4] == ["2", None, f"presence:{dept['id']}", "presence_state"]
        seen = {k: (v["metas"][-1]["status"], len(v["metas"])) for k, v in state[4].items()}
        truth = {a["user_id"]: (a["status"], a["devices"]) for a in dept["agents"]}
        assert seen == truth
        await ws.send(f'["3","3","queue:{dept["id"]}","phx_join",{{}}]')
        assert (await _frame(ws))[4] == {"response": {}, "status": "ok"}
        body = {"department_id": dept["id"], "customer_name": "Zé Teste", "reason": "smoke"}
        added = sim.control("POST", "customers", json=body).json()["data"]
        joined = await _until(ws, "customer_joined", f"queue:{dept['id']}")
        assert joined[:2] == [None, None] and joined[4]["call_id"] == added["call_id"]
        waiting = next(d for d in sim.state()["departments"] if d["id"] == dept["id"])["waiting"]
        assert waiting[-1] == added["call_id"]


async def test_widget_join_enters_the_same_queue(sim: InProcessSim) -> None:
    sim.control("POST", "pause")
    token = _login(sim)
    headers = {"Authorization": f"Bearer {token}", "X-Tenant": DEMO_TENANT}
    async with httpx.AsyncClient(base_url=f"{sim.url}/api/v1", timeout=WAIT) as http:
        links = (await http.get("access-links?status=active", headers=headers)).json()
        link = links["data"][0]
        topic = f"queue:{link['department_id']}"
        async with _socket(sim, token) as ws:
            await ws.send(f'["1","1","{topic}","phx_join",{{}}]')
            await _frame(ws)
            answer = await http.post(f"call/{link['token']}/join", json={"name": "Ana Cliente"})
            joined = answer.json()["data"]
            event = (await _until(ws, "customer_joined", topic))[4]
            assert event["call_id"] == joined["call_id"]
            assert event["customer_name"] == "Ana Cliente"
        status = (await http.get(f"call/status/{joined['call_id']}")).json()["data"]
    expected = {"call_id": joined["call_id"], "status": "queued", "position": joined["position"]}
    assert status == expected


async def test_scenario_moves_when_running() -> None:
    with running_sim(seed=5, speed=50, auth_rate_limit=100) as sim:
        token = _login(sim)
        topics = [f"queue:{d['id']}" for d in sim.state()["departments"]]
        async with _socket(sim, token) as ws:
            for n, topic in enumerate(topics):
                await ws.send(json.dumps([str(n), str(n), topic, "phx_join", {}]))
            events: set[str] = set()
            deadline = time.monotonic() + 20
            while not {"customer_joined", "call_assigned"} <= events:
                assert time.monotonic() < deadline, events
                frame = await _frame(ws)
                if frame[0] is None:
                    events.add(frame[3])


async def test_revoke_drop_and_restart(sim: InProcessSim) -> None:
    token = _login(sim)
    async with _socket(sim, token) as ws:
        assert sim.control("POST", "drop").json()["sockets"] == 1
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), WAIT)
        assert closed.value.rcvd is None  # no close frame: an abrupt cut
    sim.restart()  # same port and secret: the token still opens a socket
    async with _socket(sim, token) as ws:
        await ws.send('[null,"9","phoenix","heartbeat",{}]')
        assert (await _frame(ws))[1] == "9"
        sim.control("POST", "revoke")
        await ws.send('[null,"10","phoenix","heartbeat",{}]')  # live sockets are not re-checked
        assert (await _frame(ws))[1] == "10"
    with pytest.raises(InvalidStatus) as refused:
        async with _socket(sim, token):
            pass
    assert refused.value.response.status_code == 403


def test_control_refuses_nothing_on_loopback_and_rejects_bad_values(sim: InProcessSim) -> None:
    assert sim.control("POST", "silence?seconds=-1").status_code == 422
    assert sim.control("POST", "rate", params={"events_per_second": "x"}).status_code == 422
    assert sim.control("POST", "customers", json={"department_id": 999}).status_code == 422


def test_subprocess_prints_url_and_serves() -> None:
    with SimProcess(seed=2, paused=True, auth_rate_limit=100) as proc:
        assert proc.state()["paused"] is True
        assert len(proc.mfa_secret) == 32
        _login(proc)


async def test_accepted_sockets_have_nagle_off(sim: InProcessSim) -> None:
    """Every accepted connection, HTTP or websocket, has TCP_NODELAY: with Nagle on, each
    request on a kept-alive connection stalled ~44 ms (head and body written apart, the
    body waiting for the client's delayed ACK). Timing is left to benchmarks/sim_requests.py."""
    token = _login(sim)
    async with httpx.AsyncClient(base_url=sim.url, timeout=WAIT) as http:
        assert (await http.get("/__sim/state")).status_code == 200
        async with _socket(sim, token) as ws:
            await ws.send('[null,"1","phoenix","heartbeat",{}]')
            await _frame(ws)
            uvicorn_server = sim.server._server
            assert uvicorn_server is not None
            http_sockets = [
                p.transport.get_extra_info("socket")
                for p in uvicorn_server.server_state.connections
            ]
            ws_sockets = [c.transport.get_extra_info("socket") for c in sim.server.sim.hub.conns]
            assert len(http_sockets) >= 2 and len(ws_sockets) == 1
            for sock in http_sockets + ws_sockets:
                assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0, sock


def test_cli_flags_round_trip() -> None:
    """Every SimConfig field has its flag: ``cli_args`` (used by SimProcess) parses back."""
    config = SimConfig(
        port=0,
        seed=3,
        me_departments=True,
        paused=True,
        boot=5,
        clock_offset=-3600.5,
        forget_sessions_on_restart=True,
    )
    assert parse_args(cli_args(config)) == config
    assert parse_args(["--me-departments"]).me_departments is True
    assert parse_args([]).me_departments is False
    assert parse_args(["--clock-offset", "-90"]).clock_offset == -90.0


def test_readme_lists_every_flag_and_control_endpoint() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## voki-sim: a local Voki server", 1)[1].split("\n## ", 1)[0]
    flags = [
        option
        for action in build_parser()._actions
        for option in action.option_strings
        if option.startswith("--") and option != "--help"
    ]
    assert flags and [f for f in flags if f"`{f}" not in section] == []
    endpoints = [route.path.removeprefix("/__sim/") for route in CONTROL_ROUTES]
    missing = [e for e in endpoints if f"`POST {e}" not in section and f"`GET {e}" not in section]
    missing = [e for e in missing if f", `{e}`" not in section]  # "`POST pause`, `resume`"
    assert len(endpoints) >= 14 and missing == []
