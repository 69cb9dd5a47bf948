"""Which language the labels speak, chosen once per session.

Voki's own UI speaks Brazilian Portuguese (its default), English, Spanish and French. The
language is ``--lang``, else the one remembered with the stored session, else the user's Voki
locale, else ``LC_ALL``/``LC_MESSAGES``/``LANG``, else English; a fresh login chooses it once
and the session remembers it, so a restored session speaks as the login did. This module is
pure (no Textual) so the account can choose before any screen exists; ``voki_tui.ui.i18n``
holds the catalogs.
"""

from __future__ import annotations

import os

SUPPORTED = ("en", "pt-BR", "es", "fr")
DEFAULT = "en"


def N_(text: str) -> str:
    """Mark ``text`` for the catalogs where it is defined; the UI translates it where shown."""
    return text


def normalise(tag: str | None) -> str | None:
    """Map a locale such as ``pt_BR.UTF-8``, ``pt-br``, ``es_MX`` or ``fr`` to a supported
    language (None when it is none of them)."""
    if not tag:
        return None
    base = tag.split(".")[0].split("@")[0].replace("_", "-").lower()
    if base.startswith("pt"):
        return "pt-BR"
    if base.startswith("es"):
        return "es"
    if base.startswith("fr"):
        return "fr"
    if base.startswith("en") or base in ("c", "posix"):
        return "en"
    return None


def choose(*candidates: str | None) -> str:
    """The first supported language of ``candidates``, then of the environment, else English."""
    env = os.environ.get("LC_ALL") or os.environ.get("LC_MESSAGES") or os.environ.get("LANG")
    for candidate in (*candidates, env):
        language = normalise(candidate)
        if language is not None:
            return language
    return DEFAULT
