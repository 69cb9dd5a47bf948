"""What a screen costs a terminal link and a CPU in the realistic case, beside its references.

One run, one voki-sim process (its own CPU), its synthetic stream at 1 event/s over 4
departments, and the first department held at 40 waiting customers (topped up through
``POST /__sim/customers`` as the stream serves them) with 40 agents present (``--agents 126``,
seed 1). At 120x40 and at 200x60, each program gets a pty of that size and the same window:

- voki-tui's ``queue`` and ``presence`` of that department (``--department``: the app opens
  its queue; ``p`` for presence) and its ``wallboard`` (every department, ``--wallboard``),
  all with ``--lang en`` (a stored session would otherwise switch to the user's pt-BR); and
  ``queue_raw_output``, the queue with ``--raw-output``: every changed line as Textual writes
  it, without the screen copy (``voki_tui/ui/screen_copy.py``), the before of the same run;
- ``htop`` (its defaults, a private ``HOME``), the reference every figure is divided by;
- ``naive_datatable``: a plain Textual ``DataTable`` of the same 40 customers, read from the
  simulator's REST API, waits ticking (``benchmarks/naive_table.py``).

Each program: started, waited for until it shows its first screen ("● live" for voki-tui),
keys sent, 2 s to settle, then ``window`` seconds measured: bytes written, frames, CPU time
from ``/proc``, RSS; then one forced full repaint (a resize away and back) for the bytes of a
whole screen. All of it ``rounds`` times (3 by default, as issue 11 measured; 1 with
``--quick``), the programs one after the other in each round: each figure is the median over the
rounds, each ratio taken against the htop of its own round, and every round's bytes/s, ratio and
CPU stay in the JSON: ``cost["120x40"]["queue"] = {bytes_per_s, cpu_percent, ..., ratio_vs_htop,
cpu_ratio_vs_htop, rounds}``.

Then at 100 events/s (120x40): the queue's (also with ``--raw-output``) and the wallboard's
bytes/s and CPU, and the p99 of event-to-screen (``benchmarks/latency.py``'s marker method);
and the start: from exec to the first "● live" frame against the running simulator, beside
htop's first frame, with ``python -X importtime``'s largest imports of the client. Targets
(issue 11) are printed beside the figures; nothing here fails on them.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from benchmarks import latency
from benchmarks.app_pty import app_argv, app_env, wait_for_text
from benchmarks.pty_meter import PtyChild, cpu_seconds, rss_mb
from benchmarks.stream import login
from voki_tui.api.models import Call
from voki_tui.sim.names import person_name
from voki_tui.sim.testing import SimProcess
from voki_tui.testing.figures import percentile

SIZES = ((120, 40), (200, 60))
WAITING = 40
AGENTS = 126  # with --departments 4 --seed 1: 40 agents present in the first department
LIVE = "● live".encode()
HTOP_READY = b"Load average"
NAIVE_READY = b"Customer"
SETTLE_S = 2.0

#: Issue 11's targets, printed beside the figures (never asserted).
TARGETS = {
    "ratio_vs_htop": "<= 1.0 (every screen, 40 ticking rows)",
    "wallboard_100_bytes_per_s": "<= 4096",
    "wallboard_100_cpu_percent": "<= 8",
    "queue_100_bytes_per_s": "<= 8192",
    "cpu_percent_1": "<= 1",
    "p99_event_to_screen_ms_100": "<= 50",
    "start_to_first_live_s": "<= 0.5",
}


@dataclass(frozen=True)
class Program:
    argv: list[str]
    env: Mapping[str, str]
    ready: bytes
    keys: tuple[bytes, ...] = ()


@dataclass(frozen=True)
class Cost:
    bytes_per_s: float
    frames_per_s: float
    cpu_percent: float
    rss_mb: float
    full_screen_bytes: int
    seconds: float
    ready_s: float | None

    def row(self) -> dict[str, Any]:
        return {
            "bytes_per_s": round(self.bytes_per_s),
            "frames_per_s": round(self.frames_per_s, 2),
            "cpu_percent": round(self.cpu_percent, 2),
            "rss_mb": round(self.rss_mb, 1),
            "full_screen_bytes": self.full_screen_bytes,
            "seconds": round(self.seconds, 1),
            "ready_s": None if self.ready_s is None else round(self.ready_s, 2),
        }


def run_program(program: Program, cols: int, rows: int, window_s: float) -> Cost:
    """Start ``program`` on a ``cols`` x ``rows`` pty, wait for its first screen, send its
    keys, settle, then measure for ``window_s``."""
    started = time.monotonic()
    child = PtyChild(program.argv, cols, rows, program.env)
    try:
        at, _ = wait_for_text(child, [program.ready], 60)
        if at is None:
            tail = "\n".join(line.rstrip() for line in child.screen.display).strip()[-400:]
            raise RuntimeError(f"{program.argv} never showed {program.ready!r}: ...{tail}")
        for key in program.keys:
            os.write(child.fd, key)
            child.read_for(0.5)
        child.read_for(SETTLE_S)
        cpu0, t0 = cpu_seconds(child.pid), time.monotonic()
        total, frames, _ = child.read_for(window_s)
        elapsed = time.monotonic() - t0
        cpu = cpu_seconds(child.pid) - cpu0
        memory = rss_mb(child.pid)
        child.resize(cols - 1, rows)
        child.read_for(1.0)
        child.resize(cols, rows)
        full, _, _ = child.read_for(1.0)
    finally:
        child.stop()
    return Cost(
        bytes_per_s=total / elapsed,
        frames_per_s=frames / elapsed,
        cpu_percent=100.0 * cpu / elapsed,
        rss_mb=memory,
        full_screen_bytes=full,
        seconds=elapsed,
        ready_s=at - started,
    )


class KeepWaiting(threading.Thread):
    """Tops the department's queue up to ``target`` customers as the stream serves them."""

    def __init__(self, sim: SimProcess, department_id: str, target: int) -> None:
        super().__init__(daemon=True, name="keep-waiting")
        self.sim, self.department_id, self.target = sim, department_id, target
        self.stop = threading.Event()
        self.added = 0
        self.rng = random.Random(1)

    def top_up(self, http: httpx.Client) -> None:
        state = http.get("/__sim/state").json()
        waiting = next(d for d in state["departments"] if d["id"] == self.department_id)
        for _ in range(self.target - len(waiting["waiting"])):
            body = {
                "department_id": self.department_id,
                "customer_name": person_name(self.rng),
                "reason": self.rng.choice(("billing", "technical", "sales", "delivery")),
            }
            http.post("/__sim/customers", json=body).raise_for_status()
            self.added += 1

    def run(self) -> None:
        with httpx.Client(base_url=self.sim.url, timeout=10) as http:
            while not self.stop.wait(0.5):
                self.top_up(http)


