"""ScreenCopy: what it sends has the same effect on a terminal as what Textual wrote.

The judge is a terminal emulator (pyte): one is fed Textual's text as it is, the other what
the copy makes of it, frame by frame, and after every frame both must show the same cells
(character, colours, attributes), the same pen, and the same cursor while it is shown.
Hypothesis writes the frames from Textual's vocabulary (cursor moves, styles, text with wide
and combining characters, line feeds) and from what it does not model (erases, relative moves,
saved cursors, titles, scrolling margins), on a small screen so frames overwrite each other
often; a recording of the real app's output, cut at random places, is the other input.
"""

from __future__ import annotations

import gzip
import itertools
from pathlib import Path

import pyte
from hypothesis import given, settings
from hypothesis import strategies as st
from textual.drivers.headless_driver import HeadlessDriver
from textual.drivers.linux_driver import LinuxDriver

from benchmarks.pty_meter import for_pyte
from voki_tui.ui.driver import FORGET_EVERY_S, Output, ScreenCopyDriver, driver_for
from voki_tui.ui.screen_copy import ScreenCopy

WIDTH, HEIGHT = 12, 6
DATA = Path(__file__).parent / "data"

STYLES = (
    "\x1b[0m",
    "\x1b[m",
    "\x1b[1m",
    "\x1b[22m",
    "\x1b[7m",
    "\x1b[0;4m",
    "\x1b[39;49m",
    "\x1b[38;5;253;48;5;233m",
    "\x1b[1;38;5;174;48;5;233m",
    "\x1b[38;2;10;20;30;48;2;200;100;0m",
    "\x1b[2m",
    "\x1b[22;1m",
    "\x1b[9;3m",
    "\x1b[38;5;131m",
    "\x1b[49m",
    "\x1b[0;5;48;5;17m",
    "\x1b[21m",  # not read (double underline or bold off, by terminal): sent as it is
)
MODES = (
    "\x1b[?25l",
    "\x1b[?25h",
    "\x1b[?2026h",
    "\x1b[?2026l",
    "\x1b[?1000;1006h",
    "\x1b[?2004l",
    "\x1b[?7l",
    "\x1b[?7h",
)
UNMODELLED = (
    "\x1b[2J",
    "\x1b[K",
    "\x1b[1K",
    "\x1b[2A",
    "\x1b[3C",
    "\x1b[L",
    "\x1b[P",
    "\x1b7",
    "\x1b8",
    "\x1b]0;title\x07",
    "\x08",
    "\t",
    "\x1b[?1049h",
    "\x1b[s",
    "\x1b[>25u",
    "\x1b[<u",
    "\x1b]22;default\x07",
    "\x1bD",
    "\x1bM",
    "\x1b[2;4r",
    "\x1b[?6h",
    "\x1b[?6l",
)
ALPHABET = "ab ─é中‼x\u0301"

moves = st.one_of(
    st.builds(lambda y, x: f"\x1b[{y};{x}H", st.integers(0, HEIGHT + 2), st.integers(0, WIDTH + 2)),
    st.builds(lambda y: f"\x1b[{y}H", st.integers(1, HEIGHT)),
    st.sampled_from(("\x1b[H", "\x1b[;5H", "\x1b[:2H")),
)
pieces = st.one_of(
    moves,
    moves,
    st.sampled_from(STYLES),
    st.text(alphabet=ALPHABET, min_size=1, max_size=WIDTH + 2),
    st.text(alphabet=ALPHABET, min_size=1, max_size=WIDTH + 2),
    st.sampled_from(("\n", "\n", "\r", "\x07")),
    st.sampled_from(MODES),
    st.sampled_from(UNMODELLED),
)
frames = st.lists(st.lists(pieces, max_size=14).map("".join), min_size=1, max_size=12)


class Terminal:
    """A pyte screen and the stream that feeds it."""

    def __init__(self, width: int, height: int) -> None:
        self.screen = pyte.Screen(width, height)
        self.stream = pyte.Stream(self.screen)

    def feed(self, text: str) -> None:
        self.stream.feed(for_pyte(text))

    def cells(self) -> list[list[tuple[object, ...]]]:
        buffer = self.screen.buffer
        return [
            [tuple(buffer[y][x]) for x in range(self.screen.columns)]
            for y in range(self.screen.lines)
        ]

    def cursor(self) -> tuple[int, int] | None:
        cursor = self.screen.cursor
        return None if cursor.hidden else (cursor.x, cursor.y)

    def pen(self) -> tuple[object, ...]:
        return tuple(self.screen.cursor.attrs)


