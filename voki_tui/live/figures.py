"""The figure table: one rule per figure, read by every screen, the bell, the JSON and help.

"How bad is this figure" used to be decided in five places with three answers (the bell rang
at exactly ``max_wait_time`` while the tile showed amber; the department list showed ▲ where
the wallboard said ‼; ``max_queue_size`` 0 meant "always full" to one and "no limit" to
another). Here each figure is one row: its JSON key, its labels, its help line, and one
function that reads it from a ``DepartmentView`` at an instant into a :class:`Reading` (raw
value, text as shown, level, glyph, the count behind it, the limit it was judged against and
where that limit came from). Adding a figure is a row here and its test.

Levels, for every figure that has a limit:

- a wait (the longest, or one customer's) warns (▲) from half of ``max_wait_s`` and alerts (‼)
  from ``max_wait_s`` itself: reaching the limit is the breach;
- the queue warns from half of ``max_queue`` and alerts when it holds ``max_queue``;
- the service level warns when below its goal;
- agents available alert when someone waits and nobody is available.

A department's level is the worst of its *breach* figures (waiting and longest wait: what is
true now, not what happened in the last hour); the bell rings when it turns ALERT.

Pure: no Textual, no I/O; the text is English and the UI translates labels, never values.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import IntEnum

from voki_tui.language import N_
from voki_tui.live.rules import Limit, Origin, RuleConfig, Rules, resolve
from voki_tui.live.state import Department, DepartmentView

WARN_RATIO = 0.5
"""A wait or a queue at or past this share of its limit is a warning."""
NO_VALUE = "—"


class Level(IntEnum):
    """How bad a figure is; ordered so that ``max`` gives the worst."""

    OK = 0
    WARN = 1
    ALERT = 2

    @property
    def glyph(self) -> str:
        """The mark that says the level without colour (NO_COLOR, colour-blind viewers)."""
        return GLYPHS[self]

    @property
    def word(self) -> str:
        """The level's name in the JSON."""
        return self.name.lower()


GLYPHS = {Level.OK: " ", Level.WARN: "▲", Level.ALERT: "‼"}


def format_age(seconds: float | None) -> str:
    """A duration as ``m:ss`` under an hour and ``h:mm:ss`` from then on; ``—`` when unknown."""
    if seconds is None:
        return NO_VALUE
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"


def format_percent(ratio: float | None, *, floor: bool = False) -> str:
    """A ratio in [0, 1] as a whole percentage; ``—`` when there is nothing to divide.

    ``floor`` for a figure judged against a goal it must reach: 79.6 % rounded would read as
    the 80 % goal it misses, beside the mark that says it misses it."""
    if ratio is None:
        return NO_VALUE
    percent = ratio * 100
    return f"{math.floor(percent + 1e-9) if floor else round(percent):d}%"


def format_limit(key: str, value: float | None) -> str:
    """A limit as help shows it: ``3:00``, ``10``, ``80%``, or "none"."""
    if value is None:
        return "none"
    if key in ("max_wait_s", "sl_threshold_s"):
        return format_age(value)
    if key == "sl_goal":
        return format_percent(value)
    return str(int(value))


# -- the rules ---------------------------------------------------------------------------------


def rules_of(view_or_rules: DepartmentView | Rules) -> Rules:
    """The department's resolved limits; the server's values when none were resolved."""
    if isinstance(view_or_rules, Rules):
        return view_or_rules
    dep = view_or_rules.department
    if dep.rules is not None:
        return dep.rules
    return resolve(dep.id, dep.name, dep.max_wait_time, dep.max_queue_size, RuleConfig())


def with_rules(department: Department, config: RuleConfig) -> Department:
    """``department`` with its limits resolved, and the metrics' SL threshold set from them."""
    rules = resolve(
        department.id,
        department.name,
        department.max_wait_time,
        department.max_queue_size,
        config,
    )
    threshold = rules.sl_threshold_s.value
    return replace(
        department,
        rules=rules,
        sla_threshold_s=int(threshold) if threshold is not None else department.sla_threshold_s,
    )


def wait_level(seconds: float | None, max_wait_s: float | None) -> Level:
    """A wait against ``max_wait_s``: warn from half of it, alert from the limit itself."""
    if seconds is None or max_wait_s is None or max_wait_s <= 0:
        return Level.OK
    if seconds >= max_wait_s:
        return Level.ALERT
    if seconds >= max_wait_s * WARN_RATIO:
        return Level.WARN
    return Level.OK


