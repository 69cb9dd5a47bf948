"""voki-sim's fault controls that model a real server going wrong without going away.

A skewed server clock (``--clock-offset``, ``POST /__sim/clock``), sessions lost on a restart
(``--forget-sessions-on-restart``, ``POST /__sim/forget-sessions``) and broadcasts lost
between cluster nodes (``POST /__sim/lose``). Each is checked through what a client can see:
HTTP headers, token claims, timestamps in payloads, status codes and frames.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import jwt
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from voki_tui.sim.testing import SimHandle, SimProcess, running_sim

from .conftest import HTTP_TIMEOUT, MANAGER, SECRET, SUPERVISOR, api_get, login
from .test_transcripts import OK_EMPTY, WAIT, Wire, socket_url, wire

IMF_FIXDATE = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"\d{4} \d{2}:\d{2}:\d{2} GMT$"
)
OFFSET = -7200.0  # the server believes it is two hours earlier than it is
SLACK = 5.0  # seconds: the test's own pace, whole-second timestamps


def date_of(response: httpx.Response) -> float:
    """The one ``Date`` header of ``response`` (RFC 7231 IMF-fixdate), as epoch seconds."""
    dates = response.headers.get_list("date")
    assert len(dates) == 1, response.headers
    assert IMF_FIXDATE.match(dates[0]), dates[0]
    return parsedate_to_datetime(dates[0]).timestamp()


def claims_of(token: str) -> dict[str, Any]:
    """Signature-checked claims; times are judged by the test, not by PyJWT's host clock."""
    options = {"verify_exp": False, "verify_iat": False, "verify_nbf": False}
    claims: dict[str, Any] = jwt.decode(token, SECRET, algorithms=["HS256"], options=options)
    return claims


def epoch(iso_z: str) -> float:
    return datetime.fromisoformat(iso_z.replace("Z", "+00:00")).timestamp()


def near(value: float, expected: float) -> bool:
    return abs(value - expected) <= SLACK


@pytest.fixture(scope="module")
def skewed() -> Iterator[SimHandle]:
    with running_sim(
        seed=7, auth_rate_limit=1000, secret=SECRET, paused=True, clock_offset=OFFSET
    ) as sim:
        yield sim


# --- the server's clock ------------------------------------------------------------------------


def test_every_rest_response_has_one_date_header_from_the_server_clock(
    paused_sim: SimHandle, skewed: SimHandle
) -> None:
    for sim, offset in ((paused_sim, 0.0), (skewed, OFFSET)):
        account = login(sim, MANAGER)
        responses = [
            api_get(sim, account, "users/me"),  # 200
            httpx.get(f"{sim.url}/api/v1/users/me", timeout=HTTP_TIMEOUT),  # 401
            httpx.get(f"{sim.url}/api/v1/no-such-thing", timeout=HTTP_TIMEOUT),  # 404
            httpx.post(f"{sim.url}/api/auth/login", json={}, timeout=HTTP_TIMEOUT),  # 422
            sim.control("GET", "state"),
            sim.control("POST", "pause"),
        ]
        for response in responses:
            assert near(date_of(response), time.time() + offset), (sim, response.request.url)


def test_tokens_and_timestamps_follow_the_skewed_clock(skewed: SimHandle) -> None:
    account = login(skewed, MANAGER)
    claims = claims_of(account.access_token)
    assert near(claims["iat"], time.time() + OFFSET), claims
    assert claims["exp"] - claims["iat"] == 900, claims
    refresh = claims_of(account.refresh_token)
    assert near(refresh["iat"], time.time() + OFFSET), refresh
    # The token expired by the host's clock (an hour after its exp) but not by the server's.
    assert claims["exp"] < time.time()
    assert api_get(skewed, account, "users/me").status_code == 200

    department = skewed.state()["departments"][0]["id"]
    added = skewed.control(
        "POST", "customers", json={"department_id": department, "customer_name": "Clock Cleo"}
    )
    assert added.status_code == 200, added.text
    assert near(epoch(added.json()["data"]["queued_at"]), time.time() + OFFSET)
    call = api_get(skewed, account, f"calls/{added.json()['data']['call_id']}").json()["data"]
    assert near(epoch(call["inserted_at"]), time.time() + OFFSET), call
    # The seeded history and presence end at the server's "now", two hours ago for the host.
    history = api_get(skewed, account, "calls", page_size=100).json()["data"]
    assert history and all(epoch(c["inserted_at"]) <= time.time() + OFFSET + SLACK for c in history)
    agents = [a for d in skewed.state()["departments"] for a in d["agents"]]
    assert agents and all(epoch(a["since"]) <= time.time() + OFFSET + SLACK for a in agents)
    assert min(epoch(a["since"]) for a in agents) < time.time() + OFFSET - 5  # not "now" either