def assert_same(frames_in: list[str], width: int, height: int) -> tuple[int, int]:
    """Feed ``frames_in`` to a terminal as they are and through a copy to another; they must
    agree after every frame. Returns (bytes in, bytes sent)."""
    plain, copied = Terminal(width, height), Terminal(width, height)
    copy = ScreenCopy(width, height)
    sent_in = sent_out = 0
    for number, frame in enumerate(frames_in):
        sent = copy.feed(frame)
        plain.feed(frame)
        copied.feed(sent)
        sent_in, sent_out = sent_in + len(frame.encode()), sent_out + len(sent.encode())
        context = f"frame {number}: {frame!r} sent as {sent!r}"
        assert copied.cells() == plain.cells(), context
        assert copied.pen() == plain.pen(), context
        assert copied.cursor() == plain.cursor(), context
    return sent_in, sent_out


@settings(max_examples=600, deadline=None)
@given(frames)
def test_the_terminal_shows_what_textual_wrote(frames_in: list[str]) -> None:
    assert_same(frames_in, WIDTH, HEIGHT)


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_a_recorded_session_cut_anywhere(data: st.DataObject) -> None:
    """The app's own output (the queue, from start, 100x30), cut at random places (even inside
    an escape sequence), shows the same as sent whole."""
    text = recorded("queue-100x30.txt.gz")
    cuts = sorted(data.draw(st.sets(st.integers(1, len(text) - 1), max_size=60)))
    bounds = [0, *cuts, len(text)]
    assert_same([text[a:b] for a, b in itertools.pairwise(bounds)], 100, 30)


def test_a_recorded_session_costs_less() -> None:
    """Frame by frame (as the driver gets them), the recorded queue and wallboard show the same
    through the copy for a fraction of the bytes: the ticks and row shifts it was made for."""
    for name in ("queue-100x30.txt.gz", "wallboard-100x30.txt.gz"):
        frames_in = recorded(name).split("\x00")
        sent_in, sent_out = assert_same(frames_in, 100, 30)
        assert sent_out < 0.6 * sent_in, (name, sent_in, sent_out)


def test_a_repeated_frame_sends_nothing_new() -> None:
    """Once the pen is known (after the first reset) and the cursor hidden, as Textual has
    them, a frame drawn again sends nothing at all."""
    frame = "\x1b[2;3H\x1b[38;5;253;48;5;233mWaiting 3:05\x1b[0m\n\x1b[3;3H\x1b[1mok\x1b[0m"
    copy = ScreenCopy(WIDTH + 8, HEIGHT)
    first = copy.feed("\x1b[?25l\x1b[0m" + frame)
    assert "Waiting 3:05" in first
    assert copy.feed(frame) == ""


def test_a_tick_sends_the_changed_character_and_a_short_move() -> None:
    copy = ScreenCopy(40, 10)
    lines = "".join(f"\x1b[{y};2H\x1b[38;5;253;48;5;233m     0:03\x1b[0m\n" for y in range(2, 8))
    copy.feed("\x1b[?25l\x1b[0m" + lines.rstrip("\n"))
    tick = copy.feed(lines.replace("0:03", "0:04").rstrip("\n"))
    # From the end of the last line: five lines up and back one cell, the pen, a 4; then for
    # each line below, down one (an index) and back one (a backspace): three bytes.
    pen = "\x1b[38;5;253;48;5;233m"
    assert tick == "\x1b[5A\b" + pen + "4" + "\x1bD\b4" * 5 + "\x1b[0m"


def test_a_style_switch_sends_only_what_changed() -> None:
    """Textual gives every segment its whole style after a reset; the terminal is sent only
    the attributes that differ from its pen, and a pen spelled another way is the same pen."""
    bold, red = "\x1b[0;38;5;253;48;5;233;1m", "\x1b[0;38;5;131;48;5;233m"
    copy = ScreenCopy(40, 10)
    copy.feed(f"\x1b[?25l\x1b[0m\x1b[1;1H{bold}ab{red}cd\x1b[0m")
    switch = copy.feed(f"\x1b[1;1H{bold}aX{red}Yd\x1b[0m")
    assert switch == "\b\b\b\x1b[38;5;253;48;5;233;1mX\x1b[22;38;5;131mY\x1b[0m"
    assert copy.feed("\x1b[1;1H\x1b[0;1;48;5;233;38;5;253maX\x1b[0m") == ""


