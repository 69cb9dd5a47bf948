"""Every department as a tile, worst first, in pages that rotate when they do not all fit.

Built for a wall monitor on a slow link: a fixed set of tile slots for the page (re-made only
on resize), tiles that repaint only what changed, and rotation driven by the app's one-second
``tick`` — no timer of its own and nothing that animates. Big digits when the terminal is large,
plain one-line figures at 80x24 (or as forced by ``compact``).

The worst-first order is re-made every ``ROTATE_EVERY`` (when a rotation cycle restarts, or on
one page every ``ROTATE_EVERY`` of its own), never per snapshot: at 100 events/s a live sort
swapped two tiles' departments on almost every snapshot, which repainted both whole tiles (about
40 a second) and left nothing readable on the wall. A breach still shows at once, in its tile.

A wall is read, not watched frame by frame: while snapshots keep coming it paints once a second,
with the tick that moves the ages. A snapshot after a quiet second is painted at once (a lone
event shows within a frame); one that follows a painted snapshot before the next tick only
replaces the pending one, which that tick paints. At 100 events/s the feed publishes 40
snapshots a second; painting each cost the terminal ~29 KB/s and the app a quarter of a core.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from datetime import datetime, timedelta

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Grid

from voki_tui.live.figures import worst_first_key
from voki_tui.live.state import Connection, DepartmentView, FeedSnapshot, LinkState
from voki_tui.resources import styles_dir
from voki_tui.ui.contract import LiveScreen
from voki_tui.ui.i18n import ntr, tr
from voki_tui.ui.text import local_time
from voki_tui.ui.widgets.status_bar import StatusBar, describe_age, describe_link
from voki_tui.ui.widgets.tile import DepartmentTile
from voki_tui.ui.widgets.title_line import TitleLine

ROTATE_EVERY = timedelta(seconds=10)
BIG_MIN_SIZE = (100, 30)
"""Terminal width and height from which tiles use big digits (when ``compact`` is None)."""
TILE_SIZE = {True: (34, 10), False: (26, 7)}
"""Minimum (width, height) of a tile, big and compact."""
CHROME_LINES = 2  # the heading line and the status bar
TILE_ASPECT = 3.2
"""The preferred width/height of a tile in cells (terminal cells are about twice as tall)."""
EMPTY_SLOT_COST = 1.0
"""How much an empty slot (as a share of the page) weighs against a worse tile shape."""


def grid_shape(
    width: int, height: int, big: bool, departments: int | None = None
) -> tuple[int, int]:
    """(columns, rows) of tiles for ``departments`` tiles in a ``width`` x ``height`` terminal.

    At most as many tiles as fit at their minimum size; among the grids that hold one page,
    the one whose tiles are closest to a comfortable shape (about twice as wide as tall in
    cells, i.e. a little wider than square on screen), with few empty slots. So four
    departments on a wall fill it as 2x2 instead of a thin strip along the top. Without a
    count (``None``) the grid is simply as many minimum-size tiles as fit.
    """
    tile_w, tile_h = TILE_SIZE[big]
    usable_h = max(1, height - CHROME_LINES)
    max_cols, max_rows = max(1, width // tile_w), max(1, usable_h // tile_h)
    if departments is None:
        return max_cols, max_rows
    per_page = min(max(1, departments), max_cols * max_rows)
    best: tuple[float, int, int] | None = None
    for cols in range(1, max_cols + 1):
        rows = -(-per_page // cols)
        if rows > max_rows or (cols - 1) * rows >= per_page:
            continue  # does not fit, or a whole column would stay empty
        aspect = (width / cols) / (usable_h / rows) / TILE_ASPECT
        empty = (cols * rows - per_page) / per_page
        score = abs(math.log(aspect)) + EMPTY_SLOT_COST * empty
        if best is None or score < best[0]:
            best = (score, cols, rows)
    assert best is not None  # the fewest columns that fit never leave one empty
    return best[1], best[2]


def totals(views: Sequence[DepartmentView]) -> list[str]:
    """``waiting 12 · free 5 · in call 7`` across ``views``: counts that change with events,
    never with the clock (a ticking total would repaint the heading every second)."""
    metrics = [view.metrics for view in views if view.metrics is not None]
    return [
        tr("waiting {n}").format(n=sum(len(view.waiting) for view in views)),
        tr("free {n}").format(n=sum(m.agents_available for m in metrics)),
        tr("in call {n}").format(n=sum(m.agents_in_call for m in metrics)),
    ]


def page_count(departments: int, per_page: int) -> int:
    return max(1, -(-departments // max(1, per_page)))


class WallboardScreen(LiveScreen):
    """Tiles of the chosen departments (every one in the snapshot when none are chosen);
    ``compact`` None chooses by terminal size."""

    CSS_PATH = str(styles_dir() / "wallboard.tcss")

    def __init__(
        self,
        compact: bool | None = None,
        *,
        department_ids: Sequence[str] = (),
        show_inactive: bool = False,
    ) -> None:
        super().__init__()
        self.compact = compact
        self.department_ids = tuple(department_ids)
        self.show_inactive = show_inactive
        self._hidden = 0  # inactive departments left out
        self._connection: Connection | None = None
        self.page = 0
        self.shape = (0, 0)
        self.big = False
        self._views: list[DepartmentView] = []
        self._now: datetime | None = None
        self._page_since: datetime | None = None
        """When the page (or, on one page, the order) was last changed by a tick."""
        self._tiles: list[DepartmentTile] = []
        self._reshaping = asyncio.Lock()
        self._title: TitleLine | None = None
        self._pending: FeedSnapshot | None = None
        """The newest snapshot not painted yet: the next tick paints it."""
        self._holding = False
        """Snapshots wait for the tick: one was painted since the last tick, or the last tick
        painted a pending one (see the module's docstring)."""

    @property
    def per_page(self) -> int:
        return self.shape[0] * self.shape[1]

    @property
    def pages(self) -> int:
        return page_count(len(self._views), self.per_page)

    def compose(self) -> ComposeResult:
        """The tile slots are made here, for the app's size, and handed their departments
        before the first paint (the app shows a snapshot to a screen before it is shown)."""
        yield TitleLine(id="wallboard-title")
        width, height = self.app.size
        self.big, self.shape = self._geometry(width, height)
        self.set_class(self.big, "-big")
        grid = Grid(id="wallboard-grid")
        grid.styles.grid_size_columns, grid.styles.grid_size_rows = self.shape
        self._tiles = [DepartmentTile(big=self.big) for _ in range(self.per_page)]
        self._fill()
        with grid:
            yield from self._tiles
        yield StatusBar(compact=True)

    def on_mount(self) -> None:
        self._title = self.query_one("#wallboard-title", TitleLine)
        self._heading()

    def _geometry(self, width: int, height: int) -> tuple[bool, tuple[int, int]]:
        """(big, grid shape) for a terminal of ``width`` x ``height``."""
        big = (
            width >= BIG_MIN_SIZE[0] and height >= BIG_MIN_SIZE[1]
            if self.compact is None
            else not self.compact
        )
        return big, grid_shape(width, height, big, len(self._views))

    async def on_resize(self, event: events.Resize) -> None:
        await self._reshape(event.size.width, event.size.height)

    def choose(self, department_ids: Sequence[str]) -> None:
        """Show these departments (all of them when empty) from the next snapshot on."""
        self.department_ids = tuple(department_ids)

    def _chosen(self, views: Sequence[DepartmentView]) -> Sequence[DepartmentView]:
        """The chosen departments' views, in the order they were chosen."""
        if not self.department_ids:
            return views
        by_id = {view.department.id: view for view in views}
        return [by_id[ident] for ident in self.department_ids if ident in by_id]

    # -- the contract ------------------------------------------------------------------------

    def show_snapshot(self, snapshot: FeedSnapshot) -> None:
        """Paint ``snapshot`` after a quiet second, else keep it (the newest only) for the
        next tick."""
        if self._holding and self.is_mounted:
            self._pending = snapshot
            return
        self._paint(snapshot)

    def _paint(self, snapshot: FeedSnapshot) -> None:
        self._pending = None
        self._holding = True
        if self._now is None or snapshot.taken_at > self._now:
            self._now = snapshot.taken_at
        now = self._now
        count = len(self._views)
        self._connection = snapshot.connection
        chosen = self._chosen(snapshot.departments)
        shown = [v for v in chosen if self.show_inactive or v.department.active]
        self._hidden = len(chosen) - len(shown)
        self._views = self._ordered(shown, now)
        if count != len(self._views) and self.is_mounted:
            # the grid follows the number of departments; re-made after this frame
            self.call_later(self._reshape, self.app.size.width, self.app.size.height)
        if self.page >= self.pages:
            self.page = 0
        self._fill()

    def tick(self, now: datetime) -> None:
        pending = self._pending
        self._now = now
        self._holding = False
        if pending is not None:  # still coming: the next ones wait for the next tick
            self._paint(pending)
        if self._page_since is None:
            self._page_since = now
        if now - self._page_since >= ROTATE_EVERY:
            self.page = (self.page + 1) % self.pages
            self._page_since = now
            if self.page == 0:  # a new cycle (or the one page again): worst first again
                self._views = self._ordered(self._views, now, resort=True)
            self._fill()
            return
        for tile in self._tiles:
            tile.tick(now)
        self._heading()

    def _ordered(
        self, views: Sequence[DepartmentView], now: datetime, *, resort: bool = False
    ) -> list[DepartmentView]:
        """Worst first when ``resort`` (or at the start); otherwise the order holds.

        Re-sorting on every snapshot in the middle of a cycle moves departments between pages,
        so one could be shown twice in a cycle and another never; on one page it moves tiles
        about many times a second. Departments new since the last sort go last, worst first.
        """
        if resort or not self._views:
            return sorted(views, key=lambda view: worst_first_key(view, now))
        rank = {view.department.id: index for index, view in enumerate(self._views)}
        known = sorted(
            (v for v in views if v.department.id in rank), key=lambda v: rank[v.department.id]
        )
        new = sorted(
            (v for v in views if v.department.id not in rank), key=lambda v: worst_first_key(v, now)
        )
        return known + new

    # -- layout ------------------------------------------------------------------------------

    async def _reshape(self, width: int, height: int) -> None:
        """Make one tile slot per grid cell; only when the shape or size class changes.

        Serialised: a resize and a change in the number of departments can both ask at once,
        and while the old slots are going and the new ones mounting, ``_fill`` has no tiles.
        """
        async with self._reshaping:
            big, shape = self._geometry(width, height)
            if shape == self.shape and big == self.big and self._tiles:
                return
            self.shape, self.big = shape, big
            self.set_class(big, "-big")
            grid = self.query_one("#wallboard-grid", Grid)
            grid.styles.grid_size_columns = shape[0]
            grid.styles.grid_size_rows = shape[1]
            self._tiles = []
            await grid.remove_children()
            tiles = [DepartmentTile(big=big) for _ in range(self.per_page)]
            await grid.mount_all(tiles)
            self._tiles = tiles
            if self.page >= self.pages:
                self.page = 0
            self._fill()

    def _fill(self) -> None:
        """Hand this page's departments to the tile slots and update the heading."""
        if not self._tiles:
            return
        now = self._now
        start = self.page * self.per_page
        shown = self._views[start : start + self.per_page]
        if now is not None:
            for index, tile in enumerate(self._tiles):
                tile.show(shown[index] if index < len(shown) else None, now)
        self._heading()

    def _heading(self) -> None:
        """The wall clock, the totals of the shown departments, the page; and, when the data
        is not live, the link state in the heading itself (reversed by the stylesheet), so a
        stale or ended session reads from across the room, not only in the status line."""
        title = self._title
        if title is None:  # not mounted yet
            return
        now = self._now
        parts = [tr("Wallboard")]
        if now is not None:
            parts.append(local_time(now))
        if self._views and now is not None:
            count = len(self._views)
            parts.append(ntr("{n} department", "{n} departments", count).format(n=count))
            parts += totals(self._views)
        elif not self._views:
            parts.append(tr("No departments"))
        if self._hidden:
            parts.append(
                ntr("{n} inactive hidden", "{n} inactive hidden", self._hidden).format(
                    n=self._hidden
                )
            )
        if self.pages > 1:
            parts.append(tr("page {n}/{total}").format(n=self.page + 1, total=self.pages))
        heading = " " + " · ".join(parts)
        connection = self._connection
        if connection is not None and now is not None and connection.state is not LinkState.LIVE:
            link = describe_link(connection, now)
            age = describe_age(connection, now)
            heading = f" {link}" + (f" · {age}" if age else "") + " ·" + heading
        title.show(Text(heading))