def queued_rows(sim: SimProcess, department_id: str) -> list[dict[str, Any]]:
    """The department's waiting customers as the REST API lists them, for the naive table."""
    token = login(sim.url)
    response = httpx.get(
        f"{sim.url}/api/v1/calls",
        params={"status": "queued", "department_id": department_id, "page_size": "100"},
        headers={"Authorization": f"Bearer {token}", "X-Tenant": "demo"},
        timeout=10,
    )
    response.raise_for_status()
    calls = [Call.model_validate(item) for item in response.json()["data"]]
    return [
        {
            "name": call.customer_name or "",
            "reason": call.reason or "",
            "queued_at": call.queued_at.timestamp() if call.queued_at else time.time(),
        }
        for call in calls
    ]


@contextmanager
def htop_env() -> Iterator[dict[str, str]]:
    """htop with its defaults: a private HOME, so no one's htoprc changes what it draws."""
    home = tempfile.mkdtemp(prefix="voki-bench-htop-")
    env = {k: v for k, v in os.environ.items() if k not in ("COLORTERM", "NO_COLOR")}
    env.update(TERM="xterm-256color", HOME=home)
    try:
        yield env
    finally:
        shutil.rmtree(home, ignore_errors=True)


@contextmanager
def realistic_sim() -> Iterator[tuple[SimProcess, str, KeepWaiting]]:
    with SimProcess(departments=4, agents=AGENTS, seed=1, paused=True) as sim:
        department_id = sim.department_ids()[0]
        keeper = KeepWaiting(sim, department_id, WAITING)
        with httpx.Client(base_url=sim.url, timeout=10) as http:
            keeper.top_up(http)
        sim.control("POST", "rate?events_per_second=1")
        sim.control("POST", "resume")
        keeper.start()
        try:
            yield sim, department_id, keeper
        finally:
            keeper.stop.set()
            keeper.join(5)


