"""Which screen answers which key and intent, and the departments behind them.

The app owns the screen stack; this decides what goes on it. After a login it chooses the
departments to watch (``--department`` ids in order, else every visible one, each with its
limits resolved) and the first screen (the wallboard with ``--wallboard``, the queue when there
is one department, else the list). Then ``u`` and ``p`` open the queue or the agents of the
department under the list's cursor (else the current one), ``w`` toggles the wallboard of the
marked (else all) departments, ``escape`` on a board goes back to the list (never off a wall),
and screens are made with what they show: the queue with the contact option, the agents with
the app's status log and name lookups, the wallboard with its departments.

The department list and the wallboard are made once (per login, for the list) and kept
installed by the app under :data:`DEPARTMENTS` and :data:`WALLBOARD`, so their cursor, marks,
page and order survive a visit elsewhere; the queue and agents screens are made per visit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from textual.screen import Screen

from voki_tui.live.figures import with_rules
from voki_tui.live.state import Department, UserInfo
from voki_tui.live.timeline import StatusLog
from voki_tui.ports import DepartmentList
from voki_tui.settings import Settings
from voki_tui.ui.contract import LiveScreen
from voki_tui.ui.i18n import tr
from voki_tui.ui.lookups import Lookups
from voki_tui.ui.screens.departments import DepartmentsScreen
from voki_tui.ui.screens.presence import PresenceScreen

if TYPE_CHECKING:  # imported when first shown: most sessions never open one of them
    from voki_tui.ui.screens.queue import QueueScreen
    from voki_tui.ui.screens.wallboard import WallboardScreen

DEPARTMENTS = "departments"
WALLBOARD = "wallboard"

Destination = Screen[Any] | str
"""A screen to show, or the name of one the app keeps installed."""


class Unavailable(Exception):
    """No screen answers this key now; the message says why, to show as a warning."""


def select(visible: Sequence[Department], wanted: Sequence[str]) -> tuple[Department, ...]:
    """The departments to watch: ``--department`` ids in order, else all visible ones.

    An id given on the command line that the list does not contain is kept (by id): an
    attendant may not be allowed to list departments but still watch their own.
    """
    if not wanted:
        return tuple(visible)
    by_id = {d.id: d for d in visible}
    return tuple(by_id.get(dep_id, Department(id=dep_id, name=dep_id)) for dep_id in wanted)


class Navigation:
    """The watched departments, the current one, and the screens for keys and intents."""

    def __init__(self, options: Settings, statuses: StatusLog, lookups: Lookups) -> None:
        self.options = options
        self.statuses = statuses  # every agent's statuses since start, for the agents' panels
        self.lookups = lookups
        self.choices = DepartmentList(())
        self.current: str | None = None  # what u and p open outside the list
        self.wallboard_ids: tuple[str, ...] = ()
        self.with_members = False  # a supervisor sees a department's offline members
        self.list: DepartmentsScreen | None = None
        self.wall: WallboardScreen | None = None

    @property
    def watched(self) -> tuple[Department, ...]:
        return self.choices.departments

    def watch(self, user: UserInfo, listed: DepartmentList) -> tuple[Department, ...]:
        """After a login: the departments to watch, their limits resolved, all on the wall."""
        watched = tuple(
            with_rules(d, self.options.thresholds) if d.rules is None else d
            for d in select(listed.departments, self.options.departments)
        )
        self.with_members = user.role != "attendant"
        self.choices = replace(listed, departments=watched)
        self.current = watched[0].id if watched else None
        self.wallboard_ids = tuple(d.id for d in watched)
        if self.wall is not None:
            self.wall.choose(self.wallboard_ids)
        self.list = DepartmentsScreen(self.choices, user)
        return watched

    def first(self) -> Destination:
        """The screen a login lands on."""
        if self.options.wallboard:
            return self.wallboard()
        if len(self.watched) == 1:
            return self.queue(self.watched[0].id)
        return DEPARTMENTS

    # ----------------------------------------------------------------- screens

    def queue(self, department_id: str) -> QueueScreen:
        from voki_tui.ui.screens.queue import QueueScreen

        self.current = department_id
        return QueueScreen(department_id, show_contact=self.options.show_contact)

    def presence(self, department_id: str) -> PresenceScreen:
        self.current = department_id
        return PresenceScreen(
            department_id, self.statuses, self.lookups, with_members=self.with_members
        )

    def wallboard(self, department_ids: Sequence[str] = ()) -> WallboardScreen:
        """The wallboard (made once), showing ``department_ids`` if given, else the ones it
        was last given (all watched departments, after a login)."""
        from voki_tui.ui.screens.wallboard import WallboardScreen

        if department_ids:
            self.wallboard_ids = tuple(department_ids)
        if self.wall is None:
            self.wall = WallboardScreen(
                department_ids=self.wallboard_ids, show_inactive=self.options.show_inactive
            )
        else:
            self.wall.choose(self.wallboard_ids)
        return self.wall

    # ----------------------------------------------------------------- keys

    def department_for_keys(self, screen: Screen[Any]) -> str:
        """The department ``u`` and ``p`` open: the one under the list's cursor, else the
        current one."""
        highlighted = screen.highlighted_department() if isinstance(screen, LiveScreen) else None
        department_id = highlighted or self.current
        if department_id is None:
            raise Unavailable(tr("No department to show."))
        return department_id

    def toggle_wallboard(self, screen: Screen[Any]) -> Destination:
        """``w``: the wallboard, or back to the list from it (never off a wall)."""
        if screen is self.wall and not self.options.wallboard:
            return DEPARTMENTS
        return self.wallboard()

    def back(self, screen: Screen[Any]) -> Destination | None:
        """``escape`` on a board with nothing to close: the list (never off a wall)."""
        if self.options.wallboard or screen is self.list:
            return None
        return DEPARTMENTS
