"""The one way untrusted text reaches the screen, and the shared number/time formats.

Names, reasons, notification bodies and server messages come from other people. Textual's
``Label``/``Static``/``notify``/``DataTable`` parse markup in plain strings, and a terminal obeys
escape sequences, so a customer called ``[@click=app.quit]x`` or ``\\x1b]0;pwned\\x07`` could
crash the app, add click targets or retitle the terminal. Everything from outside therefore goes
through :func:`clean` (a safe ``str``), :func:`literal` (a ``rich.text.Text`` for table cells and
labels) or :func:`content` (a Textual ``Content``). None of them ever parses markup. The number
and duration formats are the figure table's (``voki_tui.live.figures``), re-exported here for
the widgets that show ages.

Control characters are made visible (``␛``, ``␇``…) rather than silently dropped, so an operator
can see that a name is odd; bidi overrides become ``�`` because they would reorder the text
around them; invisible format characters (zero-width spaces, joiners, BOM) are removed.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from functools import lru_cache

from rich.text import Text
from textual.content import Content

from voki_tui.live.figures import format_age, format_percent

__all__ = [
    "clean",
    "content",
    "format_age",
    "format_percent",
    "literal",
    "local_time",
    "mask_email",
    "mask_phone",
]

DEFAULT_MAX_LEN = 120
ELLIPSIS = "…"
REPLACEMENT = "\ufffd"

# Explicit embeddings/overrides/isolates and the implicit marks: all can reorder what surrounds
# them on screen (CVE-2021-42574 "Trojan Source").
_BIDI_CONTROLS = frozenset(
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
)
_WHITESPACE_CONTROLS = frozenset("\t\n\r\x0b\x0c\u2028\u2029\x85")


def _visible(char: str) -> str:
    """The character to show in place of ``char`` ("" to drop it)."""
    code = ord(char)
    if char in _WHITESPACE_CONTROLS:
        return " "
    if code < 0x20:
        return chr(0x2400 + code)  # Unicode "control pictures": ␀ … ␟ (␛ for ESC)
    if code == 0x7F:
        return "\u2421"  # ␡
    if 0x80 <= code <= 0x9F:  # C1 controls, including the 8-bit CSI (0x9b)
        return REPLACEMENT
    if char in _BIDI_CONTROLS:
        return REPLACEMENT
    category = unicodedata.category(char)
    if category == "Cs":  # lone surrogate from a bad JSON escape: unencodable
        return REPLACEMENT
    if category == "Cf":  # zero-width space/joiner, BOM, soft hyphen, tag characters
        return ""
    return char


@lru_cache(maxsize=8192)
def clean(value: str | None, max_len: int = DEFAULT_MAX_LEN) -> str:
    """``value`` as a single-line string safe for any terminal, at most ``max_len`` chars."""
    if not value:
        return ""
    raw = str(value)
    plain = raw.isprintable() and raw.isascii()
    safe = raw if plain else "".join(_visible(char) for char in raw)
    if max_len > 0 and len(safe) > max_len:
        safe = safe[: max(0, max_len - 1)] + ELLIPSIS
    return safe


def literal(value: object, *, style: str = "", max_len: int = DEFAULT_MAX_LEN) -> Text:
    """A ``rich.text.Text`` showing ``value`` literally (for DataTable cells and labels)."""
    return Text(clean(_as_str(value), max_len), style=style, no_wrap=True, overflow="ellipsis")


def content(value: object, *, max_len: int = DEFAULT_MAX_LEN) -> Content:
    """A Textual ``Content`` showing ``value`` literally (for Label/Static/border titles)."""
    return Content(clean(_as_str(value), max_len))


def _as_str(value: object) -> str | None:
    return None if value is None else str(value)


def local_time(moment: datetime | None, *, seconds: bool = False) -> str:
    """``moment`` in the machine's local time zone as ``HH:MM`` (or ``HH:MM:SS``)."""
    if moment is None:
        return "—"
    local = moment.astimezone()
    return local.strftime("%H:%M:%S" if seconds else "%H:%M")


MASK = "•"


def mask_email(value: str | None) -> str:
    """``ana.souza@example.com`` -> ``a•••@example.com``: who, not how to reach them."""
    if not value:
        return "—"
    local, at, domain = clean(value, 120).partition("@")
    return f"{local[:1]}{MASK * 3}{at}{domain}" if at else MASK * 3


def mask_phone(value: str | None) -> str:
    """``+55 11 99999-0000`` -> ``•••• 0000``: the last four digits only."""
    if not value:
        return "—"
    digits = [c for c in clean(value, 60) if c.isdigit()]
    return f"{MASK * 4} {''.join(digits[-4:])}" if len(digits) > 4 else MASK * 4