def queue_level(waiting: int | None, max_queue: float | None) -> Level:
    """A queue length against ``max_queue``: warn from half of it, alert when full."""
    if waiting is None or max_queue is None or max_queue <= 0:
        return Level.OK
    if waiting >= max_queue:
        return Level.ALERT
    if waiting >= max_queue * WARN_RATIO:
        return Level.WARN
    return Level.OK


def goal_level(ratio: float | None, goal: float | None) -> Level:
    """A service level against its goal: a warning when below it."""
    if ratio is None or goal is None:
        return Level.OK
    return Level.WARN if ratio < goal else Level.OK


def longest_wait_s(view: DepartmentView, now: datetime) -> float | None:
    """The age of the oldest waiting customer at ``now`` (ticks between snapshots)."""
    if not view.waiting:
        return None
    return max(0.0, (now - min(c.queued_at for c in view.waiting)).total_seconds())


# -- the table ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reading:
    """One figure of one department at one instant."""

    key: str
    value: float | None  # the raw number (seconds, a count, a ratio); None: no data
    text: str  # as shown, without glyph: "4", "3:05", "75%", "—"
    level: Level = Level.OK
    detail: str = ""  # what stands behind it: "9/12" under a rate, "/10" after a count
    limit: Limit | None = None  # the threshold or goal it was judged against

    @property
    def glyph(self) -> str:
        return self.level.glyph

    @property
    def display(self) -> str:
        """The value with what stands behind it: ``4/10``, ``75% 9/12``, ``3:05``."""
        if not self.detail or self.value is None:
            return self.text
        return (
            self.text + self.detail if self.detail.startswith("/") else f"{self.text} {self.detail}"
        )


Reader = Callable[[DepartmentView, datetime, Rules], Reading]


@dataclass(frozen=True, slots=True)
class Figure:
    """One row of the table."""

    key: str  # the JSON key, and how screens ask for it
    label: str  # English; the UI translates it
    short: str  # the tile's label
    help: str  # help's definition line (English; translated by the UI)
    read: Reader
    breach: bool = False  # counts toward the department's level (frame, bell, order)


def _waiting(view: DepartmentView, now: datetime, rules: Rules) -> Reading:
    limit = rules.max_queue
    if view.queue.as_of is None and not view.waiting:  # not read yet: no figure, not a zero
        return Reading("waiting", None, NO_VALUE, limit=limit)
    count = len(view.waiting)
    detail = f"/{int(limit.value)}" if limit.value is not None else ""
    return Reading("waiting", count, str(count), queue_level(count, limit.value), detail, limit)


def _longest(view: DepartmentView, now: datetime, rules: Rules) -> Reading:
    seconds = longest_wait_s(view, now)
    limit = rules.max_wait_s
    level = wait_level(seconds, limit.value)
    return Reading("longest_wait_s", seconds, format_age(seconds), level, "", limit)


def _asa(view: DepartmentView, now: datetime, rules: Rules) -> Reading:
    seconds = view.metrics.asa_s if view.metrics is not None else None
    return Reading("asa_s", seconds, format_age(seconds))


def _service_level(view: DepartmentView, now: datetime, rules: Rules) -> Reading:
    metrics = view.metrics
    if metrics is None:
        return Reading("service_level", None, NO_VALUE, limit=rules.sl_goal)
    total = metrics.answered + metrics.abandoned_after_threshold
    ratio = metrics.service_level
    level = goal_level(ratio, rules.sl_goal.value)
    detail = f"{metrics.answered_within}/{total}"
    shown = format_percent(ratio, floor=True)
    return Reading("service_level", ratio, shown, level, detail, rules.sl_goal)


def _abandonment(view: DepartmentView, now: datetime, rules: Rules) -> Reading:
    metrics = view.metrics
    if metrics is None:
        return Reading("abandonment_rate", None, NO_VALUE)
    total = metrics.answered + metrics.abandoned
    ratio = metrics.abandonment_rate
    return Reading(
        "abandonment_rate", ratio, format_percent(ratio), detail=f"{metrics.abandoned}/{total}"
    )


