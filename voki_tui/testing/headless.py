"""Drive the real ``voki-tui`` CLI against voki-sim and compare what it prints with the truth.

Shared by ``tests/integration``, ``scripts/random_faults.py`` and ``benchmarks/soak.py``. No
mocks: the CLI runs as a subprocess over loopback sockets, and the ground truth is voki-sim's
``GET /__sim/state``. Only the standard library and ``voki_tui.sim`` are used (no pytest).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from voki_tui.sim import DEMO_EMAILS, DEMO_PASSWORD, DEMO_TENANT

#: One department as compared: waiting call ids in queue order, agents as (id, status, devices).
View = tuple[tuple[str, ...], tuple[tuple[str, str, int], ...]]


class Sim(Protocol):
    url: str

    def control(self, method: str, path: str, **kwargs: Any) -> Any: ...

    def state(self) -> dict[str, Any]: ...


def cli_env(home: Path, password: str | None = DEMO_PASSWORD, **extra: str) -> dict[str, str]:
    """The CLI's environment: its own home (config, tokens, logs) and the password."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOKI_")}
    env["VOKI_TUI_HOME"] = str(home)
    env["PYTHONUNBUFFERED"] = "1"
    if password is not None:
        env["VOKI_PASSWORD"] = password
    env.update(extra)
    return env


def cli_args(
    command: str,
    sim: Sim,
    role: str = "supervisor",
    departments: Sequence[str] = (),
    extra: Sequence[str] = (),
) -> list[str]:
    args = [sys.executable, "-m", "voki_tui", command, "--json", "--server", sim.url]
    args += ["--tenant", DEMO_TENANT, "--email", DEMO_EMAILS[role], *extra]
    for ident in departments:
        args += ["--department", ident]
    return args