def department_now(sim: SimProcess, department_id: str) -> dict[str, int]:
    state = sim.state()
    department = next(d for d in state["departments"] if d["id"] == department_id)
    return {"waiting": len(department["waiting"]), "agents": len(department["agents"])}


def with_ratios(screens: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    htop = screens.get("htop")
    for row in screens.values():
        if htop and htop["bytes_per_s"]:
            row["ratio_vs_htop"] = round(row["bytes_per_s"] / htop["bytes_per_s"], 2)
        if htop and htop["cpu_percent"]:
            row["cpu_ratio_vs_htop"] = round(row["cpu_percent"] / htop["cpu_percent"], 2)
    return screens


MEDIANS = ("bytes_per_s", "frames_per_s", "cpu_percent", "rss_mb")
RATIOS = ("ratio_vs_htop", "cpu_ratio_vs_htop")


def over_rounds(rounds: list[dict[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """One row per program: the median of each figure over the rounds (each ratio taken
    against the htop of its own round), the first round's other fields, and every round's
    bytes/s, ratio and CPU, so the spread is in the JSON too."""
    out: dict[str, dict[str, Any]] = {}
    for name in rounds[0]:
        rows = [measured[name] for measured in rounds]
        row = dict(rows[0])
        for key in (*MEDIANS, *RATIOS):
            middle = percentile((r[key] for r in rows if r.get(key) is not None), 0.5)
            if middle is not None:
                row[key] = round(middle, 0 if key == "bytes_per_s" else 2)
        row["bytes_per_s"] = int(row["bytes_per_s"])
        row["department_after"] = rows[-1]["department_after"]
        row["rounds"] = [
            {k: r.get(k) for k in ("bytes_per_s", "ratio_vs_htop", "cpu_percent")} for r in rows
        ]
        out[name] = row
    return out


def app_programs(url: str, department_id: str, env: Mapping[str, str]) -> dict[str, Program]:
    """voki-tui's screens as the cost section runs them: the department's queue (also with
    ``--raw-output``) and presence, and the wallboard of every department."""
    one = ("--lang", "en", "--department", department_id)
    return {
        "queue": Program(app_argv(url, *one), env, LIVE, (b"u",)),
        "queue_raw_output": Program(app_argv(url, *one, "--raw-output"), env, LIVE, (b"u",)),
        "presence": Program(app_argv(url, *one), env, LIVE, (b"p",)),
        "wallboard": Program(app_argv(url, "--lang", "en", "--wallboard"), env, LIVE),
    }


def realistic(window_s: float, screens: Sequence[str] = (), rounds: int = 1) -> dict[str, Any]:
    """Every screen (or only ``screens``) and both references at both sizes, against one
    simulator; ``rounds`` times, each program after the other in every round."""
    out: dict[str, Any] = {}
    with realistic_sim() as (sim, department_id, keeper), app_env() as env, htop_env() as hv:
        rows_file = Path(env["VOKI_TUI_HOME"]) / "naive-rows.json"
        rows_file.write_text(json.dumps(queued_rows(sim, department_id)), encoding="utf-8")
        programs = {
            **app_programs(sim.url, department_id, env),
            "htop": Program(["htop"], hv, HTOP_READY),
            "naive_datatable": Program(
                [sys.executable, "-m", "benchmarks.naive_table", str(rows_file)], env, NAIVE_READY
            ),
        }
        chosen = {n: p for n, p in programs.items() if not screens or n in screens}
        for cols, rows in SIZES:
            each: list[dict[str, dict[str, Any]]] = []
            for round_ in range(rounds):
                measured: dict[str, dict[str, Any]] = {}
                for name, program in chosen.items():
                    print(
                        f"   {name} at {cols}x{rows}, round {round_ + 1} of {rounds}",
                        file=sys.stderr,
                        flush=True,
                    )
                    before = department_now(sim, department_id)
                    row = run_program(program, cols, rows, window_s).row()
                    row["department_before"] = before
                    row["department_after"] = department_now(sim, department_id)
                    measured[name] = row
                each.append(with_ratios(measured))
            out[f"{cols}x{rows}"] = over_rounds(each)
        out["customers_topped_up"] = keeper.added
        out["naive_rows"] = len(json.loads(rows_file.read_text(encoding="utf-8")))
        out["rounds"] = rounds
    return out


def busy(window_s: float, rate: float = 100.0) -> dict[str, Any]:
    """The queue and the wallboard at ``rate`` events/s (120x40): bytes, CPU."""
    out: dict[str, Any] = {}
    with SimProcess(departments=4, agents=AGENTS, seed=1, paused=True) as sim, app_env() as env:
        department_id = sim.department_ids()[0]
        sim.control("POST", f"rate?events_per_second={rate}")
        sim.control("POST", "resume")
        programs = app_programs(sim.url, department_id, env)
        for name in ("queue", "queue_raw_output", "wallboard"):
            out[name] = run_program(programs[name], 120, 40, window_s).row()
    return out


def start_times(tries: int) -> dict[str, Any]:
    """Exec to the first "● live" frame (voki-tui, its simulator already running) and to the
    first frame of htop; the best and the median of ``tries``, after one start of each that is
    not counted (a second start, as every start after the install: bytecode cached, the
    session stored)."""
    voki: list[float] = []
    htop: list[float] = []
    with SimProcess(departments=4, agents=AGENTS, seed=1, paused=True) as sim, app_env() as env:
        argv = app_argv(sim.url, "--lang", "en", "--department", sim.department_ids()[0])
        with htop_env() as hv:
            for attempt in range(tries + 1):
                for argv_, env_, ready, into in (
                    (argv, env, LIVE, voki),
                    (["htop"], hv, HTOP_READY, htop),
                ):
                    started = time.monotonic()
                    child = PtyChild(argv_, 120, 40, env_)
                    try:
                        at, _ = wait_for_text(child, [ready], 60)
                    finally:
                        child.stop()
                    if at is not None and attempt:
                        into.append(at - started)

    def summary(values: list[float]) -> dict[str, float | None]:
        ordered = sorted(values)
        return {
            "best_s": round(ordered[0], 3) if ordered else None,
            "median_s": round(ordered[len(ordered) // 2], 3) if ordered else None,
        }

    return {"voki_tui": summary(voki), "htop": summary(htop), "tries": tries}


_IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( +)(\S+)")


def import_profile(top: int = 15, depth: int = 3) -> list[dict[str, Any]]:
    """``python -X importtime`` of what the dashboard imports before its first frame: the
    imports nested at most ``depth`` deep, largest cumulative time first."""
    code = "import voki_tui.cli, voki_tui.ui.app, voki_tui.account"
    with app_env() as env:  # bytecode cached, as for the starts measured
        subprocess.run([sys.executable, "-c", code], env=env, check=True)
        out = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", code],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
    found: list[tuple[int, int, str]] = []
    for line in out.stderr.splitlines():
        match = _IMPORT_LINE.match(line)
        if match:
            level = (len(match.group(3)) - 1) // 2
            if level <= depth:
                found.append((int(match.group(2)), level, match.group(4)))
    found.sort(reverse=True)
    return [
        {"module": name, "depth": level, "cumulative_ms": round(us / 1000, 1)}
        for us, level, name in found[:top]
    ]


PARTS = ("realistic", "busy", "latency", "start", "imports")


def run(
    *,
    quick: bool = False,
    window_s: float | None = None,
    rounds: int | None = None,
    screens: Sequence[str] = (),
    parts: Sequence[str] = PARTS,
) -> dict[str, Any]:
    """Every part (or only ``parts``); the issue's settings unless ``quick``: 60 s windows,
    3 rounds of the realistic case."""
    window = window_s if window_s is not None else (6.0 if quick else 60.0)
    result: dict[str, Any] = {"load_avg_at_start": os.getloadavg(), "window_s": window}
    if "realistic" in parts:
        count = rounds if rounds is not None else (1 if quick else 3)
        result["cost"] = realistic(window, screens, count)
    if "busy" in parts:
        result["cost_100_events_per_s"] = busy(window)
    if "latency" in parts:
        p99 = latency.measure_rate(100.0, 6.0 if quick else 20.0).pct(99)
        result["p99_event_to_screen_ms_100"] = None if p99 is None else round(p99, 1)
    if "start" in parts:
        result["start"] = start_times(1 if quick else 3)
    if "imports" in parts:
        result["import_profile"] = import_profile()
    result["load_avg_at_end"] = os.getloadavg()
    return result


def render(result: dict[str, Any]) -> str:
    """The figures with their targets, as Markdown tables (the parts that ran)."""
    lines = [
        f"load average {result['load_avg_at_start']} -> {result['load_avg_at_end']}, "
        f"window {result['window_s']} s",
    ]
    cost = result.get("cost", {})
    for size in (f"{c}x{r}" for c, r in SIZES if f"{c}x{r}" in cost):
        lines += [
            "",
            f"| {size} | bytes/s | ratio vs htop | CPU % | CPU vs htop | frames/s | RSS MB |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for name, row in cost[size].items():
            lines.append(
                f"| {name} | {row['bytes_per_s']:,} | {row.get('ratio_vs_htop')} | "
                f"{row['cpu_percent']} | {row.get('cpu_ratio_vs_htop')} | "
                f"{row['frames_per_s']} | {row['rss_mb']} |"
            )
    figures: list[str] = []
    queue_1 = cost.get("120x40", {}).get("queue")
    if queue_1:
        figures.append(
            f"| queue CPU % at ~1 event/s (120x40) | {queue_1['cpu_percent']} | "
            f"{TARGETS['cpu_percent_1']} |"
        )
    busy_rows = result.get("cost_100_events_per_s")
    if busy_rows:
        figures += [
            f"| queue bytes/s at 100 events/s | {busy_rows['queue']['bytes_per_s']:,} | "
            f"{TARGETS['queue_100_bytes_per_s']} |",
            f"| queue CPU % at 100 events/s | {busy_rows['queue']['cpu_percent']} | |",
            f"| queue bytes/s at 100 events/s, --raw-output | "
            f"{busy_rows['queue_raw_output']['bytes_per_s']:,} | |",
            f"| wallboard bytes/s at 100 events/s | {busy_rows['wallboard']['bytes_per_s']:,} | "
            f"{TARGETS['wallboard_100_bytes_per_s']} |",
            f"| wallboard CPU % at 100 events/s | {busy_rows['wallboard']['cpu_percent']} | "
            f"{TARGETS['wallboard_100_cpu_percent']} |",
        ]
    if "p99_event_to_screen_ms_100" in result:
        figures.append(
            f"| p99 event to screen at 100 events/s (ms) | "
            f"{result['p99_event_to_screen_ms_100']} | {TARGETS['p99_event_to_screen_ms_100']} |"
        )
    start = result.get("start")
    if start:
        figures += [
            f"| start to first live row (s), best / median | {start['voki_tui']['best_s']} / "
            f"{start['voki_tui']['median_s']} | {TARGETS['start_to_first_live_s']} |",
            f"| htop start to first frame (s), best / median | {start['htop']['best_s']} / "
            f"{start['htop']['median_s']} | |",
        ]
    if figures:
        lines += ["", "| figure | value | target |", "|---|---:|---|", *figures]
    if cost:
        lines += ["", f"every screen's ratio_vs_htop: target {TARGETS['ratio_vs_htop']}"]
    if "import_profile" in result:
        lines += [
            "",
            "largest imports before the first frame (ms, cumulative): "
            + ", ".join(f"{i['module']} {i['cumulative_ms']}" for i in result["import_profile"]),
        ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="6 s windows, 1 round")
    parser.add_argument("--window", type=float, help="seconds measured per program")
    parser.add_argument("--rounds", type=int, help="rounds of the realistic case (default 3)")
    parser.add_argument(
        "--screens",
        nargs="*",
        default=(),
        choices=("queue", "queue_raw_output", "presence", "wallboard", "htop", "naive_datatable"),
        help="only these programs in the realistic case (htop for the ratios)",
    )
    parser.add_argument("--parts", nargs="*", default=PARTS, choices=PARTS, help="only these")
    parser.add_argument("--json", type=Path, help="write every figure here")
    args = parser.parse_args(argv)
    result = run(
        quick=args.quick,
        window_s=args.window,
        rounds=args.rounds,
        screens=args.screens,
        parts=args.parts,
    )
    print(render(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
