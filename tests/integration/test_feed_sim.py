"""The real ``voki-tui`` CLI against voki-sim over loopback: snapshot, watch through faults.

Each test runs the CLI as a subprocess (its own ``VOKI_TUI_HOME``, password from
``VOKI_PASSWORD``) and compares its JSON with ``GET /__sim/state``. After a fault the scenario
is paused and the latest ``watch`` line must equal the truth within ``RECOVERY_S`` of the
server being reachable again: no ghost, no missing customer, same agents, state ``live``.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from voki_tui.sim import DEMO_EMAILS
from voki_tui.sim.testing import InProcessSim, SimProcess, running_sim
from voki_tui.testing.headless import (
    Watch,
    burst,
    check,
    converge,
    garbage_frames,
    poll,
    run_cli,
    send_raw,
)

#: The issue's bound: converged within 5 s of the server being reachable again.
RECOVERY_S = 5.0
#: First sync of a freshly started CLI (interpreter start-up included) on a loaded machine.
STARTUP_S = 30.0


@pytest.fixture
def sim() -> Iterator[InProcessSim]:
    """A running scenario (speed 5, so state changes during faults); auth limits raised."""
    with running_sim(seed=11, speed=5.0, auth_rate_limit=1000) as handle:
        yield handle


@pytest.fixture
def watch(sim: InProcessSim, tmp_path: Path) -> Iterator[Watch]:
    with Watch(sim, tmp_path / "watch") as running:
        first = converge(running, sim, STARTUP_S)
        assert first.converged, first.problems
        yield running


def _recovered(watch: Watch, sim: InProcessSim, timeout: float = RECOVERY_S) -> float:
    sim.control("POST", "pause")
    result = converge(watch, sim, timeout)
    assert result.converged, (result.problems, watch.stderr())
    return result.seconds


def _counters(watch: Watch) -> dict[str, int]:
    document = watch.snapshot()
    assert document is not None
    counters: dict[str, int] = document["counters"]
    return counters


# -- snapshot -------------------------------------------------------------------------------


def test_snapshot_equals_truth_for_supervisor(tmp_path: Path) -> None:
    with running_sim(seed=5, paused=True, auth_rate_limit=1000) as sim:
        result = run_cli("snapshot", sim, tmp_path)
        assert result.returncode == 0, result.stderr
        document = json.loads(result.stdout)
        state = sim.state()
    assert document["user"]["role"] == "supervisor"
    assert document["connection"]["state"] == "live"
    assert sorted(d["id"] for d in document["departments"]) == sorted(
        str(d["id"]) for d in state["departments"]
    )
    assert sum(len(d["waiting"]) for d in document["departments"]) > 0  # not trivially equal
    comparison = check(document, state)
    assert comparison.problems == []
    assert comparison.order_notes == []  # exact order since F1-1 and F1-3 were fixed


def test_snapshot_equals_truth_for_attendant_in_their_departments(tmp_path: Path) -> None:
    with running_sim(seed=5, paused=True, auth_rate_limit=1000) as sim:
        attendant = sim.server.sim.world.user_by_email(DEMO_EMAILS["attendant"])
        assert attendant is not None
        members = sorted(attendant.department_ids)
        result = run_cli("snapshot", sim, tmp_path, role="attendant")
        assert result.returncode == 0, result.stderr
        document = json.loads(result.stdout)
        state = sim.state()
    assert document["user"]["role"] == "attendant"
    assert len(members) == 2 and len(state["departments"]) > 2
    assert sorted(d["id"] for d in document["departments"]) == members
    comparison = check(document, state)
    assert comparison.problems == []
    assert comparison.order_notes == []  # exact order since F1-1 and F1-3 were fixed


# -- watch through faults ---------------------------------------------------------------------


def test_watch_converges_after_drop(sim: InProcessSim, watch: Watch) -> None:
    reconnects = _counters(watch)["reconnects"]
    time.sleep(0.5)
    assert sim.control("POST", "drop").json()["sockets"] >= 1
    _recovered(watch, sim)
    assert _counters(watch)["reconnects"] > reconnects


def test_watch_refreshes_and_continues_after_revoke(sim: InProcessSim, watch: Watch) -> None:
    """Revoked access tokens: the REST snapshot after a channel crash and the reconnect after
    a drop both meet a refused token, refresh once and carry on."""
    sim.control("POST", "revoke")
    topic = f"queue:{sim.department_ids()[0]}"
    assert sim.control("POST", f"close-channel?topic={topic}&crash=1").json()["channels"] >= 1
    _recovered(watch, sim)
    sim.control("POST", "resume")
    sim.control("POST", "revoke")
    sim.control("POST", "drop")
    _recovered(watch, sim)
    assert watch.process is not None and watch.process.poll() is None


def test_watch_survives_raw_garbage_and_counts_it(sim: InProcessSim, watch: Watch) -> None:
    before = _counters(watch)
    send_raw(sim, garbage_frames(sim.department_ids()[0]))
    sim.control("POST", "resume")
    time.sleep(0.5)
    _recovered(watch, sim)
    after = _counters(watch)
    assert after["malformed_frames"] >= before["malformed_frames"] + 3
    assert after["unknown_events"] >= before["unknown_events"] + 1
    assert after["invalid_payloads"] >= before["invalid_payloads"] + 3


def test_watch_has_no_ghost_or_hole_after_a_burst(sim: InProcessSim, watch: Watch) -> None:
    sent = sim.state()["events_sent"]
    burst(sim, events_per_second=1000, seconds=1.0)
    assert sim.state()["events_sent"] - sent >= 300  # the burst really happened
    _recovered(watch, sim)


def test_watch_converges_after_a_restart_on_the_same_port(tmp_path: Path) -> None:
    with (
        SimProcess(seed=11, speed=5.0, auth_rate_limit=1000) as sim,
        Watch(sim, tmp_path / "watch") as watch,
    ):
        assert converge(watch, sim, STARTUP_S).converged
        port = sim.port
        sim.restart()
        assert sim.port == port
        sim.control("POST", "pause")
        result = converge(watch, sim, RECOVERY_S)
        assert result.converged, (result.problems, watch.stderr())
        assert "reconnecting" in watch.states


def test_the_sim_truth_lists_waiting_customers_oldest_first(tmp_path: Path) -> None:
    """voki-api.md: the queue is FIFO by ``queued_at``; ``GET /__sim/state`` lists waiting
    ids "oldest first". The REST ``inserted_at`` of those ids must then be non-decreasing."""
    with running_sim(seed=5, paused=True, auth_rate_limit=1000) as sim:
        result = run_cli("snapshot", sim, tmp_path)
        state = sim.state()
    shown = {
        c["call_id"]: c["queued_at"]
        for d in json.loads(result.stdout)["departments"]
        for c in d["waiting"]
    }
    for department in state["departments"]:
        times = [shown[c] for c in department["waiting"]]
        assert times == sorted(times), department["id"]


def test_a_restarted_sim_never_reuses_a_call_id() -> None:
    """Voki's call ids are UUIDs, unique for ever; a client rightly ignores a join for a call
    it saw finish, so a restarted voki-sim must not hand out an earlier run's ids again."""
    with running_sim(seed=11, paused=True) as sim:
        customer = {"department_id": sim.department_ids()[0], "customer_name": "Probe"}
        before = sim.control("POST", "customers", json=customer).json()["data"]["call_id"]
        sim.restart()
        after = sim.control("POST", "customers", json=customer).json()["data"]["call_id"]
    assert after != before


