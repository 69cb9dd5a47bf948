"""Settings: command line > environment (``VOKI_*``) > config file > defaults.

The config file is TOML (``config.toml`` in the user config dir, or ``--config PATH``) with the
same names as the long options, e.g.::

    server = "https://voki.example.com"
    tenant = "acme"
    email = "wall@acme.example"
    departments = ["3", "7"]
    wallboard = true
    theme = "high-contrast"

The password is never read from the file; it comes from ``VOKI_PASSWORD`` or the login form.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

THEMES = ("dark", "light", "high-contrast")
COLOR_SYSTEMS = ("auto", "standard", "256", "truecolor", "none")


class ConfigError(Exception):
    """The config file or an environment variable has a value we cannot use."""


@dataclass(frozen=True)
class Settings:
    server: str | None = None
    tenant: str | None = None
    email: str | None = None
    departments: tuple[str, ...] = ()
    wallboard: bool = False
    read_only: bool = False
    lang: str | None = None
    theme: str = "dark"
    color_system: str = "auto"
    bell: bool = False
    insecure: bool = False
    demo: bool = False
    password: str | None = field(default=None, repr=False)  # from VOKI_PASSWORD only

    def masked(self) -> dict[str, Any]:
        """The merged settings as ``--print-config`` shows them: secrets masked."""
        shown: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "password":
                value = "<set>" if value else None
            elif isinstance(value, tuple):
                value = list(value)
            shown[f.name] = value
        return shown


_BOOLS = {"wallboard", "read_only", "bell", "insecure", "demo"}
_CHOICES = {"theme": THEMES, "color_system": COLOR_SYSTEMS}
_NAMES = {f.name for f in fields(Settings)} - {"password"}


def _as_bool(name: str, raw: object) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(f"{name}: expected true or false, got {raw!r}")


def _coerce(name: str, raw: object) -> object:
    if name in _BOOLS:
        return _as_bool(name, raw)
    if name == "departments":
        items = raw.split(",") if isinstance(raw, str) else raw
        if not isinstance(items, list | tuple):
            raise ConfigError("departments: expected a list of ids")
        return tuple(str(item).strip() for item in items if str(item).strip())
    if not isinstance(raw, str | int):
        raise ConfigError(f"{name}: expected text, got {type(raw).__name__}")
    value = str(raw)
    choices = _CHOICES.get(name)
    if choices is not None and value not in choices:
        raise ConfigError(f"{name}: expected one of {', '.join(choices)}, got {value!r}")
    return value


def _layer(source: str, values: Mapping[str, object]) -> dict[str, object]:
    layer: dict[str, object] = {}
    for key, raw in values.items():
        name = key.replace("-", "_")
        if name not in _NAMES:
            raise ConfigError(f"{source}: unknown setting {key!r}")
        try:
            layer[name] = _coerce(name, raw)
        except ConfigError as exc:
            raise ConfigError(f"{source}: {exc}") from None
    return layer


def read_file(path: Path) -> dict[str, object]:
    """The settings of a TOML config file; an absent file is an empty layer."""
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from None
    return _layer(str(path), data)


def read_env(env: Mapping[str, str]) -> dict[str, object]:
    """``VOKI_SERVER``, ``VOKI_TENANT``, ``VOKI_DEPARTMENTS=3,7`` … (not ``VOKI_PASSWORD``)."""
    values = {name: env[f"VOKI_{name.upper()}"] for name in _NAMES if f"VOKI_{name.upper()}" in env}
    return _layer("environment", values)


def merge(
    cli: Mapping[str, object], env: Mapping[str, str], file_layer: Mapping[str, object]
) -> Settings:
    """Apply the layers in precedence order; ``cli`` holds only the options actually given."""
    merged: dict[str, object] = {}
    merged.update(file_layer)
    merged.update(read_env(env))
    merged.update(_layer("command line", cli))
    settings = Settings(**merged)  # type: ignore[arg-type]
    password = env.get("VOKI_PASSWORD") or None
    return replace(settings, password=password)


def default_config_path() -> Path:
    from voki_tui.paths import config_dir

    return config_dir() / "config.toml"


def load(cli: Mapping[str, object], config_path: Path | None = None) -> Settings:
    """Settings from the command line, the process environment and the config file."""
    path = config_path if config_path is not None else default_config_path()
    return merge(cli, os.environ, read_file(path))