def test_the_last_column_is_always_sent() -> None:
    """A character in the last column leaves the cursor waiting at the line's end (the next
    one wraps); only drawing that cell puts the terminal there, so it is never skipped."""
    ends = [f"\x1b[3;1H{n}\x1b[1;{WIDTH - 2}Habc" for n in "1234"]  # the cursor moved away first
    frames_in = ["\x1b[?25h\x1b[0m" + ends[0], ends[1], ends[2] + "x", ends[3] + "\x1b[?25l"]
    assert_same(frames_in, WIDTH, HEIGHT)


def test_a_resize_forgets_the_screen() -> None:
    copy = ScreenCopy(20, 5)
    frame = "\x1b[1;1Hhello"
    copy.feed(frame)
    copy.resize(30, 8)
    assert "hello" in copy.feed(frame)


def test_a_hidden_cursor_stays_hidden_when_the_cells_are_forgotten() -> None:
    """Textual hides the cursor once, as it starts. A resize or the minute's forgetting leaves
    it hidden, so a frame that ends elsewhere costs no move back; only a write the copy does
    not know (which might have restored a cursor) makes it settle the cursor again."""
    frame = "\x1b[1;1Hab\x1b[4;1H"  # Textual parks the cursor after drawing
    copy = ScreenCopy(20, 5)
    copy.feed("\x1b[?25l")
    copy.resize(30, 8)
    assert copy.feed(frame) == "\x1b[1Hab"
    copy.forget_cells()
    assert copy.feed(frame) == "\x1b[1Hab"
    copy.forget()
    assert copy.feed(frame) == "\x1b[1Hab\x1b[4H"


def test_what_touches_neither_cells_nor_cursor_keeps_the_copy() -> None:
    """The kitty keyboard flags Textual pushes and pops, and the pointer shape it sets as the
    mouse moves, are sent as they come; the screen stays known, so an unchanged frame sends
    nothing."""
    frame = "\x1b[0m\x1b[2;3H\x1b[1mQueue\x1b[0m"
    copy = ScreenCopy(20, 5)
    copy.feed("\x1b[?25l" + frame)
    for harmless in ("\x1b[>25u", "\x1b]22;default\x07", "\x1b[<u"):
        assert copy.feed(harmless + frame) == harmless


def recorded(name: str) -> str:
    """A recording of the app's output to its pty (``scripts/record_output.py``), as Textual
    wrote it: frames separated by NUL."""
    return gzip.decompress((DATA / name).read_bytes()).decode()


def test_the_copying_driver_replaces_only_textuals_linux_driver() -> None:
    """``--raw-output`` keeps Textual's driver; so does any other driver Textual chose (the
    web driver of ``voki-tui serve``, a headless one, one set through ``TEXTUAL_DRIVER``)."""
    assert driver_for(LinuxDriver, raw=False) is ScreenCopyDriver
    assert driver_for(LinuxDriver, raw=True) is LinuxDriver
    assert driver_for(HeadlessDriver, raw=False) is HeadlessDriver


def test_the_driver_output_sizes_forgets_and_falls_back() -> None:
    """``Output`` is the driver's write without the I/O: not a terminal, the text as it is; a
    new size or a minute past, the whole frame again; a failing copy, the text as it is for
    good (and logged)."""
    frame = "\x1b[0m\x1b[1;1H\x1b[1mWaiting 3:05\x1b[0m"
    output = Output()
    assert output.send(frame, None, 0.0) == frame
    assert "Waiting" in output.send("\x1b[?25l" + frame, (40, 10), 0.0)
    assert output.send(frame, (40, 10), FORGET_EVERY_S - 1) == ""
    assert "Waiting" in output.send(frame, (41, 10), FORGET_EVERY_S - 1)  # resized
    assert output.send(frame, (41, 10), 2 * FORGET_EVERY_S - 2) == ""
    assert "Waiting" in output.send(frame, (41, 10), 2 * FORGET_EVERY_S)  # a minute on
    assert output.screen_copy is not None
    output.screen_copy.feed = None  # type: ignore[assignment,method-assign]  # the copy breaks
    assert output.send(frame, (41, 10), 2 * FORGET_EVERY_S) == frame
    assert output.failed and output.send(frame, (41, 10), 3 * FORGET_EVERY_S) == frame