async def test_refused_upgrade_is_dated_by_the_server_clock(skewed: SimHandle) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(socket_url(skewed, "not-a-token"), open_timeout=WAIT):
            pass
    response = refused.value.response
    assert response.status_code == 403 and not response.body
    date = response.headers.get_all("date")
    assert len(date) == 1 and near(parsedate_to_datetime(date[0]).timestamp(), time.time() + OFFSET)


async def test_a_token_issued_ahead_of_the_host_is_accepted_on_the_socket() -> None:
    """iat an hour in the host's future: the server checks it against its own clock."""
    with running_sim(seed=7, secret=SECRET, paused=True, clock_offset=3600) as sim:
        token = login(sim, MANAGER).access_token
        assert jwt.decode(token, options={"verify_signature": False})["iat"] > time.time() + 3000
        async with connect(socket_url(sim, token), open_timeout=WAIT) as ws:
            assert ws.response is not None
            date = ws.response.headers.get_all("date")  # the 101 is dated by the server too
            assert len(date) == 1
            assert near(parsedate_to_datetime(date[0]).timestamp(), time.time() + 3600)
            await ws.send('[null,"1","phoenix","heartbeat",{}]')
            assert '"phx_reply"' in str(await ws.recv())


def test_clock_set_at_run_time_moves_date_issue_and_expiry_check() -> None:
    with running_sim(seed=7, auth_rate_limit=1000, secret=SECRET, paused=True) as sim:
        account = login(sim, MANAGER)  # exp = now + 900 s
        assert api_get(sim, account, "users/me").status_code == 200
        moved = sim.control("POST", "clock", params={"offset": 1000})
        assert moved.status_code == 200, moved.text
        assert moved.json()["ok"] is True and moved.json()["offset"] == 1000
        assert near(epoch(moved.json()["now"]), time.time() + 1000)
        assert near(date_of(moved), time.time() + 1000)
        assert sim.state()["clock_offset"] == 1000
        # 1000 s later by the server's clock, the 900 s access token has expired.
        assert api_get(sim, account, "users/me").status_code == 401
        fresh = login(sim, MANAGER)
        iat = claims_of(fresh.access_token)["iat"]
        assert near(iat, time.time() + 1000)
        assert sim.control("POST", "clock?offset=0").status_code == 200
        assert api_get(sim, account, "users/me").status_code == 200  # back in its lifetime
        assert near(date_of(sim.control("GET", "state")), time.time())


@pytest.mark.parametrize("query", ["", "offset=", "offset=x", "offset=nan", "offset=inf"])
def test_clock_rejects_a_bad_offset(paused_sim: SimHandle, query: str) -> None:
    response = paused_sim.control("POST", f"clock?{query}")
    assert response.status_code == 422, response.text
    assert "offset" in response.json()["errors"]
    assert paused_sim.state()["clock_offset"] == 0


def test_clock_offset_flag_of_the_cli() -> None:
    with SimProcess(seed=2, paused=True, auth_rate_limit=100, clock_offset=-86400) as proc:
        assert proc.state()["clock_offset"] == -86400
        assert near(date_of(proc.control("GET", "state")), time.time() - 86400)


# --- sessions that do not survive a restart --------------------------------------------------


def refresh(sim: SimHandle, token: str) -> httpx.Response:
    return httpx.post(
        f"{sim.url}/api/auth/refresh", json={"refresh_token": token}, timeout=HTTP_TIMEOUT
    )


def test_plain_restart_keeps_sessions() -> None:
    with running_sim(seed=7, auth_rate_limit=1000, secret=SECRET, paused=True) as sim:
        account = login(sim, MANAGER)
        sim.restart()
        assert refresh(sim, account.refresh_token).status_code == 200


def test_restart_forgets_sessions_with_the_flag() -> None:
    with running_sim(
        seed=7, auth_rate_limit=1000, secret=SECRET, paused=True, forget_sessions_on_restart=True
    ) as sim:
        before = login(sim, MANAGER)
        spare = login(sim, MANAGER)
        rotated = refresh(sim, before.refresh_token)  # a session survives within one run
        assert rotated.status_code == 200, rotated.text
        sim.restart()
        for token in (spare.refresh_token, rotated.json()["data"]["refresh_token"]):
            assert refresh(sim, token).status_code == 401
        # Access tokens are self-contained JWTs: valid until their exp.
        assert api_get(sim, before, "users/me").status_code == 200
        after = login(sim, MANAGER)
        assert refresh(sim, after.refresh_token).status_code == 200


