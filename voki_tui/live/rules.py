"""Where each department's thresholds and goals come from: the server, the config file, or us.

Attendants get 403 on ``/departments``, so the server's ``max_wait_time`` and
``max_queue_size`` never reach them; the service-level threshold and goal are not Voki settings
at all. So every limit a figure is judged against is resolved here, once per department, with
its origin, and the help page shows that origin beside the value:

1. ``config``: the config file's table for this department (by id, else by name);
2. ``server``: the department's own ``max_wait_time`` / ``max_queue_size``;
3. ``config``: the config file's defaults for every department;
4. ``default``: the built-in value (no wait or queue limit; SL 80 % within 60 s).

A limit of 0 (or less) means "no limit", from whichever source: a queue limited to 0 would be
full for ever, which no one configures on purpose.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from enum import StrEnum

SL_THRESHOLD_S = 60
"""The built-in service-level threshold T (voki-api.md section 6)."""
SL_GOAL = 0.8
"""The built-in service-level goal: 80 % of calls answered within T."""


class Origin(StrEnum):
    """Where a limit came from, as help and the JSON name it."""

    CONFIG = "config"
    SERVER = "server"
    DEFAULT = "default"


@dataclass(frozen=True, slots=True)
class Limit:
    """One resolved limit: its value (None: no limit) and where it came from."""

    value: float | None
    origin: Origin


@dataclass(frozen=True, slots=True)
class RuleSet:
    """Limits as the config file gives them (every one optional)."""

    max_wait_s: int | None = None
    max_queue: int | None = None
    sl_threshold_s: int | None = None
    sl_goal_percent: float | None = None


RULE_KEYS = tuple(f.name for f in fields(RuleSet))


class RuleError(ValueError):
    """A config table for thresholds that cannot be used; the message says which key."""


@dataclass(frozen=True, slots=True)
class RuleConfig:
    """The config file's ``[thresholds]`` table: defaults and per-department tables."""

    defaults: RuleSet = RuleSet()
    departments: tuple[tuple[str, RuleSet], ...] = ()  # (id or name, its limits)

    def for_department(self, department_id: str, name: str) -> RuleSet | None:
        tables = dict(self.departments)
        return tables.get(department_id) or tables.get(name)

    def as_dict(self) -> dict[str, object]:
        """For ``--print-config``: what the file said, in its own shape."""
        shown: dict[str, object] = _set_dict(self.defaults)
        for key, rules in self.departments:
            shown[key] = _set_dict(rules)
        return shown


@dataclass(frozen=True, slots=True)
class Rules:
    """Every limit of one department, resolved."""

    max_wait_s: Limit = Limit(None, Origin.DEFAULT)
    max_queue: Limit = Limit(None, Origin.DEFAULT)
    sl_threshold_s: Limit = Limit(SL_THRESHOLD_S, Origin.DEFAULT)
    sl_goal: Limit = Limit(SL_GOAL, Origin.DEFAULT)  # a ratio in (0, 1]


def _set_dict(rules: RuleSet) -> dict[str, object]:
    return {key: getattr(rules, key) for key in RULE_KEYS if getattr(rules, key) is not None}


def _positive(value: float | None) -> float | None:
    return value if value is not None and value > 0 else None


def resolve(
    department_id: str,
    name: str,
    server_max_wait_s: int | None,
    server_max_queue: int | None,
    config: RuleConfig,
) -> Rules:
    """The limits of one department (see the module docstring for the order)."""
    own = config.for_department(department_id, name) or RuleSet()
    defaults = config.defaults

    def pick(key: str, server: float | None, builtin: float | None) -> Limit:
        if getattr(own, key) is not None:
            return Limit(getattr(own, key), Origin.CONFIG)
        if server is not None:
            return Limit(server, Origin.SERVER)
        if getattr(defaults, key) is not None:
            return Limit(getattr(defaults, key), Origin.CONFIG)
        return Limit(builtin, Origin.DEFAULT)

    max_wait = pick("max_wait_s", server_max_wait_s, None)
    max_queue = pick("max_queue", server_max_queue, None)
    goal = pick("sl_goal_percent", None, SL_GOAL * 100)
    return Rules(
        max_wait_s=Limit(_positive(max_wait.value), max_wait.origin),
        max_queue=Limit(_positive(max_queue.value), max_queue.origin),
        sl_threshold_s=pick("sl_threshold_s", None, SL_THRESHOLD_S),
        sl_goal=Limit(None if goal.value is None else goal.value / 100, goal.origin),
    )


def _rule_set(table: Mapping[str, object], where: str) -> RuleSet:
    values: dict[str, float | int] = {}
    for key, raw in table.items():
        if key not in RULE_KEYS:
            raise RuleError(f"{where}: unknown key {key!r} (known: {', '.join(RULE_KEYS)})")
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise RuleError(f"{where}.{key}: expected a number, got {raw!r}")
        if key == "sl_goal_percent":
            if not 0 < raw <= 100:
                raise RuleError(f"{where}.{key}: expected a percentage above 0 and up to 100")
            values[key] = float(raw)
        else:
            if raw < 0 or raw != int(raw):
                raise RuleError(f"{where}.{key}: expected a whole number of 0 or more")
            if key == "sl_threshold_s" and raw == 0:
                raise RuleError(f"{where}.{key}: expected at least 1 second")
            values[key] = int(raw)
    return RuleSet(**values)  # type: ignore[arg-type]


def parse_rule_config(table: object) -> RuleConfig:
    """The ``[thresholds]`` table: numbers are the defaults, sub-tables one department each."""
    if not isinstance(table, Mapping):
        raise RuleError("expected a table, e.g. [thresholds] max_wait_s = 180")
    defaults = {key: value for key, value in table.items() if not isinstance(value, Mapping)}
    departments = tuple(
        (str(key), _rule_set(value, f"thresholds.{key}"))
        for key, value in table.items()
        if isinstance(value, Mapping)
    )
    return RuleConfig(_rule_set(defaults, "thresholds"), departments)
