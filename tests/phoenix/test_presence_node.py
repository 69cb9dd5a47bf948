"""Differential test: our presence sync against phoenix.js's own ``Presence`` run in node.

300 seeded random cases (start state plus a sequence of presence_state / presence_diff steps)
go to tests/node/presence_diff.mjs in one batch; state, callback arguments and list output must
match after every step. Callback order across keys is compared per key, because JS visits
integer-like keys first and Python keeps insertion order (per-key order must still match).
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from voki_tui.phoenix.presence import list_presences, sync_diff, sync_state

from .presence_cases import random_case

NODE_DIR = Path(__file__).resolve().parents[1] / "node"
pytestmark = pytest.mark.node


def recorder(calls: list[Any]) -> Any:
    """A callback that snapshots its arguments as JSON, as the node side does."""

    def record(key: str, current: Any, other: Any) -> None:
        calls.append([key, json.loads(json.dumps(current)), json.loads(json.dumps(other))])

    return record


def run_python(case: dict[str, Any]) -> list[dict[str, Any]]:
    state: Any = case["state"]
    out = []
    for step in case["steps"]:
        joins: list[Any] = []
        leaves: list[Any] = []
        fn = sync_state if step["kind"] == "state" else sync_diff
        state = fn(state, step["data"], recorder(joins), recorder(leaves))
        listed = list_presences(
            state, lambda k, p: {"key": k, "first": p["metas"][0], "count": len(p["metas"])}
        )
        out.append({"state": state, "joins": joins, "leaves": leaves, "list": listed})
    return out


def by_key(calls: list[list[Any]]) -> list[list[Any]]:
    return sorted(calls, key=lambda call: call[0])  # stable: per-key order kept


def test_presence_matches_phoenix_js() -> None:
    node = shutil.which("node")
    if node is None or not (NODE_DIR / "node_modules" / "phoenix").is_dir():
        pytest.fail("node and tests/node/node_modules/phoenix are required for this test")
    rng = random.Random(20260511)
    cases = [random_case(rng) for _ in range(300)]
    proc = subprocess.run(
        [node, str(NODE_DIR / "presence_diff.mjs")],
        input=json.dumps({"cases": cases}),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    js_results = json.loads(proc.stdout)["results"]
    assert len(js_results) == len(cases)
    compared = 0
    for index, (case, js) in enumerate(zip(cases, js_results, strict=True)):
        for step, (py_step, js_step) in enumerate(zip(run_python(case), js["steps"], strict=True)):
            where = f"case {index} step {step}"
            assert py_step["state"] == js_step["state"], where
            assert by_key(py_step["joins"]) == by_key(js_step["joins"]), where
            assert by_key(py_step["leaves"]) == by_key(js_step["leaves"]), where
            py_list = sorted(py_step["list"], key=lambda entry: entry["key"])
            assert py_list == sorted(js_step["list"], key=lambda entry: entry["key"]), where
            compared += 1
    assert compared == 300 * 6