def test_subprocess_restart_forgets_sessions_with_the_flag() -> None:
    with SimProcess(
        seed=7, auth_rate_limit=1000, secret=SECRET, paused=True, forget_sessions_on_restart=True
    ) as proc:
        account = login(proc, MANAGER)
        proc.restart()
        assert refresh(proc, account.refresh_token).status_code == 401
        assert api_get(proc, account, "users/me").status_code == 200
        assert refresh(proc, login(proc, MANAGER).refresh_token).status_code == 200


def test_forget_sessions_refuses_every_refresh_token_so_far() -> None:
    with running_sim(seed=7, auth_rate_limit=1000, secret=SECRET, paused=True) as sim:
        manager, supervisor = login(sim, MANAGER), login(sim, SUPERVISOR)
        answer = sim.control("POST", "forget-sessions")
        assert answer.status_code == 200 and answer.json() == {"ok": True}, answer.text
        for account in (manager, supervisor):
            assert refresh(sim, account.refresh_token).status_code == 401
            assert api_get(sim, account, "users/me").status_code == 200  # unlike revoke-all
        assert refresh(sim, login(sim, MANAGER).refresh_token).status_code == 200


# --- broadcasts lost between nodes --------------------------------------------------------------


@pytest.fixture
def lossy() -> Iterator[SimHandle]:
    with running_sim(seed=7, auth_rate_limit=1000, secret=SECRET, paused=True) as sim:
        yield sim


def add(sim: SimHandle, department_id: str, name: str) -> str:
    body = {"department_id": department_id, "customer_name": name}
    response = sim.control("POST", "customers", json=body)
    assert response.status_code == 200, response.text
    call_id: str = response.json()["data"]["call_id"]
    return call_id


def lose(sim: SimHandle, **params: Any) -> dict[str, Any]:
    response = sim.control("POST", "lose", params=params)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def heartbeat(w: Wire, ref: str) -> None:
    await w.send([None, ref, "phoenix", "heartbeat", {}])
    assert await w.recv() == [None, ref, "phoenix", "phx_reply", OK_EMPTY]


async def test_lost_broadcasts_leave_the_socket_open_and_the_world_moving(
    lossy: SimHandle,
) -> None:
    dept = lossy.department_ids()[0]
    topic = f"queue:{dept}"
    manager = login(lossy, MANAGER)
    async with wire(lossy, manager.access_token) as w:
        await w.join(topic, "1")
        answer = lose(lossy, seconds=60)
        assert answer == {"ok": True, "seconds": 60, "share": 1.0, "topic": None}
        assert lossy.state()["losing"]["share"] == 1.0
        lost = [add(lossy, dept, f"Lost {n}") for n in range(3)]
        await heartbeat(w, "h1")  # replies still flow; nothing else arrived before this one
        await w.quiet(0.3)
        state = lossy.state()
        assert state["events_lost"] == 3
        waiting = next(d["waiting"] for d in state["departments"] if d["id"] == dept)
        assert waiting[-3:] == lost  # the world changed
        queued = api_get(lossy, manager, "calls", status="queued", department_id=dept)
        assert set(lost) <= {c["id"] for c in queued.json()["data"]}  # REST tells the truth
        # A join during the window is answered (a reply, not a broadcast).
        presence = f"presence:{dept}"
        assert (await w.join(presence, "2"))[4] == OK_EMPTY
        state_frame, _ = await w.until(lambda f: f[3] == "presence_state")
        assert state_frame[:3] == ["2", None, presence]
        # Once the window is over, broadcasts arrive again on the same socket.
        assert lose(lossy, seconds=0)["seconds"] == 0  # ends the window at once
        assert lossy.state()["losing"] is None
        found = add(lossy, dept, "Delivered")
        frame, skipped = await w.until(lambda f: f[3] == "customer_joined")
        assert frame[2] == topic and frame[4]["call_id"] == found
        assert all(f[3] == "presence_diff" for f in skipped), skipped
        await heartbeat(w, "h2")
    assert lossy.state()["events_lost"] == 3


