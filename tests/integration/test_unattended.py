"""A box nobody touches, as real processes against voki-sim over loopback: time is compressed
(seconds-long tokens) so what happens over weeks happens in a test.

Each test is one way a wall box used to need a person: a refresh token that expired while the
app ran, an outage longer than the access token, a password that must come from a file or a
command, a box that boots before its server, processes sharing one token file.
"""

from __future__ import annotations

import json
import os
import shlex
import time
from collections.abc import Callable
from pathlib import Path

from voki_tui.sim import DEMO_PASSWORD
from voki_tui.sim.testing import SimProcess, running_sim
from voki_tui.testing.headless import Watch, converge, run_cli

#: Heartbeat 1 s + 1 s, so a dead link is noticed quickly.
FAST = {"VOKI_HEARTBEAT_S": "1"}
#: Generous: two shared cores, several processes. The seconds themselves go to the soak.
RECOVERY_S = 20.0
STARTUP_S = 30.0


def _reconnects(watch: Watch) -> int:
    document = watch.snapshot()
    return int(document["counters"]["reconnects"]) if document is not None else 0


def after_a_fault(sim: object, fault: Callable[[], object], *watches: Watch) -> None:
    """Inject ``fault``, wait until every watch has noticed it (a non-live line, or its
    reconnect counter moving: a quick reconnect is rightly coalesced out of the printed
    states), then until each shows the truth again (live). Waiting for the first step
    matters: right after the fault the last line printed is still the live one from before."""
    seen = [(len(watch.states), _reconnects(watch)) for watch in watches]
    fault()
    for watch, (states, reconnects) in zip(watches, seen, strict=True):
        deadline = time.monotonic() + RECOVERY_S

        def noticed(
            watch: Watch = watch, states: int = states, reconnects: int = reconnects
        ) -> bool:
            left_live = any(state != "live" for state in watch.states[states:])
            return left_live or _reconnects(watch) > reconnects

        while not noticed():
            assert time.monotonic() < deadline, ("the watch never saw the fault", watch.stderr())
            time.sleep(0.02)
        result = converge(watch, sim, RECOVERY_S)  # type: ignore[arg-type]
        assert result.converged, (result.problems, watch.stderr())


def store_session(sim: object, home: Path) -> None:
    """A person logs in once (here: ``snapshot`` with the password), leaving a stored session."""
    done = run_cli("snapshot", sim, home)  # type: ignore[arg-type]
    assert done.returncode == 0, done.stderr


#: Compressed, but within Voki's 5 auth requests a minute: an access token of 20 s is
#: refreshed every 14-16 s (about 4 a minute), a refresh token of 30 s would expire unused.
ACCESS_TTL, REFRESH_TTL = 20, 30


def test_refresh_token_rotates_before_its_own_expiry(tmp_path: Path) -> None:
    """Without refreshing while running, the first reconnect after 30 s would find both tokens
    expired and need a person; with it, a drop after 35 s comes back on its own, with no
    password source."""
    with running_sim(
        seed=5, paused=True, access_ttl=ACCESS_TTL, refresh_ttl=REFRESH_TTL, auth_rate_limit=1000
    ) as sim:
        home = tmp_path / "box"
        store_session(sim, home)
        logged_in = time.monotonic()
        with Watch(sim, home, password=None, env=FAST) as watch:
            assert converge(watch, sim, STARTUP_S).converged
            time.sleep(max(0.0, REFRESH_TTL + 5 - (time.monotonic() - logged_in)))
            after_a_fault(sim, lambda: sim.control("POST", "drop"), watch)
            assert watch.process is not None and watch.process.poll() is None


def test_server_down_longer_than_the_access_token(tmp_path: Path) -> None:
    """Seen: after a restart the client spent its 5/min auth budget on refreshes into a closed
    port and went live a minute after the server. Now refused connections cost no budget: with
    Voki's real 5 requests a minute, the box is live again soon after the server returns."""
    options = {"seed": 5, "paused": True, "access_ttl": 12}
    sim = SimProcess(**options)
    sim.start()
    port = sim.port
    home = tmp_path / "box"
    try:
        store_session(sim, home)
        with Watch(sim, home, password=None, env=FAST) as watch:
            assert converge(watch, sim, STARTUP_S).converged
            sim.stop()
            time.sleep(14)  # longer than the access token lives
            sim = SimProcess(**options, port=port)
            sim.start()
            result = converge(watch, sim, RECOVERY_S)
            assert result.converged, (result.problems, watch.stderr())
            assert "sign-in attempts" not in watch.stderr()
    finally:
        sim.stop()


def test_password_file_must_be_private_and_works(tmp_path: Path) -> None:
    with running_sim(seed=5, paused=True, auth_rate_limit=1000) as sim:
        secret = tmp_path / "password"
        secret.write_text(DEMO_PASSWORD + "\n")
        secret.chmod(0o644)
        refused = run_cli(
            "snapshot", sim, tmp_path / "a", password=None, extra=["--password-file", str(secret)]
        )
        assert refused.returncode == 3
        assert "too open" in refused.stderr and "chmod 600" in refused.stderr
        assert DEMO_PASSWORD not in refused.stderr
        secret.chmod(0o600)
        done = run_cli(
            "snapshot", sim, tmp_path / "b", password=None, extra=["--password-file", str(secret)]
        )
        assert done.returncode == 0, done.stderr


