"""Every setting, declared once: its type, default, help, and where it may come from.

A setting is a field of :class:`Settings` whose metadata (:func:`setting`) says which sources
may set it (command line, ``VOKI_<NAME>`` in the environment, the TOML config file) and how the
command line spells it. The argument parser (``voki_tui.cli``), the environment and file readers
below, ``--print-config`` and the README's option table all read these declarations, so a new
option is one field here plus its documentation.

Precedence: command line > environment > config file > defaults. The config file is TOML
(``config.toml`` in the user config dir, or ``--config PATH``) with the setting names, e.g.::

    server = "https://voki.example.com"
    tenant = "acme"
    email = "wall@acme.example"
    departments = ["3", "7"]
    wallboard = true
    password_file = "~/.config/voki-tui/password"

    [thresholds]            # every department, where the server gives no limit
    max_wait_s = 180
    sl_threshold_s = 20
    sl_goal_percent = 80

    [thresholds."Vendas"]   # one department, by id or name: wins over the server
    max_wait_s = 240

A password itself never comes from the file or the command line (it would sit in shell history
and ``ps``): it comes from ``VOKI_PASSWORD``, ``--password-file`` or ``--password-command``.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from voki_tui.language import SUPPORTED
from voki_tui.live.resync import RESYNC_EVERY_S
from voki_tui.live.rules import RuleConfig, RuleError, parse_rule_config

THEMES = ("dark", "light", "high-contrast")
COLOR_SYSTEMS = ("auto", "standard", "256", "truecolor", "none")
LANGUAGES = SUPPORTED
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")

NO_RULES = RuleConfig()
Source = Literal["cli", "env", "file"]
EVERYWHERE: frozenset[Source] = frozenset({"cli", "env", "file"})


class ConfigError(Exception):
    """A setting has a value we cannot use (the message names the setting and its source)."""


@dataclass(frozen=True, slots=True)
class Option:
    """How one setting is spelled and where it may come from."""

    help: str
    sources: frozenset[Source] = EVERYWHERE
    #: ``common`` options apply to every command; ``dashboard`` ones only to the dashboard.
    scope: Literal["common", "dashboard"] = "common"
    flag: str | None = None  # the long option, when it is not --<name-with-dashes>
    metavar: str | None = None
    choices: tuple[str, ...] | None = None
    secret: bool = False  # shown as "<set>" by --print-config
    bounds: tuple[float, float] | None = None  # inclusive range of a number

    def flag_for(self, name: str) -> str:
        return self.flag or "--" + name.replace("_", "-")


def setting(default: Any, help: str, **option: Any) -> Any:
    """A ``Settings`` field with its :class:`Option`."""
    return field(default=default, metadata={"option": Option(help=help, **option)})


def env_name(name: str) -> str:
    return f"VOKI_{name.upper()}"


@dataclass(frozen=True)
class Settings:
    """The merged settings of one run; the UI, the account and the headless commands read it."""

    server: str | None = setting(
        None, "Voki server URL, e.g. https://voki.example.com", metavar="URL"
    )
    tenant: str | None = setting(None, "tenant slug", metavar="SLUG")
    email: str | None = setting(None, "login email", metavar="EMAIL")
    departments: tuple[str, ...] = setting(
        (),
        "department id to watch (repeatable; environment: comma-separated): a supervisor "
        "watches only these, an attendant these besides the ones found through their calls",
        flag="--department",
        metavar="ID",
    )
    password: str | None = field(
        default=None,
        repr=False,
        metadata={
            "option": Option(
                help="the password, for unattended logins", sources=frozenset({"env"}), secret=True
            )
        },
    )
    password_file: str | None = setting(
        None,
        "read the password from the first line of this file (refused if group or others can "
        "read it)",
        metavar="PATH",
    )
    password_command: str | None = setting(
        None,
        "run this shell command and use the first line of its output as the password "
        "(e.g. 'pass show voki/wall')",
        metavar="CMD",
    )
    insecure: bool = setting(False, "do not verify TLS certificates (a warning stays on screen)")
    demo: bool = setting(
        False, "start an embedded voki-sim on loopback and log in as its supervisor"
    )
    log_level: str = setting("INFO", "log file level", choices=LOG_LEVELS, metavar="LEVEL")
    wallboard: bool = setting(
        False, "start at the wallboard: no chrome, no keyboard needed", scope="dashboard"
    )
    show_inactive: bool = setting(
        False,
        "show departments the server marks inactive on the wallboard (hidden by default)",
        scope="dashboard",
    )
    read_only: bool = setting(
        False,
        "refuse anything that changes server state or the session (log out)",
        scope="dashboard",
    )
    lang: str | None = setting(
        None,
        "label language (default: the one the stored session chose, then your Voki locale, "
        "then LANG)",
        scope="dashboard",
        choices=LANGUAGES,
    )
    theme: str = setting("dark", "colour theme", scope="dashboard", choices=THEMES)
    color_system: str = setting(
        "auto",
        "force the colour system (SSH often hides COLORTERM)",
        scope="dashboard",
        choices=COLOR_SYSTEMS,
    )
    raw_output: bool = setting(
        False,
        "send every changed line as Textual draws it (by default only the characters that "
        "changed are sent, as ncurses does: about a quarter of the bytes on a busy queue)",
        scope="dashboard",
    )
    bell: bool = setting(
        False, "ring the bell when a department crosses a threshold", scope="dashboard"
    )
    stale_after_s: float = setting(
        10.0,
        "seconds without live data before the figures are dimmed as stale",
        scope="dashboard",
        flag="--stale-after",
        metavar="SECONDS",
        bounds=(1.0, 3600.0),
    )
    resync_s: float = setting(
        RESYNC_EVERY_S,
        "while live, re-read each department's queue and presence this often, to repair "
        "what a lost event left wrong",
        flag="--resync-every",
        metavar="SECONDS",
        bounds=(10.0, 3600.0),
    )
    thresholds: RuleConfig = setting(  # noqa: RUF009 (RuleConfig is frozen)
        NO_RULES,
        "limits the figures are judged against: numbers are defaults for every department, a "
        'sub-table (by id or name) one department: [thresholds."Vendas"] max_wait_s = 240',
        sources=frozenset({"file"}),
    )
    show_contact: bool = setting(
        False,
        "show customers' email and phone in the queue's detail panel (masked by default)",
        scope="dashboard",
    )
    record: str | None = setting(
        None,
        "append every frame and REST answer the live feed receives, with when it came, to "
        "compressed files in this directory, for 'voki-tui replay' (never a token or a "
        "password; files 0600)",
        metavar="DIR",
    )
    record_max_mb: float = setting(
        100.0,
        "size cap of the --record directory, in megabytes: past it the oldest files go",
        flag="--record-max-mb",
        metavar="MB",
        bounds=(1.0, 1_000_000.0),
    )
    heartbeat_s: float | None = setting(
        None,
        "heartbeat interval and reply timeout of the live connection, in seconds (default "
        "15 + 15: a dead link is noticed within 30 s); for fault drills",
        sources=frozenset({"env"}),
        bounds=(0.5, 300.0),
    )

    def masked(self) -> dict[str, Any]:
        """The merged settings as ``--print-config`` shows them: secrets masked."""
        shown: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if option_of(f.name).secret:
                value = "<set>" if value else None
            elif f.name == "server" and value:
                value = mask_url(value)
            elif isinstance(value, tuple):
                value = list(value)
            elif isinstance(value, RuleConfig):
                value = value.as_dict()
            shown[f.name] = value
        return shown


def option_of(name: str) -> Option:
    option = Settings.__dataclass_fields__[name].metadata["option"]
    assert isinstance(option, Option)
    return option


def options() -> list[tuple[str, Option]]:
    """Every setting with its declaration, in declaration order."""
    return [(f.name, option_of(f.name)) for f in fields(Settings)]


def mask_url(url: str) -> str:
    """``https://user:pass@host/x`` -> ``https://***@host/x``: credentials never shown."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, f"***@{host}", parts.path, parts.query, parts.fragment))


