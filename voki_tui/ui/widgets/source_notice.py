"""What to say when a department's data cannot be shown, and how to mark stale data."""

from __future__ import annotations

from rich.text import Text

from voki_tui.live.state import Source, SourceState
from voki_tui.ui.i18n import tr
from voki_tui.ui.text import clean, local_time

STALE_GLYPH = "⚠"
FAILED = frozenset({SourceState.UNAUTHORIZED, SourceState.NOT_FOUND, SourceState.ERROR})


def failure_text(source: Source, what: str) -> str | None:
    """A plain sentence for a source that failed (``what``: "queue"/"presence"), else None."""
    kind = tr(what)
    if source.state is SourceState.UNAUTHORIZED:
        return tr(
            "You are not allowed to see this department ({what}): the server refused access."
        ).format(what=kind)
    if source.state is SourceState.NOT_FOUND:
        return tr("This department does not exist on the server ({what}).").format(what=kind)
    if source.state is SourceState.ERROR:
        detail = clean(source.detail, 80) or "?"
        return tr("Could not load this department ({what}): {detail}").format(
            what=kind, detail=detail
        )
    return None


def stale_marker(source: Source) -> Text:
    """`` ⚠ stale since 14:29`` for a stale source; empty otherwise."""
    if source.state is not SourceState.STALE:
        return Text()
    label = (
        tr("stale since {t}").format(t=local_time(source.as_of, seconds=True))
        if source.as_of is not None
        else tr("stale")
    )
    return Text(f" {STALE_GLYPH} {label}", style="bold")
