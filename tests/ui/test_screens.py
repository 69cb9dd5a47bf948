"""Snapshot tests of the queue, presence and wallboard screens (frozen clock, fixed data).

Each screen runs alone in a tiny host app that does what ``VokiApp`` does for a ``LiveScreen``:
push it, hand it a snapshot, tick it with the frozen clock. Sizes: 80x24 and 160x50.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from textual.app import App
from textual.pilot import Pilot

from voki_tui.live.state import FeedSnapshot, SourceState
from voki_tui.testing.fakes import (
    DEPARTMENTS,
    T0,
    busy_views,
    customer,
    department,
    snapshot,
    stale,
    view,
)
from voki_tui.ui.contract import LiveScreen
from voki_tui.ui.screens.presence import PresenceScreen
from voki_tui.ui.screens.queue import QueueScreen
from voki_tui.ui.screens.wallboard import WallboardScreen


class ScreenHost(App[None]):
    """Pushes one live screen and feeds it like the real app: snapshot, then ticks."""

    def __init__(
        self, make: Callable[[], LiveScreen], snap: FeedSnapshot, now: datetime = T0
    ) -> None:
        super().__init__()
        self.make = make
        self.snap = snap
        self.now = now
        self.live: LiveScreen | None = None

    def on_mount(self) -> None:
        self.live = self.make()
        self.push_screen(self.live)
        self.live.show_snapshot(self.snap)
        self.live.tick(self.now)

    def advance(self, seconds: float) -> None:
        assert self.live is not None
        self.now += timedelta(seconds=seconds)
        self.live.tick(self.now)


def unauthorized_snapshot() -> FeedSnapshot:
    sales, *others = busy_views()
    refused = replace(sales, waiting=(), queue=replace(sales.queue, state=SourceState.UNAUTHORIZED))
    return snapshot([refused, *others])


def many_departments(count: int) -> FeedSnapshot:
    views = [
        view(
            department(f"d-{i:02d}", f"Departamento {i:02d}", max_wait_time=300),
            [customer(f"c-{i}", f"Cliente {i}", 10 * i, department_id=f"d-{i:02d}")],
        )
        for i in range(count)
    ]
    return snapshot(views)


def test_queue_busy_80x24(snap_compare: Callable[..., bool]) -> None:
    app = ScreenHost(lambda: QueueScreen("d-sales"), snapshot())
    assert snap_compare(app, terminal_size=(80, 24))


def test_queue_busy_160x50(snap_compare: Callable[..., bool]) -> None:
    app = ScreenHost(lambda: QueueScreen("d-sales"), snapshot())
    assert snap_compare(app, terminal_size=(160, 50))


def test_queue_empty(snap_compare: Callable[..., bool]) -> None:
    app = ScreenHost(lambda: QueueScreen("d-billing"), snapshot())
    assert snap_compare(app, terminal_size=(80, 24))


def test_queue_unauthorized(snap_compare: Callable[..., bool]) -> None:
    app = ScreenHost(lambda: QueueScreen("d-sales"), unauthorized_snapshot())
    assert snap_compare(app, terminal_size=(80, 24))


def test_queue_stale(snap_compare: Callable[..., bool]) -> None:
    def dim(pilot: Pilot[None]) -> None:
        pilot.app.screen.add_class("-stale")  # what the app does when the link is down

    app = ScreenHost(lambda: QueueScreen("d-sales"), stale(snapshot()))
    assert snap_compare(app, terminal_size=(80, 24), run_before=dim)


def test_presence_80x24(snap_compare: Callable[..., bool]) -> None:
    app = ScreenHost(lambda: PresenceScreen("d-sales"), snapshot())
    assert snap_compare(app, terminal_size=(80, 24))


def test_presence_unknown_status_160x50(snap_compare: Callable[..., bool]) -> None:
    app = ScreenHost(lambda: PresenceScreen("d-support"), snapshot())
    assert snap_compare(app, terminal_size=(160, 50))


def test_wallboard_big_160x50(snap_compare: Callable[..., bool]) -> None:
    app = ScreenHost(WallboardScreen, snapshot())
    assert snap_compare(app, terminal_size=(160, 50))


def test_wallboard_compact_80x24(snap_compare: Callable[..., bool]) -> None:
    app = ScreenHost(WallboardScreen, stale(snapshot()))
    assert snap_compare(app, terminal_size=(80, 24))


def test_wallboard_rotated_to_page_2(snap_compare: Callable[..., bool]) -> None:
    async def rotate(pilot: Pilot[None]) -> None:
        host = pilot.app
        assert isinstance(host, ScreenHost)
        host.advance(10)
        await pilot.pause()

    app = ScreenHost(WallboardScreen, many_departments(12))
    assert snap_compare(app, terminal_size=(80, 24), run_before=rotate)


def test_department_fixtures_cover_three_states() -> None:
    """Guard for the snapshots above: the fixture data has a breach, a calm and an empty queue."""
    sales, support, billing = busy_views()
    assert [v.department for v in (sales, support, billing)] == list(DEPARTMENTS)
    assert sales.waiting and support.waiting and not billing.waiting
