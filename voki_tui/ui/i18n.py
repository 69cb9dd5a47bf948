"""Labels in the session's language, from gettext catalogs.

English is the message id. The catalogs are ``voki_tui/locale/<ll_CC>/LC_MESSAGES/
voki_tui.po`` (the sources, kept in step with the code by ``python scripts/catalogs.py``, which
extracts with Babel and compiles) and the compiled ``.mo`` beside each, shipped in the wheel and
read with the standard library's ``gettext``. A missing translation shows the English, so a gap
is visible, not fatal. Counts go through :func:`ntr` (``1 departamento``, ``2 departamentos``).
"""

from __future__ import annotations

import gettext
from functools import cache
from pathlib import Path

from voki_tui.language import DEFAULT, SUPPORTED, choose, normalise

__all__ = ["SUPPORTED", "choose", "language", "normalise", "ntr", "set_language", "tr"]

DOMAIN = "voki_tui"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
CATALOG_NAMES = {"pt-BR": "pt_BR", "es": "es", "fr": "fr"}
"""The catalog directory of each language but English (the message ids)."""


@cache
def catalog(language: str) -> gettext.NullTranslations:
    """The translations of ``language``; English (or a missing catalog) translates nothing."""
    name = CATALOG_NAMES.get(language)
    if name is None:
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, LOCALE_DIR, [name], fallback=True)


_language = DEFAULT
_current = catalog(DEFAULT)


def set_language(language: str) -> None:
    global _language, _current
    _language = language if language in SUPPORTED else DEFAULT
    _current = catalog(_language)


def language() -> str:
    return _language


def tr(text: str) -> str:
    """The current language's label for the English ``text`` ("" stays "": gettext would
    answer the catalog's header)."""
    return _current.gettext(text) if text else text


def ntr(singular: str, plural: str, count: int) -> str:
    """The current language's label for ``count`` of something, with its plural rule."""
    return _current.ngettext(singular, plural, count)