@pytest.mark.slow
def test_watch_converges_after_45_s_of_silence(sim: InProcessSim, watch: Watch) -> None:
    """A silent server (half-open link): the 15 s + 15 s heartbeat notices within 30 s, the
    feed reconnects on a fresh socket and converges; the old socket waking up does no harm."""
    reconnects = _counters(watch)["reconnects"]
    assert sim.control("POST", "silence?seconds=45").json()["sockets"] >= 1
    started = time.monotonic()
    # The reconnect itself may be too quick to show in a (coalesced) line; its counter is not.
    assert poll(lambda: _counters(watch)["reconnects"] > reconnects, 40)
    noticed = time.monotonic() - started
    assert noticed <= 30 + 5
    _recovered(watch, sim, timeout=RECOVERY_S + 5)
    time.sleep(max(0.0, 46 - (time.monotonic() - started)))
    _recovered(watch, sim)


# -- failures end with one clear line ---------------------------------------------------------


def _one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def test_bad_credentials_exit_3(sim: InProcessSim, tmp_path: Path) -> None:
    result = run_cli("snapshot", sim, tmp_path, VOKI_PASSWORD="not-the-password")
    assert result.returncode == 3
    assert "authentication failed" in _one_line(result.stderr)
    assert "not-the-password" not in result.stderr


def test_unreachable_server_exits_5(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    class Nowhere:
        url = f"http://127.0.0.1:{port}"

    result = run_cli("snapshot", Nowhere(), tmp_path)  # type: ignore[arg-type]
    assert result.returncode == 5
    assert "unreachable" in _one_line(result.stderr)


def test_rate_limited_login_exits_4_with_the_wait(tmp_path: Path) -> None:
    with running_sim(seed=5, paused=True, auth_rate_limit=1) as sim:
        first = run_cli("snapshot", sim, tmp_path / "a")
        second = run_cli("snapshot", sim, tmp_path / "b")
    assert first.returncode == 0, first.stderr
    assert second.returncode == 4
    line = _one_line(second.stderr)
    assert "rate limited" in line and " s" in line and any(ch.isdigit() for ch in line)


def test_revoke_all_with_a_password_source_keeps_watch_going(
    sim: InProcessSim, watch: Watch
) -> None:
    """The server forgot every session: with VOKI_PASSWORD, watch logs in again by itself."""
    sim.control("POST", "revoke-all")
    sim.control("POST", "drop")
    _recovered(watch, sim)
    assert watch.process is not None and watch.process.poll() is None
    assert "session has ended" not in watch.stderr()


def test_revoke_all_without_a_source_ends_watch_with_session_has_ended(
    sim: InProcessSim, tmp_path: Path
) -> None:
    home = tmp_path / "watch"
    stored = run_cli("snapshot", sim, home)  # a person's login leaves a stored session
    assert stored.returncode == 0, stored.stderr
    with Watch(sim, home, password=None) as watch:
        assert converge(watch, sim, STARTUP_S).converged
        sim.control("POST", "revoke-all")
        sim.control("POST", "drop")
        assert poll(lambda: watch.process is not None and watch.process.poll() is not None, 30)
        assert watch.process is not None
        assert watch.process.returncode == 3
        assert "session has ended" in _one_line(watch.stderr())
