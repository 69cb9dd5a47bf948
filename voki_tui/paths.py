"""Where voki-tui keeps its files: config (TOML), state (tokens, last login) and logs.

The platform's user directories come from platformdirs (app name ``voki-tui``). Setting
``VOKI_TUI_HOME`` puts all three under one directory instead (``config/``, ``state/``,
``log/``): tests point it at a temporary directory so they never touch the real home, and a
wall-monitor box can keep everything in one place. Nothing here creates a directory: the
writer that needs one creates it with the mode it needs (the token store wants 0700).
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "voki-tui"
HOME_ENV = "VOKI_TUI_HOME"


def _home() -> Path | None:
    raw = os.environ.get(HOME_ENV, "").strip()
    return Path(raw).expanduser() if raw else None


def config_dir() -> Path:
    """The user config dir (``config.toml`` lives here)."""
    home = _home()
    return home / "config" if home else platformdirs.user_config_path(APP_NAME)


def state_dir() -> Path:
    """The user state dir: stored refresh tokens and the last login's server/tenant/email."""
    home = _home()
    return home / "state" if home else platformdirs.user_state_path(APP_NAME)


def log_dir() -> Path:
    """The user log dir: the rotating log file (the terminal belongs to the UI)."""
    home = _home()
    return home / "log" if home else platformdirs.user_log_path(APP_NAME)
