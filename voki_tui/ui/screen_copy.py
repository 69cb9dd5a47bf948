"""A copy of what the terminal shows, so that what Textual writes again is not sent again.

Textual sends a changed region of a line from the start of the segment that holds it, each
line with a cursor move, its whole style and a reset: a wait ticking from 0:03 to 0:04 costs
43 bytes in 256 colours to change one character, 31 of them a second on a busy queue, which
put every screen over htop's bytes (BENCHMARKS.md). A terminal library such as ncurses keeps a
copy of the screen and sends only the cells that differ, with the shortest cursor moves and
style changes; ``ScreenCopy`` does that for Textual's output, between Textual and the terminal.

It is sans-I/O: ``feed(text)`` takes what Textual would write and returns text with the same
effect on a terminal that has been sent everything returned before. What it models it models
exactly (cursor moves, SGR styles, printable characters, line feeds, and modes that do not
touch the screen); anything else is passed through unchanged after the cursor and style are
brought to where Textual left them, and the copy forgets what it can no longer be sure of.
A cell is skipped only when the copy knows the terminal already shows that character in that
style, so a doubt costs bytes, never a wrong screen. At the end of each ``feed`` the terminal's
screen and pen, and its cursor unless hidden, are what Textual's own text would have left
(``tests/ui/test_screen_copy.py`` compares both on a terminal emulator).
"""

from __future__ import annotations

import re
from typing import Final

from rich.cells import cell_len

from voki_tui.ui import pen as sgr
from voki_tui.ui.pen import Pen

Glyph = tuple[str, Pen, int]
"""What one cell shows: a character, the pen it was drawn with, and its width (1 or 2). A
plain tuple: cells are compared by the hundred on every frame."""


class _Tail:
    """The right half of a wide character (the character is in the cell to its left).

    A wide glyph is skipped only when the cell after it is still its tail, and a tail alone
    is never skipped nor drawn again as it is, so drawing over one half of a wide character
    (which blanks the other half on some terminals and not on others) needs no more care."""


TAIL: Final = _Tail()
Cell = Glyph | _Tail | None
"""A cell of the copy: a glyph, the right half of a wide one, or None for not known."""

_TOKEN = re.compile(
    r"""
    (?P<csi>\x1b\[(?P<params>[0-?]*)(?P<inter>[ -/]*)(?P<final>[@-~]))
    | (?P<string>\x1b[\]PX^_].*?(?:\x07|\x1b\\))
    | (?P<esc>\x1b[ -/]*[0-~])
    | (?P<control>[\x00-\x1f\x7f-\x9f])
    | (?P<text>[^\x00-\x1f\x7f-\x9f]+)
    """,
    re.VERBOSE | re.DOTALL,
)
# Private modes that change neither the screen, the cursor's place nor the pen: cursor shown or
# blinking, line wrap (the copy never lets text wrap: it sends every last column, and text past
# it as it is), mouse reporting, focus events, bracketed paste, synchronised output, resize
# reports. Textual sets all of these as it starts.
_HARMLESS_MODES: Final = frozenset(
    {"7", "12", "25", "1000", "1002", "1003", "1004", "1005", "1006", "1015", "1016", "2004"}
    | {"2026", "2048"}
)
_PRIVATE_MARKERS: Final = frozenset("?><=")
_PRINTABLE_ASCII: Final = frozenset(map(chr, range(0x20, 0x7F)))
_MAX_NARROW_CHARACTERS: Final = 4096
"""Characters remembered as one cell wide, beyond which the rest are judged every time (a
stream of ever new characters must not grow the copy)."""
_MAX_REMEMBERED: Final = 256
"""Pens worked out from a pen and an SGR sequence, and switches between two pens, remembered
(Textual uses a few dozen styles); beyond that the memory starts again, so no stream can grow
it."""


