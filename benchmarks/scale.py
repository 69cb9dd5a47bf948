"""An enterprise tenant: 200 departments, 5,000 waiting customers, 2,000 agents.

- ``wallboard_repaint_ms``: ``VokiApp`` headless at 200x60 on the wallboard; a snapshot of
  that size built by the real reducers (``DepartmentBook.reconcile`` / ``set_presence`` /
  ``view``) is handed to the screen with ``show_snapshot`` and then the whole screen is laid
  out and rendered by the compositor (``render_update(full=True)`` down to segments).
  Median of five, each with fresh waiting ages.
- ``scale_state_mb``: what the 200 books plus one snapshot hold (tracemalloc), and the RSS of
  the benchmark process with the app rendered.
- ``snapshot_s``: wall time of ``voki-tui snapshot --json`` (a fresh process, as a cron job
  runs it) against a voki-sim with ``--departments 200 --agents 2000`` into which the 5,000
  customers were injected through ``POST /__sim/customers`` (scenario paused, so they stay).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import time
import tracemalloc
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import httpx

from benchmarks.app_pty import app_env, voki_tui
from benchmarks.pty_meter import rss_mb
from benchmarks.stream import T0
from voki_tui.live.book import DepartmentBook
from voki_tui.live.events import CustomerJoined
from voki_tui.live.state import (
    Connection,
    Counters,
    Department,
    FeedSnapshot,
    LinkState,
    UserInfo,
)
from voki_tui.ports import DepartmentList
from voki_tui.settings import Settings
from voki_tui.sim.testing import SimProcess
from voki_tui.testing.fakes import FakeAuth, FakeFeed

DEPARTMENTS, WAITING, AGENTS = 200, 5_000, 2_000
USER = UserInfo(id="1", name="Bench Supervisor", email="supervisor@demo.test", role="supervisor")


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


def snapshot_of(books: Sequence[DepartmentBook], seconds_later: float) -> FeedSnapshot:
    now = T0 + timedelta(seconds=seconds_later)
    return FeedSnapshot(
        version=int(seconds_later) + 1,
        taken_at=now,
        server="http://127.0.0.1",
        tenant="demo",
        user=USER,
        connection=Connection(state=LinkState.LIVE, since=T0, data_as_of=now),
        departments=tuple(book.view(now) for book in books),
        counters=Counters(),
    )


async def _wallboard(books: list[DepartmentBook], rounds: int) -> dict[str, Any]:
    from voki_tui.ui.app import VokiApp

    first = snapshot_of(books, 0)
    departments = tuple(view.department for view in first.departments)
    auth = FakeAuth(restored=USER, department_list=DepartmentList(departments, len(departments)))
    app = VokiApp(Settings(wallboard=True, tenant="demo"), auth, FakeFeed([first]))
    times: list[float] = []
    async with app.run_test(size=(200, 60)) as pilot:
        for _ in range(500):
            if type(app.screen).__name__ == "WallboardScreen":
                break
            await pilot.pause(0.02)
        await pilot.pause(0.2)
        screen: Any = app.screen
        for n in range(1, rounds + 1):
            snap = snapshot_of(books, 15.0 * n)
            started = time.perf_counter()
            screen.show_snapshot(snap)
            await pilot.pause()
            screen._refresh_layout(app.size)  # a full layout pass, as on a resize
            update = screen._compositor.render_update(full=True)
            segments = list(update.render_segments(app.console))
            times.append(time.perf_counter() - started)
        rendered = {"segments": len(segments), "screen": type(screen).__name__}
    return {
        "wallboard_repaint_ms": round(1000 * statistics.median(times), 1),
        "wallboard_repaint_ms_all": [round(1000 * t, 1) for t in times],
        "wallboard_rss_mb": round(rss_mb(os.getpid()), 1),
        **rendered,
    }


def state_memory() -> tuple[list[DepartmentBook], float]:
    tracemalloc.start()
    books = build_books()
    snap = snapshot_of(books, 0)
    size, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del snap
    return books, size / 2**20


def snapshot_command(customers: int) -> dict[str, Any]:
    with SimProcess(departments=DEPARTMENTS, agents=AGENTS, paused=True) as sim, app_env() as env:
        started = time.perf_counter()
        ids = sim.department_ids()
        with httpx.Client(base_url=sim.url, timeout=30) as client:
            for n in range(customers):
                client.post(
                    "/__sim/customers",
                    json={"department_id": ids[n % DEPARTMENTS], "customer_name": f"Scale {n}"},
                ).raise_for_status()
        inject_s = time.perf_counter() - started
        argv = [*voki_tui(), "snapshot", "--json", "--server", sim.url, "--tenant", "demo",
                "--email", "supervisor@demo.test", "--timeout", "120"]  # fmt: skip
        started = time.perf_counter()
        out = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=300)
        seconds = time.perf_counter() - started
    return {
        "snapshot_s": round(seconds, 2),
        "snapshot_exit": out.returncode,
        "snapshot_bytes": len(out.stdout),
        "snapshot_customers": customers,
        "inject_s": round(inject_s, 1),
        "snapshot_stderr_tail": out.stderr[-300:] if out.returncode else "",
    }


def run(*, quick: bool = False) -> dict[str, Any]:
    books, state_mb = state_memory()
    result: dict[str, Any] = {"scale_state_mb": round(state_mb, 1)}
    result.update(asyncio.run(_wallboard(books, 3 if quick else 5)))
    result.update(snapshot_command(200 if quick else WAITING))
    return result


if __name__ == "__main__":
    import argparse
    import json

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    print(json.dumps(run(quick=args.quick), indent=2))
