"""UI test environment: no developer colour/theme settings leak in, times are UTC, English."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from voki_tui.ui import i18n


@pytest.fixture(autouse=True)
def clean_terminal_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Snapshots must not depend on who runs them (posting 1b23cf53: NO_COLOR greyed them)."""
    import os

    for name in list(os.environ):
        if name.startswith("TEXTUAL_SNAPSHOT"):  # the snapshot plugin's own plumbing
            continue
        if name.startswith("TEXTUAL_") or name in ("NO_COLOR", "COLORTERM", "FORCE_COLOR"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    i18n.set_language("en")
    monkeypatch.undo()
    time.tzset()
