"""An enterprise tenant past Phoenix's 100-channel limit, against voki-sim over loopback.

150 departments are 301 topics (``queue:`` and ``presence:`` each, and ``notification:``), so
the feed needs four sockets: every department must be live, in ``snapshot --json`` and in the
dashboard, and equal ``GET /__sim/state``. A client that believes the server allows more than
it does meets "too many channels joined" and must end with every department live all the
same, none shown as refused. The JSON is checked against its schema.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from faults.harness import FAST_PHOENIX, live_feed, mismatches, truth, wait_for

from voki_tui.account import Account, AccountFeed
from voki_tui.api.tokens import TokenStore
from voki_tui.live import wire
from voki_tui.live.state import LinkState, SourceState
from voki_tui.settings import Settings
from voki_tui.sim import DEMO_EMAILS, DEMO_PASSWORD, DEMO_TENANT
from voki_tui.sim.testing import InProcessSim, running_sim
from voki_tui.testing.headless import Watch, check, poll, run_cli
from voki_tui.ui.app import VokiApp
from voki_tui.ui.widgets.status_bar import StatusBar

DEPARTMENTS = 150
SCHEMA = json.loads(
    (Path(__file__).parents[2] / "voki_tui" / "live" / "snapshot.schema.json").read_text()
)
#: First sync of 150 departments by a fresh CLI on a loaded 2-core machine.
SYNC_S = 60.0


def valid(document: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator(SCHEMA).validate(document)


@pytest.fixture(scope="module")
def sim() -> Iterator[InProcessSim]:
    """150 departments, 1,500 agents, paused: the truth holds still while it is compared."""
    with running_sim(
        seed=15, departments=DEPARTMENTS, agents=1500, paused=True, auth_rate_limit=1000
    ) as handle:
        yield handle


def test_snapshot_json_has_all_150_departments_live_and_equal_to_the_truth(
    sim: InProcessSim, tmp_path: Path
) -> None:
    result = run_cli("snapshot", sim, tmp_path, timeout=SYNC_S + 30, extra=["--timeout", "60"])
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    state = sim.state()
    valid(document)
    assert document["connection"]["state"] == "live"
    assert document["complete"] is True
    assert document["links"] == 4  # 301 topics, 100 a socket
    assert sorted(d["id"] for d in document["departments"]) == sorted(
        str(d["id"]) for d in state["departments"]
    )
    assert len(document["departments"]) == DEPARTMENTS
    assert {d["access"] for d in document["departments"]} == {"granted"}
    assert all(d["complete"] and d["metrics"] for d in document["departments"])
    assert sum(len(d["waiting"]) for d in document["departments"]) > 0  # not trivially equal
    assert check(document, state).problems == []


def test_the_dashboard_shows_all_150_departments_live_and_equal_to_the_truth(
    sim: InProcessSim, tmp_path: Path
) -> None:
    import asyncio

    async def scenario() -> None:
        options = Settings(
            server=sim.url,
            tenant=DEMO_TENANT,
            email=DEMO_EMAILS["supervisor"],
            password=DEMO_PASSWORD,
            lang="en",
        )
        account = Account(options, TokenStore(tmp_path))
        app = VokiApp(options, account, AccountFeed(account, FAST_PHOENIX))
        try:
            async with app.run_test(size=(120, 40)) as pilot:

                def shown_live() -> bool:
                    if not app.screen_stack:  # not started yet
                        return False
                    bars = list(app.screen.query(StatusBar))
                    return (
                        app.snapshot is not None
                        and app.snapshot.connection.state is LinkState.LIVE
                        and bool(bars)
                        and bars[0].text.startswith(" ● live")
                        and not mismatches(sim, app.snapshot)
                    )

                await wait_for(shown_live, SYNC_S)
                await pilot.pause()
                snapshot = app.snapshot
                assert snapshot is not None and len(snapshot.departments) == DEPARTMENTS
                assert snapshot.links == 4
                for view in snapshot.departments:
                    assert (view.queue.state, view.presence.state) == (
                        SourceState.SYNCED,
                        SourceState.SYNCED,
                    ), view.department.id
                # The departments list shows each one's waiting count, as the truth has it.
                want = truth(sim.state())
                table: Any = app.screen.query_one("#departments-table")
                assert len(table.keys) == DEPARTMENTS
                waiting_column = [column.label for column in table.columns].index("Waiting")
                for ident, (waiting, _agents) in want.items():
                    shown = table.cells_of(ident)[waiting_column].text  # "▲ 12/10", "3/15", "3"
                    assert re.sub(r"^\W*|/\d+$", "", shown.strip()) == str(len(waiting))
        finally:
            await account.close()

    asyncio.run(scenario())


async def test_too_many_channels_joined_is_retried_on_another_socket(
    sim: InProcessSim, tmp_path: Path
) -> None:
    """The client believes 250 channels fit on a socket; the server allows 100, so 201 of
    the joins are refused "too many channels joined": each is retried elsewhere, none is
    shown as refused, and the board ends live and true."""
    async with live_feed(sim, tmp_path, max_channels=250) as run:
        seen_refused: set[str] = set()

        def settled() -> bool:
            snapshot = run.fresh()
            seen_refused.update(v.department.id for v in snapshot.departments if v.refused)
            return (
                snapshot.connection.state is LinkState.LIVE
                and all(view.complete for view in snapshot.departments)
                and not mismatches(sim, snapshot)
            )

        await wait_for(settled, SYNC_S, step=0.02)
        assert seen_refused == set()
        assert run.feed.pool.placement.limit <= 100  # learned from the refusals
        assert len(run.feed.pool.clients()) == 4


def test_watch_json_marks_departments_until_they_are_complete(
    sim: InProcessSim, tmp_path: Path
) -> None:
    with Watch(sim, tmp_path / "watch", extra=["--department", sim.department_ids()[0]]) as w:
        assert poll(lambda: (d := w.snapshot()) is not None and d["complete"], SYNC_S)
    first, last = w.first, w.snapshot()  # before any join was answered, and live
    assert first is not None and last is not None
    valid(first)
    valid(last)
    [pending] = first["departments"]
    assert (pending["complete"], pending["access"], pending["metrics"]) == (False, "pending", {})
    [done] = last["departments"]
    assert (done["complete"], done["access"]) == (True, "granted")
    assert done["metrics"]["waiting"] == len(done["waiting"])


def test_snapshot_marks_a_refused_department_and_exits_non_zero(
    sim: InProcessSim, tmp_path: Path
) -> None:
    """An attendant asks for a department that is not theirs: the server refuses its joins.
    The document says so ("access": "refused", no figures), and the exit code is 7."""
    attendant = sim.server.sim.world.user_by_email(DEMO_EMAILS["attendant"])
    assert attendant is not None
    other = next(i for i in sim.department_ids() if i not in attendant.department_ids)
    extra = ["--department", other, "--timeout", "60"]
    result = run_cli("snapshot", sim, tmp_path, role="attendant", extra=extra)
    assert result.returncode == 7, result.stderr
    assert "refused or incomplete" in result.stderr and other in result.stderr
    document = json.loads(result.stdout)
    valid(document)
    by_id = {d["id"]: d for d in document["departments"]}
    refused = by_id[other]
    assert (refused["access"], refused["complete"], refused["metrics"]) == ("refused", False, {})
    assert refused["sources"]["queue"]["state"] == "unauthorized"
    mine = [d for i, d in by_id.items() if i != other]
    assert mine and all(d["complete"] and d["access"] == "granted" for d in mine)
    assert document["complete"] is False


async def test_sockets_open_and_close_as_the_watched_departments_change(
    sim: InProcessSim, tmp_path: Path
) -> None:
    every = sim.department_ids()
    async with live_feed(sim, tmp_path, departments=tuple(every[:10])) as run:
        await run.converged(SYNC_S)
        assert len(run.feed.pool.clients()) == 1  # 21 topics: one socket suffices
        listed = {d.id: d for d in map(wire.department, await run.client.departments())}
        run.feed.watch([listed[i] for i in every])  # all 150: four sockets
        await wait_for(lambda: len(run.fresh().departments) == DEPARTMENTS, 5)
        await run.converged(SYNC_S)
        assert len(run.feed.pool.clients()) == 4
        assert sim.state()["sockets"] == 4
        run.feed.watch([listed[i] for i in every[-5:]])  # five left: back to one socket
        await run.converged(SYNC_S)
        assert len(run.feed.pool.clients()) == 1
        await wait_for(lambda: sim.state()["sockets"] == 1, 10)
        assert [v.department.id for v in run.fresh().departments] == every[-5:]
