"""An enterprise tenant: 200 departments, 5,000 waiting customers, 2,000 agents, every one live.

200 departments are 401 topics, so the app needs five sockets (Phoenix allows 100 channels on
one). Everything below is measured against a voki-sim process with ``--departments 200
--agents 2000`` into which 5,000 customers are injected (``POST /__sim/customers``, one kept-
alive connection), and every figure is taken with every department live:

- ``scale_setup_s``: starting the sim and injecting the 5,000 customers;
- ``snapshot``: ``voki-tui snapshot --json`` in a fresh process (as a cron job runs it), the
  scenario paused: its wall time and exit code, and whether the document is complete and
  equal to ``GET /__sim/state`` (every department's waiting call ids and agents);
- ``app``: the real ``voki-tui`` on a 200x60 pty: time from exec to the first paint and to
  "● live" on the status bar (which it says only when every socket is up and every department
  synced), then, with the scenario running at its natural pace, key press to screen (``w`` to
  the wallboard and ``w`` back to the departments list: from the write of the key to the first
  output that shows the other screen's heading, median), bytes/s and CPU on the departments
  list and on the wallboard, and the app's RSS;
- ``scale_state_mb``: what the 200 books plus one snapshot hold (tracemalloc, no I/O).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import time
import tracemalloc
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import httpx

from benchmarks.app_pty import app_argv, app_env, plain, voki_tui, wait_for_text
from benchmarks.pty_meter import PtyChild, cpu_seconds, rss_mb
from benchmarks.stream import T0
from voki_tui.live.book import DepartmentBook
from voki_tui.live.events import CustomerJoined
from voki_tui.live.state import Connection, Counters, Department, FeedSnapshot, LinkState
from voki_tui.sim.testing import SimProcess

DEPARTMENTS, WAITING, AGENTS = 200, 5_000, 2_000
COLS, ROWS = 200, 60
LIVE = "● live".encode()
DEPARTMENTS_HEADING = "Departments —".encode()
WALLBOARD_HEADING = "Wallboard ·".encode()
#: From exec to every department live, on a loaded 2-core machine.
START_TIMEOUT_S = 120.0


def build_books() -> list[DepartmentBook]:
    per_dept_waiting, per_dept_agents = WAITING // DEPARTMENTS, AGENTS // DEPARTMENTS
    books = []
    for d in range(1, DEPARTMENTS + 1):
        book = DepartmentBook(Department(id=str(d), name=f"Department {d:03d}"))
        items = [
            CustomerJoined(
                call_id=f"{d}-{i}",
                department_id=str(d),
                customer_name=f"Customer {d}-{i}",
                reason="billing",
                queued_at=T0 - timedelta(seconds=30 * (per_dept_waiting - i)),
                position=i + 1,
            )
            for i in range(per_dept_waiting)
        ]
        book.reconcile(items, T0)
        statuses = ("available", "in_call", "away", "in_call")
        book.set_presence(
            {
                str(d * 100 + a): {
                    "metas": [
                        {
                            "name": f"Agent {d}-{a}",
                            "role": "attendant",
                            "status": statuses[a % 4],
                            "since": "2026-01-05T08:30:00Z",
                            "call_id": None,
                            "phx_ref": f"r{d}-{a}",
                        }
                    ]
                }
                for a in range(per_dept_agents)
            }
        )
        books.append(book)
    return books


def state_memory() -> float:
    """MB the 200 books and one snapshot of them hold (tracemalloc)."""
    tracemalloc.start()
    books = build_books()
    snap = FeedSnapshot(
        version=1,
        taken_at=T0,
        server="http://127.0.0.1",
        tenant="demo",
        user=None,
        connection=Connection(state=LinkState.LIVE, since=T0, data_as_of=T0),
        departments=tuple(book.view(T0) for book in books),
        counters=Counters(),
    )
    size, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del snap, books
    return size / 2**20


def inject(sim: SimProcess, customers: int) -> None:
    ids = sim.department_ids()
    with httpx.Client(base_url=sim.url, timeout=30) as client:
        for n in range(customers):
            body = {"department_id": ids[n % len(ids)], "customer_name": f"Scale {n}"}
            client.post("/__sim/customers", json=body).raise_for_status()


def _picture(departments: Sequence[dict[str, Any]], key: str) -> dict[str, Any]:
    return {
        str(d["id"]): (
            [str(c if isinstance(c, str) else c["call_id"]) for c in d["waiting"]],
            sorted((str(a["user_id"]), str(a["status"]), int(a["devices"])) for a in d[key]),
        )
        for d in departments
    }


def snapshot_command(sim: SimProcess, env: dict[str, str]) -> dict[str, Any]:
    """``snapshot --json`` against the paused sim, compared with its truth."""
    argv = [*voki_tui(), "snapshot", "--json", "--server", sim.url, "--tenant", "demo",
            "--email", "supervisor@demo.test", "--timeout", "120"]  # fmt: skip
    started = time.perf_counter()
    out = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=300)
    seconds = time.perf_counter() - started
    result: dict[str, Any] = {
        "seconds": round(seconds, 2),
        "exit": out.returncode,
        "bytes": len(out.stdout),
        "stderr_tail": out.stderr[-300:] if out.returncode else "",
    }
    if out.stdout:
        document = json.loads(out.stdout)
        truth = _picture(sim.state()["departments"], "agents")
        seen = _picture(document["departments"], "agents")
        result.update(
            complete=document["complete"],
            links=document["links"],
            departments_complete=sum(d["complete"] for d in document["departments"]),
            waiting=sum(len(d["waiting"]) for d in document["departments"]),
            agents=sum(len(d["agents"]) for d in document["departments"]),
            departments_differing=sum(seen.get(k) != v for k, v in truth.items()),
        )
    return result


def _key_to_screen(child: PtyChild, key: bytes, heading: bytes) -> float | None:
    """ms from writing ``key`` to the first output showing ``heading``."""
    child.read_for(0.3)  # drain what is pending, so only the answer to the key is searched
    started = time.monotonic()
    os.write(child.fd, key)
    at, _ = wait_for_text(child, [heading], 10)
    return None if at is None else 1000 * (at - started)


def _window(child: PtyChild, seconds: float) -> dict[str, Any]:
    cpu0, t0 = cpu_seconds(child.pid), time.monotonic()
    total, frames, raw = child.read_for(seconds)
    elapsed = time.monotonic() - t0
    text = plain(raw)  # a word that replaced another is sent whole; the screen as it ends
    left = b"reconnecting" in text or b"syncing" in text
    left = left or child.shows(b"reconnecting") or child.shows(b"syncing")
    return {
        "bytes_per_s": round(total / elapsed),
        "frames_per_s": round(frames / elapsed, 2),
        "cpu_percent": round(100 * (cpu_seconds(child.pid) - cpu0) / elapsed, 2),
        "seconds": round(elapsed, 1),
        "left_live": left,
    }


def app_on_pty(sim: SimProcess, env: dict[str, str], window_s: float, keys: int) -> dict[str, Any]:
    started = time.monotonic()
    child = PtyChild(app_argv(sim.url, "--lang", "en"), COLS, ROWS, env)
    result: dict[str, Any] = {"size": f"{COLS}x{ROWS}"}
    try:
        painted, _ = wait_for_text(child, [DEPARTMENTS_HEADING], START_TIMEOUT_S)
        result["first_paint_s"] = None if painted is None else round(painted - started, 2)
        live, _ = wait_for_text(child, [LIVE], START_TIMEOUT_S)
        result["all_live_s"] = None if live is None else round(live - started, 2)
        result["no_access_shown"] = sum(line.count("no access") for line in child.screen.display)
        if live is None:
            return result
        before = sim.state()["events_sent"]
        sim.control("POST", "resume")  # the wall in use: the scenario at its natural pace
        clock0 = time.monotonic()
        to_wall, to_list = [], []
        for _ in range(keys):
            to_wall.append(_key_to_screen(child, b"w", WALLBOARD_HEADING))
            to_list.append(_key_to_screen(child, b"w", DEPARTMENTS_HEADING))
        timed = [t for t in to_wall + to_list if t is not None]
        result["key_to_screen_ms"] = {
            "median": round(statistics.median(timed), 1) if timed else None,
            "max": round(max(timed), 1) if timed else None,
            "to_wallboard": [None if t is None else round(t, 1) for t in to_wall],
            "to_departments": [None if t is None else round(t, 1) for t in to_list],
        }
        child.read_for(2.0)  # the list settles after the switch
        result["departments_list"] = _window(child, window_s)
        os.write(child.fd, b"w")
        child.read_for(2.0)
        result["wallboard"] = _window(child, window_s)
        result["rss_mb"] = round(rss_mb(child.pid), 1)
        elapsed = time.monotonic() - clock0
        result["sim_events_per_s"] = round((sim.state()["events_sent"] - before) / elapsed, 1)
    finally:
        child.stop()
    return result


def run(*, quick: bool = False) -> dict[str, Any]:
    result: dict[str, Any] = {"scale_state_mb": round(state_memory(), 1)}
    started = time.perf_counter()
    with SimProcess(
        departments=DEPARTMENTS, agents=AGENTS, paused=True, auth_rate_limit=1000
    ) as sim, app_env() as env:  # fmt: skip
        inject(sim, WAITING)
        result["scale_setup_s"] = round(time.perf_counter() - started, 1)
        result["snapshot"] = snapshot_command(sim, env)
        result["app"] = app_on_pty(sim, env, 10.0 if quick else 60.0, 3 if quick else 10)
    return result


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    print(json.dumps(run(quick=args.quick), indent=2))