def run_cli(
    command: str,
    sim: Sim,
    home: Path,
    role: str = "supervisor",
    timeout: float = 60.0,
    extra: Sequence[str] = (),
    password: str | None = DEMO_PASSWORD,
    **env: str,
) -> subprocess.CompletedProcess[str]:
    """Run ``voki-tui <command> --json`` to completion (``extra``: more options)."""
    return subprocess.run(  # noqa: S603 - our own interpreter and flags
        cli_args(command, sim, role, extra=extra),
        env=cli_env(home, password, **env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def truth(state: dict[str, Any], department_ids: Iterable[str] | None = None) -> dict[str, View]:
    """voki-sim's ground truth per department id (as a string), optionally restricted."""
    wanted = None if department_ids is None else set(department_ids)
    views: dict[str, View] = {}
    for department in state["departments"]:
        ident = str(department["id"])
        if wanted is not None and ident not in wanted:
            continue
        agents = sorted(
            (str(a["user_id"]), str(a["status"]), int(a["devices"])) for a in department["agents"]
        )
        views[ident] = (tuple(str(c) for c in department["waiting"]), tuple(agents))
    return views


def observed(document: dict[str, Any]) -> dict[str, View]:
    """What the CLI's JSON document shows, in the same shape as ``truth``."""
    views: dict[str, View] = {}
    for department in document["departments"]:
        agents = sorted(
            (str(a["user_id"]), str(a["status"]), int(a["devices"])) for a in department["agents"]
        )
        views[str(department["id"])] = (
            tuple(c["call_id"] for c in department["waiting"]),
            tuple(agents),
        )
    return views


def queued_times(document: dict[str, Any]) -> dict[str, str]:
    """call id -> ``queued_at`` as the document shows it (whole seconds, like the server)."""
    return {
        customer["call_id"]: customer["queued_at"]
        for department in document["departments"]
        for customer in department["waiting"]
    }


@dataclass
class Comparison:
    """``problems``: ghosts, holes, wrong order or agents. ``order_notes``: the same customers,
    shown oldest ``queued_at`` first (the client's contract), in an order that differs from
    voki-sim's list: ties within one second (f1-findings F1-1) or a sim list that is itself
    not oldest first (F1-3)."""

    problems: list[str]
    order_notes: list[str]


def compare(
    expected: dict[str, View], seen: dict[str, View], queued_at: dict[str, str]
) -> Comparison:
    result = Comparison([], [])
    for ident in sorted(set(expected) | set(seen)):
        if ident not in seen:
            result.problems.append(f"department {ident}: not shown")
            continue
        if ident not in expected:
            result.problems.append(f"department {ident}: shown but not in the truth")
            continue
        (want_waiting, want_agents), (got_waiting, got_agents) = expected[ident], seen[ident]
        ghosts = sorted(set(got_waiting) - set(want_waiting))
        missing = sorted(set(want_waiting) - set(got_waiting))
        if ghosts:
            result.problems.append(f"department {ident}: ghost customers {ghosts}")
        if missing:
            result.problems.append(f"department {ident}: missing customers {missing}")
        if not ghosts and not missing and got_waiting != want_waiting:
            message = f"department {ident}: queue order {got_waiting} != {want_waiting}"
            times = [queued_at[c] for c in got_waiting]
            oldest_first = times == sorted(times)  # ISO 8601 UTC text sorts by time
            (result.order_notes if oldest_first else result.problems).append(message)
        if got_agents != want_agents:
            result.problems.append(f"department {ident}: agents {got_agents} != {want_agents}")
    return result


def check(document: dict[str, Any], state: dict[str, Any]) -> Comparison:
    """Compare one document with the truth of the departments it shows."""
    seen = observed(document)
    return compare(truth(state, seen), seen, queued_times(document))


@dataclass
class Watch:
    """``voki-tui watch --json`` in a subprocess; a thread keeps the latest document."""

    sim: Sim
    home: Path
    role: str = "supervisor"
    env: dict[str, str] = field(default_factory=dict)
    password: str | None = DEMO_PASSWORD  # VOKI_PASSWORD; None: the stored session only
    extra: list[str] = field(default_factory=list)  # more command-line options
    process: subprocess.Popen[str] | None = None
    documents: int = 0
    latest: dict[str, Any] | None = None
    first: dict[str, Any] | None = None
    states: list[str] = field(default_factory=list)
    lines: list[dict[str, Any]] = field(default_factory=list)  # every document, in order
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> Watch:
        self.home.mkdir(parents=True, exist_ok=True)
        stderr = (self.home / "watch.stderr").open("w")
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and flags
            cli_args("watch", self.sim, self.role, extra=self.extra),
            env=cli_env(self.home, self.password, **self.env),
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
        stderr.close()
        threading.Thread(target=self._read, daemon=True).start()
        return self

    def _read(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            document = json.loads(line)
            if "departments" not in document:
                continue  # a notification line
            with self._lock:
                self.lines.append(document)
                self.first = self.first or document
                self.latest = document
                self.documents += 1
                state = document["connection"]["state"]
                if not self.states or self.states[-1] != state:
                    self.states.append(state)

    def snapshot(self) -> dict[str, Any] | None:
        with self._lock:
            return self.latest

    def stderr(self) -> str:
        return (self.home / "watch.stderr").read_text()

    def stop(self, sig: signal.Signals = signal.SIGINT) -> int | None:
        """Interrupt like Ctrl-C (or send ``sig``); the exit code (None if it had to be
        killed)."""
        process = self.process
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(sig)
            try:
                return process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
                return None
        return process.returncode

    def __enter__(self) -> Watch:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def poll(condition: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


@dataclass
class Convergence:
    converged: bool
    seconds: float
    problems: list[str]
    order_notes: list[str] = field(default_factory=list)


def converge(watch: Watch, sim: Sim, timeout: float) -> Convergence:
    """Poll until the latest ``watch`` line is live and equals the truth of its departments.

    The truth is re-read on every poll (the caller pauses the scenario first, so it only
    changes if the fault itself changed it, e.g. a restart). Order differences that keep
    the customers oldest first do not block convergence; they are returned in ``order_notes``.
    """
    started = time.monotonic()
    problems: list[str] = ["no document yet"]
    while True:
        document = watch.snapshot()
        if document is not None:
            result = check(document, sim.state())
            problems = result.problems
            state = document["connection"]["state"]
            if state != "live":
                problems.append(f"connection {state}")
            if not problems:
                return Convergence(True, time.monotonic() - started, [], result.order_notes)
        if time.monotonic() - started >= timeout:
            return Convergence(False, time.monotonic() - started, problems)
        if watch.process is not None and watch.process.poll() is not None:
            return Convergence(False, time.monotonic() - started, ["watch exited", *problems])
        time.sleep(0.05)


def burst(sim: Sim, events_per_second: float = 1000.0, seconds: float = 1.0) -> None:
    """Make the scenario generate events at ``events_per_second`` for ``seconds``, then pause."""
    sim.control("POST", "resume")
    sim.control("POST", f"rate?events_per_second={events_per_second:g}")
    time.sleep(seconds)
    sim.control("POST", "rate?events_per_second=0")
    sim.control("POST", "pause")


#: Frames that are not JSON, have the wrong arity, name unknown events, or carry bad payloads.
def garbage_frames(department_id: str) -> list[str]:
    queue, presence = f"queue:{department_id}", f"presence:{department_id}"
    return [
        "this is not json",
        "[1, 2, 3]",
        json.dumps([None, None, queue, "customer_joined"]),
        json.dumps([None, None, queue, "mystery_event", {}]),
        json.dumps([None, None, queue, "customer_joined", {"customer_name": "No id"}]),
        json.dumps([None, None, queue, "customer_left", {"call_id": {"nested": 1}}]),
        json.dumps([None, None, presence, "presence_diff", {"joins": 5, "leaves": []}]),
        json.dumps([None, None, "queue:999999", "customer_joined", {"call_id": "x"}]),
        '{"event": "phx_reply"}',
    ]


def send_raw(sim: Sim, frames: Iterable[str]) -> None:
    for frame in frames:
        sim.control("POST", "raw", json={"frame": frame})