async def test_presence_diffs_are_lost_too(lossy: SimHandle) -> None:
    dept = lossy.department_ids()[0]
    topic = f"presence:{dept}"
    manager = login(lossy, MANAGER)
    async with wire(lossy, manager.access_token) as w:
        await w.join(topic, "1")
        await w.until(lambda f: f[3] == "presence_state")
        before = lossy.state()
        lose(lossy, seconds=60)
        lossy.control("POST", "rate", params={"events_per_second": 200})
        lossy.control("POST", "resume")
        deadline = time.monotonic() + WAIT
        while lossy.state()["events_lost"] < 50:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
        lossy.control("POST", "pause")
        await heartbeat(w, "h1")
        await w.quiet(0.3)
        after = lossy.state()
        assert after["events_lost"] == after["events_sent"] - before["events_sent"]
        agents = {d["id"]: d["agents"] for d in after["departments"]}
        assert agents != {d["id"]: d["agents"] for d in before["departments"]}


async def test_loss_window_ends_by_itself(lossy: SimHandle) -> None:
    dept = lossy.department_ids()[0]
    manager = login(lossy, MANAGER)
    async with wire(lossy, manager.access_token) as w:
        await w.join(f"queue:{dept}", "1")
        lose(lossy, seconds=0.5)
        deadline = time.monotonic() + WAIT
        while lossy.state()["losing"] is not None:
            assert time.monotonic() < deadline, "the loss window never ended"
            await asyncio.sleep(0.05)
        found = add(lossy, dept, "After the window")
        frame = await w.recv()
        assert frame[3] == "customer_joined" and frame[4]["call_id"] == found
    assert lossy.state()["events_lost"] == 0


async def test_loss_of_one_topic_only(lossy: SimHandle) -> None:
    first, second = lossy.department_ids()[:2]
    manager = login(lossy, MANAGER)
    async with wire(lossy, manager.access_token) as w:
        await w.join(f"queue:{first}", "1")
        await w.join(f"queue:{second}", "2")
        lose(lossy, seconds=60, topic=f"queue:{first}")
        add(lossy, first, "Lost")
        delivered = add(lossy, second, "Kept")
        frame = await w.recv()
        assert frame[2:4] == [f"queue:{second}", "customer_joined"]
        assert frame[4]["call_id"] == delivered
        await heartbeat(w, "h1")
        assert lossy.state()["events_lost"] == 1


@pytest.mark.parametrize("share", [0.0, 0.5])
async def test_loss_share(lossy: SimHandle, share: float) -> None:
    dept = lossy.department_ids()[0]
    manager = login(lossy, MANAGER)
    async with wire(lossy, manager.access_token) as w:
        await w.join(f"queue:{dept}", "1")
        lose(lossy, seconds=60, share=share)
        sent = [add(lossy, dept, f"Customer {n}") for n in range(40)]
        # Everything delivered was written before the reply to this later heartbeat.
        await w.send([None, "h1", "phoenix", "heartbeat", {}])
        _, before_reply = await w.until(lambda f: f[1] == "h1")
        assert all(f[3] == "customer_joined" for f in before_reply), before_reply
        received = [f[4]["call_id"] for f in before_reply]
        await w.quiet(0.3)
        lost = lossy.state()["events_lost"]
    assert lost + len(received) == len(sent)
    assert set(received) <= set(sent)
    if share == 0.0:
        assert lost == 0
    else:
        assert 0 < lost < len(sent)


@pytest.mark.parametrize(
    "query",
    ["", "seconds=-1", "seconds=x", "seconds=inf", "seconds=1&share=1.5", "seconds=1&share=-0.1"],
)
def test_lose_rejects_bad_values(paused_sim: SimHandle, query: str) -> None:
    response = paused_sim.control("POST", f"lose?{query}")
    assert response.status_code == 422, response.text
    assert paused_sim.state()["losing"] is None


# --- the auth log -------------------------------------------------------------------------------


def test_auth_log_lists_every_auth_request_with_its_status() -> None:
    with running_sim(seed=7, auth_rate_limit=3, secret=SECRET, paused=True) as sim:
        started = time.time()
        account = login(sim, MANAGER)
        assert refresh(sim, "not-a-token").status_code == 401
        assert api_get(sim, account, "users/me").status_code == 200  # not an auth request
        bad = httpx.post(f"{sim.url}/api/auth/login", json={}, timeout=HTTP_TIMEOUT)
        assert bad.status_code == 422
        limited = refresh(sim, account.refresh_token)
        assert limited.status_code == 429
        log = sim.control("GET", "auth-log").json()["requests"]
    assert [(e["path"], e["status"]) for e in log] == [
        ("/api/auth/login", 200),
        ("/api/auth/refresh", 401),
        ("/api/auth/login", 422),
        ("/api/auth/refresh", 429),
    ]
    times = [e["at"] for e in log]
    assert times == sorted(times) and started - 1 <= times[0] <= times[-1] <= time.time() + 1
