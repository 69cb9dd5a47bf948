"""Back-to-back REST requests to voki-sim over one kept-alive connection.

Run: ``python -m benchmarks.sim_requests [--requests 100] [--departments 4] [--agents 12]``.

voki-sim runs in its own process (``SimProcess``, scenario paused); one ``httpx.Client`` sends
``--requests`` sequential requests of each kind over the same connection and prints the median,
p90 and total per kind. It is how the 44 ms Nagle/delayed-ACK stall per request was found and
how its fix is checked (see BENCHMARKS.md, "voki-sim: back-to-back requests"). Figures, not a
test.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

import httpx

from voki_tui.sim import DEMO_EMAILS, DEMO_PASSWORD, DEMO_TENANT
from voki_tui.sim.testing import SimProcess


def _timed(n: int, request: Callable[[int], httpx.Response]) -> dict[str, float]:
    times: list[float] = []
    for i in range(n):
        started = time.perf_counter()
        response = request(i)
        times.append(time.perf_counter() - started)
        response.raise_for_status()
    ordered = sorted(times)
    return {
        "median_ms": round(statistics.median(times) * 1e3, 3),
        "p90_ms": round(ordered[int(0.9 * (n - 1))] * 1e3, 3),
        "total_ms": round(sum(times) * 1e3, 1),
    }


def run(requests: int = 100, departments: int = 4, agents: int = 12) -> dict[str, Any]:
    with SimProcess(
        seed=7, paused=True, auth_rate_limit=10_000, departments=departments, agents=agents
    ) as sim, httpx.Client(base_url=sim.url, timeout=10.0) as http:  # fmt: skip
        body = {"email": DEMO_EMAILS["manager"], "password": DEMO_PASSWORD, "tenant": DEMO_TENANT}
        token = http.post("/api/auth/login", json=body).json()["data"]["access_token"]
        headers = {"Authorization": f"Bearer {token}", "X-Tenant": DEMO_TENANT}
        department = http.get("/__sim/state").json()["departments"][0]["id"]
        results = {
            "GET /api/v1/users/me": _timed(
                requests, lambda i: http.get("/api/v1/users/me", headers=headers)
            ),
            "GET /__sim/state": _timed(requests, lambda i: http.get("/__sim/state")),
            "POST /__sim/pause": _timed(requests, lambda i: http.post("/__sim/pause")),
            "POST /__sim/customers": _timed(
                requests,
                lambda i: http.post(
                    "/__sim/customers",
                    json={"department_id": department, "customer_name": f"Bench {i}"},
                ),
            ),
        }
    return {"requests_per_kind": requests, "departments": departments, "results": results}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--departments", type=int, default=4)
    parser.add_argument("--agents", type=int, default=12)
    args = parser.parse_args()
    print(json.dumps(run(args.requests, args.departments, args.agents), indent=2))


if __name__ == "__main__":
    main()