class ScreenCopy:
    """The cells, cursor and pen a terminal of ``width`` x ``height`` shows, as far as known.

    Two cursors and two pens are kept: where Textual's text has put them (``_want``) and where
    the terminal has them after what was returned (``_real``). They differ between a skipped
    cell and the next character sent; at the end of every ``feed`` the pens agree again, and
    so do the cursors while the cursor is shown.
    """

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self._rows: list[list[Cell]] = []
        self._want_xy: tuple[int, int] | None = None
        self._want_pen: Pen | None = None
        self._real_xy: tuple[int, int] | None = None
        self._real_pen: Pen | None = None
        self._line_feeds = 0  # deferred: a cursor move usually follows and makes them moot
        # Shown until ``CSI ?25l``: then where it rests between frames does not matter (it is
        # moved where Textual put it before anything that could show it, or before text).
        self._cursor_shown = True
        # Set by scrolling margins, within which relative moves and line feeds act otherwise
        # than this models (and origin mode makes a cursor's place relative to them): from
        # then on everything is sent as it is.
        self._verbatim = False
        self._narrow_characters = set(_PRINTABLE_ASCII)
        self._pens_after: dict[tuple[Pen | None, str], Pen | None] = {}
        self._pens: dict[Pen, Pen] = {}
        self._pen_switches: dict[tuple[Pen, Pen], str] = {}
        self.forget_cells()

    def forget(self) -> None:
        """Know nothing of the terminal (after something else wrote to it, or a sequence this
        does not model): the next characters are all sent, and the cursor may be shown."""
        self.forget_cells()
        self._cursor_shown = True  # a restored or reset cursor is a shown one

    def forget_cells(self) -> None:
        """Know nothing of the screen, the cursor's place or the pen, only whether the cursor
        is shown (after a resize, or in case a message such as ``wall``'s was written over the
        screen): the next characters are all sent."""
        self._rows = self._unknown_rows()
        self._want_xy = self._real_xy = None
        self._want_pen = self._real_pen = None
        self._line_feeds = 0

    def _unknown_rows(self) -> list[list[Cell]]:
        return [[None] * self.width for _ in range(self.height)]

    def resize(self, width: int, height: int) -> None:
        """The terminal is now ``width`` x ``height``; what it shows is not known any more
        (terminals reflow or clear on a resize)."""
        self.width, self.height = width, height
        self.forget_cells()

    # -- the stream --------------------------------------------------------------------------

    def feed(self, data: str) -> str:
        """What to send instead of ``data``; the terminal ends in the same state either way."""
        out: list[str] = []
        position, end = 0, len(data)
        while position < end:
            if self._verbatim:
                out.append(data[position:])
                return "".join(out)
            # Every character starts a token (a lone ESC is a control), so this always matches.
            match = _TOKEN.match(data, position)
            assert match is not None
            position = match.end()
            kind = match.lastgroup
            if kind == "text":
                self._text(out, match.group())
            elif kind == "csi":
                self._csi(out, match)
            elif kind == "control":
                self._control(out, match.group())
            elif kind == "esc" and match.group() in ("\x1b=", "\x1b>"):  # keypad modes
                self._pass(out, match.group(), harmless=True)
            elif kind == "string" and match.group().startswith("\x1b]"):
                # An operating system command: a title, the pointer's shape, a colour of the
                # palette (cells keep their SGR pen, which is what the copy compares), the
                # clipboard. Textual sets the pointer's shape as the mouse moves.
                self._pass(out, match.group(), harmless=True)
            else:
                self._pass(out, match.group(), harmless=False)
        if self._line_feeds:
            self._flush_line_feeds(out)
        if self._cursor_shown:
            self._sync_cursor(out)
        self._sync_pen(out)
        return "".join(out)

    def _csi(self, out: list[str], match: re.Match[str]) -> None:
        sequence = match.group()
        params, inter, final = match.group("params", "inter", "final")
        # A private marker before the parameters makes another sequence of the same final.
        marker = params[:1] if params[:1] in _PRIVATE_MARKERS else ""
        if final == "m" and not inter and not marker:
            self._sgr(out, sequence, params)
        elif final == "H" and not inter and not marker:
            self._move_to(out, sequence, params)
        elif final in "hl" and not inter and marker == "?":
            modes = params[1:].split(";")
            self._pass(out, sequence, harmless=all(m in _HARMLESS_MODES for m in modes))
            if "25" in modes:
                self._cursor_shown = final == "h"
        elif final == "p" and inter == "$":  # a mode query: the terminal only answers
            self._pass(out, sequence, harmless=True)
        elif final == "u" and not inter and marker:
            # The kitty keyboard protocol's flags pushed, popped, set or asked for: keys only.
            self._pass(out, sequence, harmless=True)
        elif final == "r" and not inter and not marker:
            self._pass(out, sequence, harmless=False)
            self._verbatim = True  # scrolling margins
        else:
            self._pass(out, sequence, harmless=False)

    def _sgr(self, out: list[str], sequence: str, params: str) -> None:
        key = (self._want_pen, params)
        if key in self._pens_after:
            pen = self._pens_after[key]
        else:
            if len(self._pens_after) >= _MAX_REMEMBERED:
                self._pens_after.clear()
                self._pens.clear()
            pen = sgr.after(*key)
            # One object per pen, so that comparing cells drawn in it is an identity check.
            pen = self._pens_after[key] = None if pen is None else self._pens.setdefault(pen, pen)
        if pen is None:  # the terminal must see it as it is
            self._sync_pen(out)
            out.append(sequence)
            self._want_pen = self._real_pen = None
        else:
            self._want_pen = pen

    def _move_to(self, out: list[str], sequence: str, params: str) -> None:
        row, _, column = params.partition(";")
        try:
            y = int(row or "1") - 1
            x = int(column or "1") - 1
        except ValueError:  # a form this does not read: the terminal must see it as it is
            self._pass(out, sequence, harmless=False)
            return
        # the terminal keeps the cursor on the screen
        self._want_xy = (min(max(x, 0), self.width - 1), min(max(y, 0), self.height - 1))
        self._line_feeds = 0

    def _control(self, out: list[str], character: str) -> None:
        xy = self._want_xy
        if character == "\n" and xy is not None and xy[1] + self._line_feeds + 1 < self.height:
            self._line_feeds += 1  # no scrolling: only where the cursor goes is in doubt
            return
        if character == "\r" and xy is not None and not self._line_feeds:
            self._want_xy = (0, xy[1])
            return
        self._pass(out, character, harmless=character == "\x07")

    def _pass(self, out: list[str], sequence: str, *, harmless: bool) -> None:
        """Send ``sequence`` as it is. One that may touch the screen, the cursor or the pen goes
        after the terminal is brought to Textual's state, and the copy then forgets what it may
        have changed; a harmless one (a mode that touches none of them, a query, the bell) goes
        as it comes (a cursor it shows is put in its place when the ``feed`` ends)."""
        if not harmless:
            self._sync(out)
        out.append(sequence)
        if not harmless:
            self.forget()

    # -- characters --------------------------------------------------------------------------

    def _text(self, out: list[str], text: str) -> None:
        if self._line_feeds:
            self._flush_line_feeds(out)
        xy, pen = self._want_xy, self._want_pen
        # Nearly all of Textual's text: characters of one cell each, in a known place and pen,
        # within the line.
        if (
            xy is not None
            and pen is not None
            and xy[0] + len(text) <= self.width
            and self._all_narrow(text)
        ):
            self._narrow(out, text, xy[0], xy[1], pen)
            return
        for character in text:
            xy, pen = self._want_xy, self._want_pen
            width = cell_len(character)
            if (
                xy is None
                or width not in (1, 2)
                or xy[0] + width > self.width
                or not character.isprintable()
            ):
                self._raw(out, character, width)
                continue
            x, y = xy
            row = self._rows[y]
            glyph = None if pen is None else (character, pen, width)
            # The last column is always sent: it leaves the terminal's cursor waiting at the
            # end of the line, a state no cursor move can reach.
            if (
                glyph is not None
                and row[x] == glyph
                and (width == 1 or row[x + 1] is TAIL)
                and x + width < self.width
            ):
                self._want_xy = (x + width, y)
                continue
            self._sync(out)
            out.append(character)
            row[x] = glyph  # None: drawn in a pen not known
            if width == 2:
                row[x + 1] = TAIL if glyph is not None else None
            self._want_xy = self._real_xy = (x + width, y)

    def _all_narrow(self, text: str) -> bool:
        """Whether every character of ``text`` is printable and one cell wide, as ``_text``
        judges each one; the answer per character is kept (a screen uses few of them)."""
        characters = set(text)
        if characters <= self._narrow_characters:
            return True
        if not all(cell_len(c) == 1 and c.isprintable() for c in characters):
            return False
        if len(self._narrow_characters) < _MAX_NARROW_CHARACTERS:
            self._narrow_characters |= characters
        return True

    def _narrow(self, out: list[str], text: str, x: int, y: int, pen: Pen) -> None:
        """``text`` of one-cell characters at (``x``, ``y``) in ``pen``, within the line: the
        same rule as ``_text``'s cell by cell, with each run of differing cells sent whole."""
        row, cells, count = self._rows[y], [(c, pen, 1) for c in text], len(text)
        last = self.width - 1 - x  # the index in ``text`` of the last column, always sent
        same_up_to = min(count, last)  # cells before this may be skipped
        start = 0
        while start < count:
            # What is left is most often all as it was (a tick changes a cell or two of a line
            # Textual sends whole): compared at once, in C.
            if start < same_up_to and row[x + start : x + same_up_to] == cells[start:same_up_to]:
                start = same_up_to
            while start < count and start != last and row[x + start] == cells[start]:
                start += 1
            if start == count:
                break
            stop = start + 1
            while stop < count and (stop == last or row[x + stop] != cells[stop]):
                stop += 1
            self._want_xy = (x + start, y)
            self._sync(out)
            out.append(text[start:stop])
            row[x + start : x + stop] = cells[start:stop]
            self._real_xy = (x + stop, y)
            start = stop
        self._want_xy = (x + count, y)

    def _raw(self, out: list[str], character: str, width: int) -> None:
        """A character whose place or look is not known, or whose cells a terminal may count
        otherwise (a combining mark, a wide character at the edge): sent as it is, after which
        its line (or, if its place was not known, the whole screen) is not known either."""
        self._sync(out)
        out.append(character)
        xy = self._want_xy
        if xy is None or xy[0] + width >= self.width:
            self._rows = self._unknown_rows()
            self._want_xy = None
        else:
            self._rows[xy[1]] = [None] * self.width
            self._want_xy = (xy[0] + width, xy[1])
        self._real_xy = None

    # -- bringing the terminal to Textual's state --------------------------------------------

    def _flush_line_feeds(self, out: list[str]) -> None:
        """Line feeds followed by something other than a cursor move: send them where Textual
        did. The column they leave is the terminal's choice (its newline translation), so the
        cursor is not known afterwards; the cells are, as none scrolled."""
        feeds, self._line_feeds = self._line_feeds, 0
        self._sync(out)
        out.append("\n" * feeds)
        self._want_xy = self._real_xy = None

    def _sync(self, out: list[str]) -> None:
        if self._line_feeds:
            self._flush_line_feeds(out)
            return
        self._sync_cursor(out)
        self._sync_pen(out)

    def _sync_cursor(self, out: list[str]) -> None:
        want, real = self._want_xy, self._real_xy
        if want is None or want == real or want[0] >= self.width:
            return  # a cursor waiting at a line's end is only ever where the last cell was sent
        out.append(self._shortest_move(real, *want))
        self._real_xy = want

    def _shortest_move(self, real: tuple[int, int] | None, x: int, y: int) -> str:
        """The fewest bytes that take the terminal's cursor from ``real`` to (``x``, ``y``):
        an absolute move, relative steps, or the cells in between drawn again as they are."""
        best = f"\x1b[{y + 1}H" if x == 0 else f"\x1b[{y + 1};{x + 1}H"
        if real is None or real[0] >= self.width:  # not known, or waiting at a line's end
            return best
        rx, ry = real
        relative = _vertical(y - ry) + ("\r" if x == 0 else _horizontal(x - rx))
        if len(relative) < len(best):  # both ASCII: characters are bytes
            best = relative
        if y == ry and 0 < x - rx < len(best):  # rewriting one cell costs at least a byte
            same = self._same_cells(y, rx, x)
            if same is not None and len(same.encode()) < len(best):
                best = same
        return best

    def _same_cells(self, y: int, start: int, end: int) -> str | None:
        """The cells ``start`` to ``end`` of line ``y`` drawn again as they are, when all are
        known and narrow in the pen the terminal has: moving by rewriting them."""
        text: list[str] = []
        for cell in self._rows[y][start:end]:
            if not isinstance(cell, tuple) or cell[2] != 1 or cell[1] != self._real_pen:
                return None
            text.append(cell[0])
        return "".join(text)

    def _sync_pen(self, out: list[str]) -> None:
        want, real = self._want_pen, self._real_pen
        if want is None or want == real:
            return
        if real is None:
            out.append(sgr.from_unknown(want))
        else:
            switch = self._pen_switches.get((real, want))
            if switch is None:
                if len(self._pen_switches) >= _MAX_REMEMBERED:
                    self._pen_switches.clear()
                switch = self._pen_switches[real, want] = sgr.difference(real, want)
            out.append(switch)
        self._real_pen = want


def _vertical(count: int) -> str:
    """The cursor ``count`` lines down (up if negative), in its column. One line is an index
    (``ESC D``) or a reverse index (``ESC M``), which scroll only from the screen's last or
    first line, where no move here starts (no margins: see ``_verbatim``); more is CSI n B/A."""
    if count == 0:
        return ""
    if count in (1, -1):
        return "\x1bD" if count == 1 else "\x1bM"
    return f"\x1b[{count}B" if count > 0 else f"\x1b[{-count}A"


def _horizontal(count: int) -> str:
    """The cursor ``count`` cells right (left if negative), on its line. A few cells left are
    backspaces, one byte each; otherwise CSI n C/D."""
    if count == 0:
        return ""
    if -3 <= count < 0:
        return "\b" * -count
    final = "C" if count > 0 else "D"
    return f"\x1b[{final}" if abs(count) == 1 else f"\x1b[{abs(count)}{final}"
