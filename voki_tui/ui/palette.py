"""The command palette's own entries: each watched department's queue and agents, the
wallboard, the themes.

The app makes a :class:`PaletteCommands` each time the palette opens, from the departments
watched then, and hands it to Textual's ``CommandPalette`` beside Textual's own providers.
Department names are untrusted, and Textual's matcher highlights a hit by parsing it as markup
(``Matcher.highlight``), so hits are shown as literal ``Content``, without match highlighting.
An entry does what its key does: it posts the same intent, or runs the same action.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from textual.app import App
from textual.command import DiscoveryHit, Hit, Hits, SimpleCommand, SimpleProvider
from textual.content import Content
from textual.message import Message
from textual.screen import Screen

from voki_tui.live.state import Department
from voki_tui.ui import themes
from voki_tui.ui.i18n import tr
from voki_tui.ui.messages import OpenPresence, OpenQueue
from voki_tui.ui.text import clean

Intent = Callable[[str], Message]
"""A message for one department (``OpenQueue``, ``OpenPresence``)."""


def _post(app: App[Any], intent: Intent, department_id: str) -> Callable[[], None]:
    def post() -> None:
        app.post_message(intent(department_id))  # a new message each time

    return post


def _theme(app: App[Any], alias: str) -> Callable[[], None]:
    def switch() -> None:
        app.theme = themes.resolve(alias)

    return switch


def commands(app: App[Any], departments: Sequence[Department]) -> list[SimpleCommand]:
    """The entries, in the order discovered: per department its queue then its agents, the
    wallboard, then each theme."""
    entries: list[SimpleCommand] = []
    for dep in departments:
        name = clean(dep.name, 60)
        queue = tr("Open queue: {name}").format(name=name)
        presence = tr("Open presence: {name}").format(name=name)
        entries.append(SimpleCommand(queue, _post(app, OpenQueue, dep.id)))
        entries.append(SimpleCommand(presence, _post(app, OpenPresence, dep.id)))
    entries.append(SimpleCommand(tr("Toggle wallboard"), lambda: app.run_action("wallboard")))
    for alias in themes.ORDER:
        entries.append(SimpleCommand(tr("Theme: {name}").format(name=alias), _theme(app, alias)))
    return entries


class PaletteCommands(SimpleProvider):
    """voki-tui's palette entries, for the departments watched when the palette opened."""

    def __init__(self, screen: Screen[Any], departments: Sequence[Department]) -> None:
        self.entries = commands(screen.app, departments)
        super().__init__(screen, list(self.entries))

    async def discover(self) -> Hits:
        for entry in self.entries:
            yield DiscoveryHit(Content(entry.name), entry.callback)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for entry in self.entries:
            score = matcher.match(entry.name)
            if score > 0:
                yield Hit(score, Content(entry.name), entry.callback)
