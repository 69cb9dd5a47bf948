"""Key descriptions in the user's language.

Textual reads ``BINDINGS`` once per class, at import, when the language is not yet known (it
comes from ``--lang``, then the user's locale after login). Each node copies its class's
bindings when it is created; :func:`translate_bindings` replaces that copy with one whose
descriptions went through ``tr``, always from the English originals, so the footer and the key
panel speak the language chosen when the node was made (or when the app re-applies it).
"""

from __future__ import annotations

from dataclasses import replace
from weakref import WeakKeyDictionary

from textual.binding import BindingsMap
from textual.dom import DOMNode

from voki_tui.ui.i18n import tr

_ENGLISH: WeakKeyDictionary[DOMNode, BindingsMap] = WeakKeyDictionary()
"""Each node's bindings as first seen (English, including ones Textual adds at run time, such
as the command palette's key), so a second translation starts from the originals."""


def translate_bindings(node: DOMNode) -> None:
    """Give ``node`` its bindings with descriptions and tooltips in the current language."""
    originals = _ENGLISH.setdefault(node, node._bindings.copy())
    bindings = originals.copy()
    for key, entries in bindings.key_to_bindings.items():
        bindings.key_to_bindings[key] = [
            replace(
                binding,
                description=tr(binding.description) if binding.description else "",
                tooltip=tr(binding.tooltip) if binding.tooltip else "",
            )
            for binding in entries
        ]
    node._bindings = bindings