def test_password_command_works_and_its_failure_is_explained(tmp_path: Path) -> None:
    with running_sim(seed=5, paused=True, auth_rate_limit=1000) as sim:
        command = f"printf '%s\\n' {shlex.quote(DEMO_PASSWORD)}"
        done = run_cli(
            "snapshot", sim, tmp_path / "a", password=None, extra=["--password-command", command]
        )
        assert done.returncode == 0, done.stderr
        failing = "echo 'gpg: decryption failed: No secret key' >&2; exit 2"
        failed = run_cli(
            "snapshot", sim, tmp_path / "b", password=None, extra=["--password-command", failing]
        )
        assert failed.returncode == 3
        assert "exited with status 2" in failed.stderr and "No secret key" in failed.stderr


def test_two_password_sources_are_refused_as_ambiguous(tmp_path: Path) -> None:
    with running_sim(seed=5, paused=True) as sim:
        both = run_cli("snapshot", sim, tmp_path, extra=["--password-command", "true"])
        assert both.returncode == 2
        assert "more than one password source" in both.stderr


def test_sessions_forgotten_by_the_server_come_back_from_a_password_file(tmp_path: Path) -> None:
    """revoke-all + drop is a server that lost every session: the watch logs in again from the
    file by itself."""
    with running_sim(seed=11, paused=True, auth_rate_limit=1000) as sim:
        secret = tmp_path / "password"
        secret.write_text(DEMO_PASSWORD)
        secret.chmod(0o600)
        extra = ["--password-file", str(secret)]
        with Watch(sim, tmp_path / "box", password=None, env=FAST, extra=extra) as watch:
            assert converge(watch, sim, STARTUP_S).converged
            sim.control("POST", "revoke-all")
            after_a_fault(sim, lambda: sim.control("POST", "drop"), watch)


def test_a_watch_started_before_its_server_goes_live_by_itself(tmp_path: Path) -> None:
    with running_sim(seed=5, paused=True) as gone:
        port = gone.port
    sim = SimProcess(seed=5, paused=True, port=port, auth_rate_limit=1000)
    url = f"http://127.0.0.1:{port}"

    class Early:  # the address before anything listens there
        def __init__(self) -> None:
            self.url = url

        def control(self, method: str, path: str, **kwargs: object) -> object:
            return sim.control(method, path, **kwargs)

        def state(self) -> dict[str, object]:
            return sim.state()

    with Watch(Early(), tmp_path / "box", env=FAST) as watch:  # type: ignore[arg-type]
        deadline = time.monotonic() + 15
        while "connection refused" not in watch.stderr() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "connection refused" in watch.stderr() and "retrying in" in watch.stderr()
        sim.start()
        try:
            result = converge(watch, sim, RECOVERY_S)
            assert result.converged, (result.problems, watch.stderr())
        finally:
            sim.stop()


def test_processes_sharing_one_token_file_never_log_each_other_out(tmp_path: Path) -> None:
    """A wallboard-like watch, a second watch and a cron snapshot every 2 s share one token
    file for longer than a refresh token lives; each rotation spends the previous refresh
    token. None of them may ever find its session ended, and the file stays private."""
    with running_sim(
        seed=5, paused=True, access_ttl=ACCESS_TTL, refresh_ttl=REFRESH_TTL, auth_rate_limit=1000
    ) as sim:
        home = tmp_path / "box"
        store_session(sim, home)
        logged_in = time.monotonic()
        with (
            Watch(sim, home, password=None, env=FAST) as first,
            Watch(sim, home, password=None, env=FAST) as second,
        ):
            for watch in (first, second):
                assert converge(watch, sim, STARTUP_S).converged
            while time.monotonic() - logged_in < REFRESH_TTL + 5:
                cron = run_cli("snapshot", sim, home, password=None)
                assert cron.returncode == 0, cron.stderr
                time.sleep(2)
            after_a_fault(sim, lambda: sim.control("POST", "drop"), first, second)
            for watch in (first, second):
                assert "session has ended" not in watch.stderr()
        token_files = list((home / "state").glob("token-*.json"))
        assert len(token_files) == 1 and oct(os.stat(token_files[0]).st_mode & 0o777) == "0o600"


def test_a_kiosk_whose_files_cannot_be_written_still_works_and_says_so(tmp_path: Path) -> None:
    """Seen: a read-only state directory (a real kiosk setup) killed a worker and left the
    board on "Starting…". Now it runs without persisting, and says so. (A regular file where
    the home directory should be makes every write fail, even for root.)"""
    home = tmp_path / "read-only-home"
    home.write_text("")
    with running_sim(seed=5, paused=True, auth_rate_limit=1000) as sim:
        done = run_cli("snapshot", sim, home)
        assert done.returncode == 0, done.stderr
        assert "no log file" in done.stderr
        document = json.loads(done.stdout)
        assert document["connection"]["state"] == "live"
        assert any("session not saved" in notice for notice in document["notices"])
