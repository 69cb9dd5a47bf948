"""``python -m benchmarks.soak``: weeks of an unattended wall box, compressed into minutes.

The judge of the unattended-session work. voki-sim runs with access tokens of 60 s, refresh
tokens of 300 s and Voki's real limit of 5 auth requests a minute. Against it, on one box and
sharing one token store and one password file (a credential source, as a wall box has):

- the real ``voki-tui --wallboard`` in a pseudo-terminal, read through a terminal emulator;
- ``voki-tui watch --json``;
- ``voki-tui snapshot --json`` every 30 s, as cron would run it.

The box boots before its server. Then, every 20-60 s, a random fault: a restart, a restart that
forgets every session, a dropped link, 45 s of silence, revoked access tokens, revoked sessions,
a 429 storm on the auth endpoints, the server down for 90 s (longer than an access token).
After each fault the scenario is held still and every client must come back by itself: the
wallboard's status line says live, and the watch's JSON equals ``GET /__sim/state``.

It prints, and writes as JSON with ``--json``: faults, recovered, human touches needed (a
login form, "press Enter to log in", a client that exited for authentication), p50/p99 seconds
from the server being back to each client being live, the most auth requests the server saw
in any 60 s, mismatches with the truth after recoveries, and RSS and open fds of the wallboard
and the watch at start and end. Four refresh-token lifetimes (20 min) stand for four weeks of
7-day tokens. Figures, not a test; ``tests/soak`` runs a short version in CI.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import pty
import random
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pyte

from voki_tui.sim import DEMO_EMAILS, DEMO_PASSWORD, DEMO_TENANT
from voki_tui.sim.testing import SimProcess
from voki_tui.testing.figures import percentile
from voki_tui.testing.headless import Watch, check, cli_env

ACCESS_TTL_S = 60
REFRESH_TTL_S = 300
AUTH_PER_MINUTE = 5  # Voki's documented limit on /api/auth/*
CRON_EVERY_S = 30.0
WALL_SIZE = (120, 40)
#: A fault not recovered from in this long counts as not recovered (a 429 storm's
#: Retry-After is up to a minute, and the silence needs the 30 s heartbeat window first).
RECOVERY_TIMEOUT_S = 180.0
#: After a client is first live again, its data must equal the truth within this.
AGREE_WITHIN_S = 10.0
FAULTS = (
    "restart",
    "restart_forgetting_sessions",
    "drop",
    "silence_45s",
    "revoke",
    "revoke_all",
    "auth_429_storm",
    "down_90s",
    "lose_events",  # broadcasts lost for 10 s while the link stays up (a cluster's PubSub)
    "clock_skew",  # the server's clock jumps two hours (or back)
)
#: Faults after which the link stays up: what is measured is the time until the data is
#: true again (the drift guard, or the clock estimate), not a reconnect.
DATA_FAULTS = frozenset({"lose_events", "clock_skew"})
#: The clients re-read each department this often (the drift guard's period, --resync-every).
RESYNC_S = 30
EMAIL = DEMO_EMAILS["supervisor"]


# -- the simulator --------------------------------------------------------------------------


class Server:
    """voki-sim as its own process on a fixed port: started, stopped, restarted at will.

    Its log of auth requests (every ``/api/auth/*`` request that reached it, 429s included)
    is collected before each stop, so the per-minute count spans restarts.
    """

    def __init__(self, port: int, seed: int) -> None:
        self.port = port
        self.seed = seed
        self.url = f"http://127.0.0.1:{port}"
        self.process: SimProcess | None = None
        self.auth_log: list[tuple[float, str, int]] = []  # (host time, path, status)
        self.own_auth: list[float] = []  # when the storm fault sent its own wrong logins
        self.boots = 0
        self.clock_offset = 0.0  # set at run time; a restart forgets it

    def start(self, *, forget_sessions: bool = False) -> None:
        self.boots += 1
        self.process = SimProcess(
            seed=self.seed,
            port=self.port,
            paused=True,
            access_ttl=ACCESS_TTL_S,
            refresh_ttl=REFRESH_TTL_S,
            auth_rate_limit=AUTH_PER_MINUTE,
            forget_sessions_on_restart=forget_sessions,
            boot=self.boots,
        )
        self.process.start()
        self.clock_offset = 0.0

    def stop(self) -> None:
        if self.process is None:
            return
        self._collect_auth_log()
        self.process.stop()
        self.process = None

    def _collect_auth_log(self) -> None:
        with contextlib.suppress(httpx.HTTPError, ValueError):
            entries = self.control("GET", "auth-log").json()["requests"]
            self.auth_log += [(float(e["at"]), str(e["path"]), int(e["status"])) for e in entries]

    def control(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        assert self.process is not None, "the server is down"
        return self.process.control(method, path, **kwargs)

    def state(self) -> dict[str, Any]:
        assert self.process is not None, "the server is down"
        return self.process.state()

    @property
    def up(self) -> bool:
        return self.process is not None

    def clients_auth_log(self) -> list[tuple[float, str, int]]:
        """The auth requests the clients sent: the storm's own wrong logins left out."""
        own = sorted(self.own_auth)
        kept = []
        for at, path, status in sorted(self.auth_log):
            mine = path == "/api/auth/login" and status in (401, 429)
            match = next((t for t in own if abs(t - at) < 1.0), None) if mine else None
            if match is None:
                kept.append((at, path, status))
            else:
                own.remove(match)
        return kept

    def busiest_minute(self) -> list[tuple[float, str, int]]:
        """The clients' auth requests of the busiest 60 s the server saw."""
        log = self.clients_auth_log()
        best: list[tuple[float, str, int]] = []
        start = 0
        for end, (at, _, _) in enumerate(log):
            while log[start][0] < at - 60.0:
                start += 1
            if end - start + 1 > len(best):
                best = log[start : end + 1]
        return best


# -- the clients ------------------------------------------------------------------------------


def _client_args(server: Server, password_file: Path) -> list[str]:
    return [
        "--server",
        server.url,
        "--tenant",
        DEMO_TENANT,
        "--email",
        EMAIL,
        "--password-file",
        str(password_file),
    ]


class Wallboard:
    """``voki-tui --wallboard`` in a pty of ``WALL_SIZE``, its screen kept by pyte."""

    def __init__(self, args: Sequence[str], env: dict[str, str]) -> None:
        cols, rows = WALL_SIZE
        self.screen = pyte.Screen(cols, rows)
        self.stream = pyte.ByteStream(self.screen)
        self.lock = threading.Lock()
        #: Every status line the screen showed, with when: a dip out of "live" shorter than
        #: any poll is still seen here.
        self.history: list[tuple[float, str]] = []
        pid, fd = pty.fork()
        if pid == 0:  # the child: size the terminal before the app reads it
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
            os.execvpe(sys.executable, [sys.executable, "-m", "voki_tui", *args], env)
        self.pid, self.fd = pid, fd
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        while True:
            try:
                ready, _, _ = select.select([self.fd], [], [], 0.5)
                if not ready:
                    continue
                data = os.read(self.fd, 65536)
            except OSError:
                return
            if not data:
                return
            with self.lock:
                self.stream.feed(data)
                status = self.screen.display[-1]
                if not self.history or self.history[-1][1] != status:
                    self.history.append((time.monotonic(), status))

    def lines(self) -> list[str]:
        with self.lock:
            return list(self.screen.display)

    def status(self) -> str:
        return self.lines()[-1]

    def live(self) -> bool:
        return _is_live(self.status())

    def back_since(self, injected_at: float) -> float | None:
        """When the screen went back to live after leaving it at or after ``injected_at``;
        None if it has not left live since, or has not come back yet."""
        with self.lock:
            lines = [(t, line) for t, line in self.history if t >= injected_at]
            current = self.history[-1] if self.history else None
        left = next((i for i, (_, line) in enumerate(lines) if not _is_live(line)), None)
        if left is None or current is None or not _is_live(current[1]):
            return None
        return next(t for t, line in lines[left:] if _is_live(line))

    def needs_a_person(self) -> bool:
        text = "\n".join(self.lines())
        return "press Enter to log in" in text or "Log in to Voki" in text

    def alive(self) -> bool:
        return _alive(self.pid)

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGTERM)
        for _ in range(100):
            if not self.alive():
                break
            time.sleep(0.05)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)
        with contextlib.suppress(OSError):
            os.close(self.fd)


def _is_live(status: str) -> bool:
    return "● live" in status


def _alive(pid: int) -> bool:
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return False
    return done == 0


def usage(pid: int) -> dict[str, float]:
    """Resident memory (MB) and open file descriptors of ``pid``."""
    with open(f"/proc/{pid}/status", encoding="ascii") as handle:
        rss_kb = next(int(line.split()[1]) for line in handle if line.startswith("VmRSS"))
    return {"rss_mb": round(rss_kb / 1024, 1), "open_fds": len(os.listdir(f"/proc/{pid}/fd"))}


@dataclass
class Cron:
    """``voki-tui snapshot --json`` every ``CRON_EVERY_S``; exit codes kept."""

    args: list[str]
    env: dict[str, str]
    exits: list[tuple[float, int, str]] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)

    def start(self) -> Cron:
        threading.Thread(target=self._run, daemon=True).start()
        return self

    def _run(self) -> None:
        while not self.stopping.wait(CRON_EVERY_S):
            done = subprocess.run(
                [sys.executable, "-m", "voki_tui", "snapshot", "--json", *self.args],
                env=self.env,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            self.exits.append((time.time(), done.returncode, done.stderr.strip()[:200]))


# -- faults and recovery --------------------------------------------------------------------


@dataclass
class Outcome:
    fault: str
    recovered: bool
    seconds: dict[str, float]  # client -> seconds from the server back to live
    mismatches: list[str]


def _storm(server: Server) -> float:
    """Spend the server's auth budget from this address (the clients' address too), then
    force every client to need the auth endpoints; the time the budget frees again."""
    retry_after = 0.0
    with httpx.Client(base_url=server.url, timeout=10) as client:
        for _ in range(AUTH_PER_MINUTE + 2):
            server.own_auth.append(time.time())
            answer = client.post(
                "/api/auth/login",
                json={"email": EMAIL, "password": "wrong-password", "tenant": DEMO_TENANT},
            )
            if answer.status_code == 429:
                retry_after = max(retry_after, float(answer.headers.get("retry-after", "60")))
    server.control("POST", "revoke")
    server.control("POST", "drop")
    return time.monotonic() + retry_after


def inject(fault: str, server: Server) -> float:
    """Inject ``fault``; the monotonic time the server is reachable (and willing) again."""
    if fault in ("restart", "restart_forgetting_sessions"):
        server.stop()
        server.start(forget_sessions=fault == "restart_forgetting_sessions")
    elif fault == "down_90s":
        server.stop()
        time.sleep(90)
        server.start()
    elif fault == "drop":
        server.control("POST", "drop")
    elif fault == "silence_45s":
        server.control("POST", "silence?seconds=45")
        return time.monotonic() + 45
    elif fault == "revoke":
        server.control("POST", "revoke")
        server.control("POST", "drop")
    elif fault == "revoke_all":
        server.control("POST", "revoke-all")
        server.control("POST", "drop")
    elif fault == "auth_429_storm":
        return _storm(server)
    elif fault == "lose_events":
        server.control("POST", "lose?seconds=10")
        server.control("POST", "resume")  # events happen, and are lost
        time.sleep(10)
        server.control("POST", "pause")
    elif fault == "clock_skew":
        offset = 0.0 if server.clock_offset else random.choice((-7200.0, 7200.0))
        server.control("POST", f"clock?offset={offset:g}")
        server.clock_offset = offset
    else:
        raise ValueError(f"unknown fault {fault!r}")
    return time.monotonic()


@dataclass
class Box:
    server: Server
    wall: Wallboard
    watch: Watch
    cron: Cron
    human_touches: list[str] = field(default_factory=list)

    def watch_agrees(self) -> bool:
        document = self.watch.snapshot()
        if document is None or document["connection"]["state"] != "live":
            return False
        return not check(document, self.server.state()).problems

    def look_for_human_needs(self) -> None:
        if self.wall.needs_a_person():
            note = f"wallboard asks for a person: {self.wall.status().strip()}"
            if note not in self.human_touches:
                self.human_touches.append(note)
        if self.watch.process is not None and self.watch.process.poll() is not None:
            self.human_touches.append(f"watch exited with {self.watch.process.returncode}")
        if not self.wall.alive():
            self.human_touches.append("the wallboard process ended")

    def clock_agrees(self) -> bool:
        document = self.watch.snapshot()
        if document is None:
            return False
        return abs(float(document["clock_offset_s"]) - self.server.clock_offset) < 5.0

    def reconnects(self) -> int:
        document = self.watch.snapshot()
        return int(document["counters"]["reconnects"]) if document is not None else 0

    def recover(self, fault: str, injected_at: float, back_at: float, reconnects: int) -> Outcome:
        """Wait until every client is live again and the watch equals the truth; the seconds
        each took from ``back_at`` (the server reachable again).

        A client counts as back once it has noticed the fault (the wallboard's screen left
        "live", the watch's reconnect counter moved past ``reconnects`` or it printed a state
        that is not live) and then shows live data again. A client that shows no sign of the
        fault 40 s after the server is back did not need to notice it (a half-open link
        whose silence ended first): its seconds are then those of its first live look.
        After a data fault the link never went down: what is timed is the watch's way back to
        the truth (and, for a clock jump, to the server's new time); the wall must stay live.
        """
        if fault in DATA_FAULTS:
            return self._repair(fault, back_at)
        seconds: dict[str, float] = {}
        states = len(self.watch.states)
        while time.monotonic() < back_at + RECOVERY_TIMEOUT_S:
            now = time.monotonic()
            self.look_for_human_needs()
            if now < back_at:
                time.sleep(0.1)
                continue
            unnoticed = now > back_at + 40.0
            if "wallboard" not in seconds:
                returned = self.wall.back_since(injected_at)
                if returned is not None:
                    seconds["wallboard"] = max(0.0, returned - back_at)
                elif unnoticed and self.wall.live():
                    seconds["wallboard"] = now - back_at
            if "watch" not in seconds and self.server.up and self.watch_agrees():
                noticed = self.reconnects() > reconnects or any(
                    state != "live" for state in self.watch.states[states:]
                )
                if noticed or unnoticed:
                    seconds["watch"] = now - back_at
            if len(seconds) == 2:
                break
            time.sleep(0.1)
        return Outcome(fault, len(seconds) == 2, seconds, self._mismatches(len(seconds) == 2))

    def _repair(self, fault: str, back_at: float) -> Outcome:
        seconds: dict[str, float] = {}
        wall_down = False
        while time.monotonic() < back_at + RECOVERY_TIMEOUT_S:
            self.look_for_human_needs()
            wall_down |= not self.wall.live()
            if self.watch_agrees() and (fault != "clock_skew" or self.clock_agrees()):
                seconds["watch"] = max(0.0, time.monotonic() - back_at)
                break
            time.sleep(0.1)
        recovered = "watch" in seconds and self.wall.live()
        notes = ["the wallboard left live during a data fault"] if wall_down else []
        return Outcome(fault, recovered, seconds, self._mismatches(recovered) + notes)

    def _mismatches(self, recovered: bool) -> list[str]:
        """After a recovery the watch must agree with the truth (within a short while)."""
        if not recovered:
            return []
        deadline = time.monotonic() + AGREE_WITHIN_S
        while not self.watch_agrees() and time.monotonic() < deadline:
            time.sleep(0.1)
        document = self.watch.snapshot()
        if document is None or self.watch_agrees():
            return []
        return check(document, self.server.state()).problems


def run(
    minutes: float,
    seed: int,
    gap: tuple[float, float] = (20.0, 60.0),
    faults: Sequence[str] = FAULTS,
    say: Callable[[str], None] = print,
    keep_logs: Path | None = None,
) -> dict[str, Any]:
    rng = random.Random(seed)
    home = Path(tempfile.mkdtemp(prefix="voki-soak-"))
    password_file = home / "password"
    password_file.write_text(DEMO_PASSWORD + "\n")
    password_file.chmod(0o600)
    with _free_port() as port:
        pass
    server = Server(port, seed)
    args = _client_args(server, password_file)
    env = cli_env(home, password=None, VOKI_RESYNC_S=str(RESYNC_S))
    started = time.monotonic()
    # Boot before the server: every client starts against a closed port.
    wall = Wallboard(["--wallboard", *args], {**env, "TERM": "xterm-256color"})
    watch = Watch(
        _Address(server), home, password=None, extra=args[6:], env={"VOKI_RESYNC_S": str(RESYNC_S)}
    ).start()
    cron = Cron(args, env).start()
    box = Box(server, wall, watch, cron)
    outcomes: list[Outcome] = []
    usage_at: dict[str, dict[str, dict[str, float]]] = {}
    try:
        time.sleep(5)
        server.start()
        started_at = time.monotonic()
        outcomes.append(box.recover("boot_before_the_server", 0.0, started_at, -1))
        say(_line(outcomes[-1]))
        usage_at["start"] = {"wallboard": usage(wall.pid), "watch": usage(watch.process.pid)}
        end = started + minutes * 60
        while time.monotonic() < end:
            server.control("POST", "resume")
            time.sleep(rng.uniform(*gap))
            if time.monotonic() >= end:
                break
            server.control("POST", "pause")
            fault = rng.choice(list(faults))
            injected_at, reconnects = time.monotonic(), box.reconnects()
            back_at = inject(fault, server)
            outcomes.append(box.recover(fault, injected_at, back_at, reconnects))
            say(_line(outcomes[-1]))
        usage_at["end"] = {"wallboard": usage(wall.pid), "watch": usage(watch.process.pid)}
        box.look_for_human_needs()
    finally:
        cron.stopping.set()
        wall.stop()
        watch.stop()
        server.stop()
        # The box's home holds the password file and the tokens: never left behind.
        if keep_logs is not None:
            shutil.copytree(home / "log", keep_logs, dirs_exist_ok=True)
        shutil.rmtree(home, ignore_errors=True)
    busiest = server.busiest_minute()
    times = [s for o in outcomes if o.fault not in DATA_FAULTS for s in o.seconds.values()]
    repairs = [s for o in outcomes if o.fault in DATA_FAULTS for s in o.seconds.values()]
    cron_auth_failures = [e for e in cron.exits if e[1] == 3]
    box.human_touches += [f"cron snapshot: {e[2]}" for e in cron_auth_failures]
    return {
        "minutes": round((time.monotonic() - started) / 60, 1),
        "faults": len(outcomes),
        "faults_by_kind": _count(o.fault for o in outcomes),
        "recovered": sum(o.recovered for o in outcomes),
        "not_recovered": [o.fault for o in outcomes if not o.recovered],
        "human_touches": len(box.human_touches),
        "human_touch_notes": box.human_touches,
        "back_to_live_p50_s": _round(percentile(times, 0.50)),
        "back_to_live_p99_s": _round(percentile(times, 0.99)),
        "back_to_live_max_s": _round(max(times) if times else None),
        "data_faults_time_to_truth_p50_s": _round(percentile(repairs, 0.50)),
        "data_faults_time_to_truth_max_s": _round(max(repairs) if repairs else None),
        "resync_period_s": RESYNC_S,
        "slowest": sorted(
            ((o.fault, client, round(s, 2)) for o in outcomes for client, s in o.seconds.items()),
            key=lambda item: -item[2],
        )[:5],
        "auth_requests_busiest_minute": len(busiest),
        "auth_requests_busiest_minute_detail": [
            f"+{at - busiest[0][0]:.1f} s {path} {status}" for at, path, status in busiest
        ],
        "auth_requests_total": len(server.clients_auth_log()),
        "mismatches": sum(len(o.mismatches) for o in outcomes),
        "mismatch_notes": [m for o in outcomes for m in o.mismatches],
        "cron_runs": len(cron.exits),
        "cron_exit_codes": _count(str(code) for _, code, _ in cron.exits),
        "usage": usage_at,
    }


class _Address:
    """What ``Watch`` needs of a simulator: its URL (the server may not be up yet)."""

    def __init__(self, server: Server) -> None:
        self.url = server.url
        self._server = server

    def control(self, method: str, path: str, **kwargs: Any) -> Any:
        return self._server.control(method, path, **kwargs)

    def state(self) -> dict[str, Any]:
        return self._server.state()


@contextlib.contextmanager
def _free_port() -> Any:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        yield probe.getsockname()[1]


def _count(items: Iterable[str]) -> dict[str, int]:
    return dict(sorted(Counter(items).items()))


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _line(outcome: Outcome) -> str:
    times = ", ".join(f"{client} {s:.2f} s" for client, s in sorted(outcome.seconds.items()))
    state = "recovered" if outcome.recovered else "NOT RECOVERED"
    extra = f"; mismatches: {outcome.mismatches}" if outcome.mismatches else ""
    return f"{time.strftime('%H:%M:%S')} {outcome.fault:<30} {state}: {times}{extra}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=__doc__)
    parser.add_argument("--minutes", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--gap", type=float, nargs=2, default=(20.0, 60.0), metavar=("MIN", "MAX"),
        help="seconds between the end of one recovery and the next fault (default 20 60)",
    )  # fmt: skip
    parser.add_argument(
        "--faults", default=",".join(FAULTS), help="the faults to draw from, comma-separated"
    )
    parser.add_argument(
        "--keep-logs", type=Path, metavar="DIR", help="copy the clients' log file here at the end"
    )
    args = parser.parse_args(argv)
    kinds = [name for name in args.faults.split(",") if name]
    unknown = sorted(set(kinds) - set(FAULTS))
    if unknown:
        parser.error(f"unknown faults: {', '.join(unknown)}")
    figures = run(args.minutes, args.seed, tuple(args.gap), kinds, keep_logs=args.keep_logs)
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