def without_credentials(url: str) -> str:
    """``https://user:pass@host/x`` -> ``https://host/x`` (for a field the user may edit)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


# -- reading the layers ------------------------------------------------------------------------


def _type_of(name: str) -> str:
    default = Settings.__dataclass_fields__[name].default
    annotation = str(Settings.__dataclass_fields__[name].type)
    if isinstance(default, bool):
        return "bool"
    if isinstance(default, RuleConfig):
        return "rules"
    if isinstance(default, tuple):
        return "list"
    if "float" in annotation:
        return "float"
    return "str"


def _as_bool(raw: object) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(f"expected true or false, got {raw!r}")


def _coerce(name: str, raw: object) -> object:
    kind, option = _type_of(name), option_of(name)
    if kind == "bool":
        return _as_bool(raw)
    if kind == "rules":
        try:
            return parse_rule_config(raw)
        except RuleError as exc:
            raise ConfigError(str(exc)) from None
    if kind == "list":
        items = raw.split(",") if isinstance(raw, str) else raw
        if not isinstance(items, list | tuple):
            raise ConfigError("expected a list")
        return tuple(str(item).strip() for item in items if str(item).strip())
    if kind == "float":
        try:
            value = float(raw)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            value = float("nan")
        low, high = option.bounds or (float("-inf"), float("inf"))
        if not low <= value <= high:
            raise ConfigError(f"expected a number from {low:g} to {high:g}")
        return value
    if not isinstance(raw, str | int) or isinstance(raw, bool):
        raise ConfigError(f"expected text, got {type(raw).__name__}")
    value_text = str(raw)
    if option.choices is not None and value_text not in option.choices:
        raise ConfigError(f"expected one of {', '.join(option.choices)}, got {value_text!r}")
    return value_text


def _layer(source: Source, label: str, values: Mapping[str, object]) -> dict[str, object]:
    layer: dict[str, object] = {}
    for key, raw in values.items():
        name = key.replace("-", "_")
        known = name in Settings.__dataclass_fields__
        if not known or source not in option_of(name).sources:
            raise ConfigError(f"{label}: unknown setting {key!r}")
        try:
            layer[name] = _coerce(name, raw)
        except ConfigError as exc:
            raise ConfigError(f"{label}: {name}: {exc}") from None
    return layer


def read_file(path: Path) -> dict[str, object]:
    """The settings of a TOML config file; an absent file is an empty layer."""
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except (FileNotFoundError, NotADirectoryError):  # no such file: nothing configured
        return {}
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from None
    return _layer("file", str(path), data)


def read_env(env: Mapping[str, str]) -> dict[str, object]:
    """``VOKI_SERVER``, ``VOKI_DEPARTMENTS=3,7``, ``VOKI_PASSWORD`` … as declared."""
    values = {
        name: env[env_name(name)]
        for name, option in options()
        if "env" in option.sources and env_name(name) in env and env[env_name(name)] != ""
    }
    return _layer("env", "environment", values)


def merge(
    cli: Mapping[str, object], env: Mapping[str, str], file_layer: Mapping[str, object]
) -> Settings:
    """Apply the layers in precedence order; ``cli`` holds only the options actually given."""
    merged: dict[str, object] = {}
    merged.update(file_layer)
    merged.update(read_env(env))
    merged.update(_layer("cli", "command line", cli))
    settings = Settings(**merged)  # type: ignore[arg-type]
    sources = [s for s in ("password", "password_file", "password_command") if getattr(settings, s)]
    if len(sources) > 1:
        named = ", ".join(
            env_name(s) if s == "password" else option_of(s).flag_for(s) for s in sources
        )
        raise ConfigError(f"more than one password source ({named}): keep one")
    return settings


def default_config_path() -> Path:
    from voki_tui.paths import config_dir

    return config_dir() / "config.toml"


def load(cli: Mapping[str, object], config_path: Path | None = None) -> Settings:
    """Settings from the command line, the process environment and the config file."""
    path = config_path if config_path is not None else default_config_path()
    return merge(cli, os.environ, read_file(path))
