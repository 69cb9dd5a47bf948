"""Labels in English and Brazilian Portuguese.

English text is the key. Each UI module registers its own Portuguese strings next to the code
that uses them (``register("pt-BR", {...})`` at import), so a screen and its translations change
together. ``tr`` falls back to the English text, so a missing translation is visible, not fatal.
"""

from __future__ import annotations

import os

SUPPORTED = ("en", "pt-BR")

_catalogues: dict[str, dict[str, str]] = {"en": {}, "pt-BR": {}}
_language = "en"


_conflicts: list[tuple[str, str, str, str]] = []


def register(language: str, strings: dict[str, str]) -> None:
    """Add translations for ``language``; later registrations win for the same key.

    The catalogue is one flat namespace, so two modules giving the same English text different
    translations would silently change each other's labels: such clashes are recorded (see
    :func:`conflicts`) so a test can refuse them.
    """
    catalogue = _catalogues.setdefault(language, {})
    for key, value in strings.items():
        known = catalogue.get(key)
        if known is not None and known != value:
            _conflicts.append((language, key, known, value))
        catalogue[key] = value


def conflicts() -> tuple[tuple[str, str, str, str], ...]:
    """(language, English, first translation, later translation) of every clash so far."""
    return tuple(_conflicts)


def normalise(tag: str | None) -> str | None:
    """Map a locale such as ``pt_BR.UTF-8``, ``pt-br`` or ``pt`` to a supported language."""
    if not tag:
        return None
    base = tag.split(".")[0].split("@")[0].replace("_", "-").lower()
    if base.startswith("pt"):
        return "pt-BR"
    if base.startswith("en") or base in ("c", "posix"):
        return "en"
    return None


def choose(cli: str | None, user_locale: str | None) -> str:
    """``--lang``, else the user's locale from ``/users/me``, else ``LANG``, else English."""
    env = os.environ.get("LC_ALL") or os.environ.get("LC_MESSAGES") or os.environ.get("LANG")
    for candidate in (cli, user_locale, env):
        language = normalise(candidate)
        if language is not None:
            return language
    return "en"


def set_language(language: str) -> None:
    global _language
    _language = language if language in _catalogues else "en"


def language() -> str:
    return _language


def tr(text: str) -> str:
    """The current language's label for the English ``text``."""
    if _language == "en":
        return text
    return _catalogues.get(_language, {}).get(text, text)
