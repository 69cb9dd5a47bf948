"""What an SGR sequence does to a terminal's pen, and the shortest SGR from one pen to another.

Textual writes every segment's whole style after a reset (``ESC[0;38;5;131;48;5;233m``, 22
bytes); when only the foreground changed from the terminal's pen, ``ESC[38;5;131m`` (12 bytes)
has the same effect. To send that, the screen copy must know what each parameter sets rather
than keep the parameters as text: a ``Pen`` is the value of each attribute a cell is drawn
with (``SLOTS``), and two spellings of one pen are one pen, so a cell drawn in either compares
equal.

Only what every terminal of the xterm family agrees on is read: the attributes, their
resets, the 16 colours, ``38;5;n`` and ``38;2;r;g;b`` (and 48, 58). Anything else (``21``,
which is double underline on some terminals and bold off on others; colon sub-parameters;
a fraktur or font number) makes ``parse`` answer None, and the copy sends that sequence as it
is and no longer trusts its pen until the next reset.

Pure, no I/O; ``tests/ui/test_pen.py`` checks it and ``tests/ui/test_screen_copy.py`` judges
it on a terminal emulator.
"""

from __future__ import annotations

from typing import Final

Pen = tuple[str, ...]
"""One string per slot of ``SLOTS``: the parameters that set it ("" for the default)."""

SLOTS: Final = (
    "foreground",
    "background",
    "bold",
    "dim",
    "italic",
    "underline",
    "blink",
    "reverse",
    "conceal",
    "strike",
    "overline",
    "underline colour",
)
(
    _FG,
    _BG,
    _BOLD,
    _DIM,
    _ITALIC,
    _UNDERLINE,
    _BLINK,
    _REVERSE,
    _CONCEAL,
    _STRIKE,
    _OVERLINE,
    _UNDERLINE_COLOUR,
) = range(len(SLOTS))
DEFAULT: Final[Pen] = ("",) * len(SLOTS)

# The parameter that puts each slot back to its default. Bold and dim share theirs: 22 is
# "normal intensity", which ends both.
_OFF: Final = ("39", "49", "22", "22", "23", "24", "25", "27", "28", "29", "55", "59")

Change = tuple[int, str]
"""A slot and its new value; slot -1 is a reset of every slot."""

RESET: Final[Change] = (-1, "")
_SINGLE: Final[dict[str, tuple[Change, ...]]] = {
    "0": (RESET,),
    "1": ((_BOLD, "1"),),
    "2": ((_DIM, "2"),),
    "3": ((_ITALIC, "3"),),
    "4": ((_UNDERLINE, "4"),),
    "5": ((_BLINK, "5"),),
    "6": ((_BLINK, "6"),),
    "7": ((_REVERSE, "7"),),
    "8": ((_CONCEAL, "8"),),
    "9": ((_STRIKE, "9"),),
    "53": ((_OVERLINE, "53"),),
    "22": ((_BOLD, ""), (_DIM, "")),
    **{off: ((slot, ""),) for slot, off in enumerate(_OFF) if off != "22"},
    **{str(n): ((_FG, str(n)),) for n in (*range(30, 38), *range(90, 98))},
    **{str(n): ((_BG, str(n)),) for n in (*range(40, 48), *range(100, 108))},
}
_EXTENDED: Final = {"38": _FG, "48": _BG, "58": _UNDERLINE_COLOUR}


def parse(params: str) -> tuple[Change, ...] | None:
    """What ``ESC[{params}m`` changes, in order; None if it holds anything not read here."""
    fields = params.split(";")
    changes: list[Change] = []
    index = 0
    while index < len(fields):
        field = fields[index] or "0"  # an empty parameter is 0 (ECMA-48)
        single = _SINGLE.get(field)
        if single is not None:
            changes += single
            index += 1
            continue
        slot = _EXTENDED.get(field)
        if slot is None:
            return None
        mode = fields[index + 1] if index + 1 < len(fields) else ""
        count = 1 if mode == "5" else 3 if mode == "2" else 0  # an index, or red, green, blue
        values = fields[index + 2 : index + 2 + count]
        if not count or len(values) != count or not all(_is_byte(v) for v in values):
            return None
        changes.append((slot, ";".join((field, mode, *(str(int(v)) for v in values)))))
        index += 2 + count
    return tuple(changes)


def _is_byte(value: str) -> bool:
    return value.isdigit() and value.isascii() and int(value) <= 255


def apply(pen: Pen, changes: tuple[Change, ...]) -> Pen:
    """``pen`` after ``changes`` (from ``parse``)."""
    slots = list(pen)
    for slot, value in changes:
        if slot < 0:
            slots = list(DEFAULT)
        else:
            slots[slot] = value
    return tuple(slots)


def after(pen: Pen | None, params: str) -> Pen | None:
    """The pen after ``ESC[{params}m`` on ``pen`` (None: not known), or None when it is not
    known after it: parameters not read here, or added to a pen not known."""
    changes = parse(params)
    if changes is None:
        return None
    if RESET in changes:  # what came before it does not matter
        return apply(DEFAULT, changes)
    return None if pen is None else apply(pen, changes)


def difference(real: Pen, want: Pen) -> str:
    """The shortest SGR this reads that takes a terminal from ``real`` to ``want`` (``want !=
    real``): the slots that differ, each set or put back to its default, or a reset and every
    slot ``want`` sets, whichever is shorter."""
    codes: list[str] = []
    if (real[_BOLD] and not want[_BOLD]) or (real[_DIM] and not want[_DIM]):
        codes.append("22")  # ends both: the one still wanted is set again below
        real = (*real[:_BOLD], "", "", *real[_DIM + 1 :])
    for slot, (was, value) in enumerate(zip(real, want, strict=True)):
        if value == was:
            continue
        if not value:
            codes.append(_OFF[slot])
            continue
        if slot == _BLINK and was:  # 5 and 6 are one attribute on some terminals, two on others
            codes.append(_OFF[slot])
        codes.append(value)
    changed = f"\x1b[{';'.join(codes)}m"
    reset = from_unknown(want)
    return changed if len(changed) < len(reset) else reset


def from_unknown(want: Pen) -> str:
    """The SGR that gives a terminal ``want`` whatever its pen was: a reset and every slot set."""
    return f"\x1b[{';'.join(['0', *filter(None, want)])}m"
