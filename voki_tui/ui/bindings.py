"""Key descriptions in the user's language, translated where they are shown.

Textual reads ``BINDINGS`` once per class, at import, when the language is not yet known (it
comes from ``--lang``, then the user's locale after login). Everything that shows a key's
description (the footer, the key panel) reads it from the screen's ``active_bindings``, so
:class:`LocalisedKeys` answers that property with each binding's description and tooltip put
through ``tr``. The bindings themselves stay English: a language chosen after a screen was made
shows at its next ``refresh_bindings``, and no copy of Textual's binding maps is kept or
written.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TypeVar

from textual.binding import ActiveBinding, Binding
from textual.screen import ModalScreen, Screen

from voki_tui.language import N_
from voki_tui.ui.i18n import tr

ResultT = TypeVar("ResultT")

TEXTUAL_LABELS = (
    N_("Theme"),
    N_("Change the current theme"),
    N_("Quit the application as soon as possible"),
    N_("Keys"),
    N_("Show help for the focused widget and a summary of available keys"),
    N_("Hide the keys and widget help panel"),
    N_("Screenshot"),
    N_("Save an SVG 'screenshot' of the current screen"),
    N_("Maximize"),
    N_("Maximize the focused widget"),
    N_("Minimize"),
    N_("Minimize the widget and restore to normal size"),
    N_("palette"),
    N_("Copy selected text"),
    N_("Open the command palette"),
    N_("Close"),
)
"""Textual's own labels (its palette entries and keys), for the catalogs: shown through ``tr``
by ``VokiApp.get_system_commands`` and :class:`LocalisedKeys`."""


def localised(binding: Binding) -> Binding:
    """``binding`` with its description and tooltip in the current language."""
    return replace(
        binding,
        description=tr(binding.description) if binding.description else "",
        tooltip=tr(binding.tooltip) if binding.tooltip else "",
    )


class LocalisedKeys(Screen[ResultT]):
    """A screen whose footer and key panel speak the current language: every screen of the
    app derives from it (the app's default screen too), so the keys of the focused widget, the
    screen and the app are all shown translated."""

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        return {
            key: ActiveBinding(node, localised(binding), enabled, tr(tooltip) if tooltip else "")
            for key, (node, binding, enabled, tooltip) in super().active_bindings.items()
        }


class LocalisedModal(ModalScreen[ResultT], LocalisedKeys[ResultT]):
    """A modal screen whose keys speak the current language. ``ModalScreen`` comes first:
    Textual takes a screen's default CSS (the modal's see-through background) along the first
    base only."""