def _available(view: DepartmentView, now: datetime, rules: Rules) -> Reading:
    metrics = view.metrics
    if metrics is None:
        return Reading("agents_available", None, NO_VALUE)
    count = metrics.agents_available
    level = Level.ALERT if view.waiting and not count else Level.OK
    return Reading("agents_available", count, str(count), level, f"/{metrics.agents_present}")


def _count(key: str, attribute: str) -> Reader:
    def read(view: DepartmentView, now: datetime, rules: Rules) -> Reading:
        if view.metrics is None:
            return Reading(key, None, NO_VALUE)
        count = int(getattr(view.metrics, attribute))
        return Reading(key, count, str(count))

    return read


FIGURES: tuple[Figure, ...] = (
    Figure(
        "waiting",
        N_("Waiting"),
        N_("Waiting"),
        N_("Waiting: customers in the queue now; ▲ from half of the queue limit, ‼ when full."),
        _waiting,
        breach=True,
    ),
    Figure(
        "longest_wait_s",
        N_("Longest wait"),
        N_("Longest"),
        N_(
            "Longest wait: now minus the oldest queued_at; ▲ from half of the wait limit, ‼ from "
            "the limit itself."
        ),
        _longest,
        breach=True,
    ),
    Figure(
        "asa_s",
        N_("ASA"),
        N_("ASA"),
        N_("ASA (average speed of answer): mean wait of the calls assigned in the window."),
        _asa,
    ),
    Figure(
        "service_level",
        N_("Service lvl"),
        N_("SL"),
        N_(
            "Service level: answered within T ÷ (answered + abandoned after T), in the window; "
            "▲ below its goal."
        ),
        _service_level,
    ),
    Figure(
        "abandonment_rate",
        N_("Abandoned"),
        N_("Aband."),
        N_("Abandonment: abandoned ÷ (assigned + abandoned), in the window."),
        _abandonment,
    ),
    Figure(
        "agents_available",
        N_("Agents free"),
        N_("Free"),
        N_("Agents free: available now, of those present; ‼ when someone waits and none is free."),
        _available,
    ),
    Figure(
        "agents_in_call",
        N_("In call"),
        N_("In call"),
        N_("In call: agents on a call now."),
        _count("agents_in_call", "agents_in_call"),
    ),
    Figure(
        "agents_away",
        N_("Away"),
        N_("Away"),
        N_("Away: agents away or paused now."),
        _count("agents_away", "agents_away"),
    ),
)
BY_KEY = {figure.key: figure for figure in FIGURES}


def read(key: str, view: DepartmentView, now: datetime) -> Reading:
    """One figure of ``view`` at ``now``."""
    return BY_KEY[key].read(view, now, rules_of(view))


def readings(view: DepartmentView, now: datetime) -> dict[str, Reading]:
    """Every figure of ``view`` at ``now``, by key, in the table's order."""
    rules = rules_of(view)
    return {figure.key: figure.read(view, now, rules) for figure in FIGURES}


def department_level(view: DepartmentView, now: datetime) -> Level:
    """The worst level of the department's breach figures."""
    rules = rules_of(view)
    return max(
        (figure.read(view, now, rules).level for figure in FIGURES if figure.breach),
        default=Level.OK,
    )


def worst_first_key(view: DepartmentView, now: datetime) -> tuple[int, float, int, str, str]:
    """Sort key putting breaches first, then the longest wait, then the longest queue."""
    longest = longest_wait_s(view, now) or 0.0
    level = department_level(view, now)
    return (-int(level), -longest, -len(view.waiting), view.department.name, view.department.id)


LIMITS: tuple[tuple[str, str], ...] = (
    ("max_wait_s", N_("wait limit")),
    ("max_queue", N_("queue limit")),
    ("sl_threshold_s", N_("SL threshold T")),
    ("sl_goal", N_("SL goal")),
)
"""The limits of :class:`Rules` as help lists them (attribute, English label)."""


def limits_of(view: DepartmentView) -> tuple[tuple[str, str, str, Origin], ...]:
    """(attribute, English label, value as shown, origin) of each of the department's limits."""
    rules = rules_of(view)
    shown = []
    for key, label in LIMITS:
        limit: Limit = getattr(rules, key)
        shown.append((key, label, format_limit(key, limit.value), limit.origin))
    return tuple(shown)
