"""The official Phoenix JS client (npm ``phoenix``, run by node) against voki-sim.

tests/node/interop.mjs logs in over REST, joins ``queue:`` and ``presence:`` topics as the
manager and as the attendant, tries the joins that must be refused, receives injected queue
events, lets the scenario run so that presence diffs arrive, pauses it, and reports its
``Presence.list`` next to ``GET /__sim/state``. This module runs it once
and asserts on its JSON report.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from voki_tui.sim.testing import running_sim

from .conftest import CUSTOMER_JOINED, is_uuid

pytestmark = pytest.mark.node

SCRIPT = Path(__file__).resolve().parents[1] / "node" / "interop.mjs"


@pytest.fixture(scope="module")
def report() -> Iterator[dict[str, Any]]:
    node = shutil.which("node")
    assert node, "node is not installed (see README: Node.js >= 20)"
    with running_sim(seed=7, auth_rate_limit=1000, widget_rate_limit=1000, paused=True) as sim:
        completed = subprocess.run(
            [node, str(SCRIPT), sim.url],
            cwd=SCRIPT.parent,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert completed.stdout, completed.stderr
        document: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
        document["exit_code"] = completed.returncode
        document["stderr"] = completed.stderr[-2000:]
        yield document


def test_node_run_completed(report: dict[str, Any]) -> None:
    assert report["errors"] == [], report["errors"]
    assert report["exit_code"] == 0, report["stderr"]


def test_manager_joins_every_department(report: dict[str, Any]) -> None:
    assert report["departments"]
    for department_id in report["departments"]:
        for prefix in ("queue", "presence"):
            topic = f"{prefix}:{department_id}"
            assert report["manager"][topic] == {"status": "ok", "response": {}}, topic


def test_attendant_joins_own_and_is_refused_elsewhere(report: dict[str, Any]) -> None:
    mine = report["attendant_departments"]
    assert len(mine) == 2
    foreign = next(d for d in report["departments"] if d not in mine)
    for department_id in mine:
        for prefix in ("queue", "presence"):
            topic = f"{prefix}:{department_id}"
            assert report["attendant"][topic] == {"status": "ok", "response": {}}, topic
    unauthorized = {"status": "error", "response": {"reason": "unauthorized"}}
    assert report["attendant"][f"queue:{foreign}"] == unauthorized
    assert report["attendant"][f"presence:{foreign}"] == unauthorized
    not_found = {"status": "error", "response": {"reason": "not_found"}}
    assert report["attendant"]["queue:999999"] == not_found


def test_queue_events_reach_the_js_client(report: dict[str, Any]) -> None:
    # As they stood right after the injections: the scenario runs afterwards and may serve them.
    waiting = {d["id"]: d["waiting"] for d in report["state_after_injection"]["departments"]}
    expected = [f"manager:{d}" for d in report["departments"]]
    expected += [f"attendant:{d}" for d in report["attendant_departments"]]
    for key in expected:
        event = report["events"][key]
        assert event is not None, f"{key}: no customer_joined received"
        payload = event["payload"]
        department_id = key.split(":", 1)[1]
        assert set(payload) == CUSTOMER_JOINED, payload
        assert payload["department_id"] == department_id
        uuid.UUID(payload["call_id"])
        assert payload["call_id"] in waiting[department_id]


def test_presence_list_equals_ground_truth(report: dict[str, Any]) -> None:
    departments = {d["id"]: d for d in report["state"]["departments"]}
    views = [f"manager:{d}" for d in report["departments"]]
    views += [f"attendant:{d}" for d in report["attendant_departments"]]
    assert any(departments[d]["agents"] for d in report["departments"]), "no agent present"
    assert sum(report["presence"][v]["diffs"] for v in views) > 0, "no presence_diff applied"
    for view in views:
        seen = report["presence"][view]
        assert seen["synced"], f"{view}: Presence never synced"
        truth = {
            str(a["user_id"]): [a["status"], a["devices"]]
            for a in departments[view.split(":", 1)[1]]["agents"]
        }
        assert seen["list"] == truth, view


def test_ids_are_uuids_on_the_js_side(report: dict[str, Any]) -> None:
    """Department ids (and so topics) and presence keys as phoenix.js saw them are uuids."""
    assert report["departments"] and all(is_uuid(d) for d in report["departments"])
    keys = [key for view in report["presence"].values() for key in view["list"]]
    assert keys and all(is_uuid(key) for key in keys), keys
