"""Digits as big as their box allows, repainting only the glyph columns that changed.

A wallboard is read from 4 m: at 200x60 a tile is about 95x27 cells, and three-row digits used
a tenth of it. ``BigDigits`` draws a 3x5 pixel font with half blocks (``▀ ▄ █``, two pixels per
cell, so a pixel is about square) at an integer ``scale``: 3 rows at scale 1, 5 at 2, 8 at 3,
10 at 4... The tile picks one scale for both of its big figures (:func:`fit_scale`), from its
size, so "12" and "3:05" stay the same height side by side. A duration may draw its seconds
smaller (``seconds_scale``): they are what repaints every second, and the cells a tick
rewrites grow with the square of the scale.

Like Textual's ``Digits`` it shows a string, but its own size never follows its text. Each
character is its own ``Glyph`` widget: Textual writes a dirty line from the left edge of the
widget that owns it to the end of the change, so with one widget for the whole figure a tick of
"3:05" -> "3:06" wrote every row of "3:0" again before the "6" (about 1.8 KB per tile and second
at 200x60). Now it writes the rows of the "6" that differ from the "5". A new glyph shape
("9" -> "10", "—" -> "0:05") re-makes the glyph widgets: a layout pass of the figure's own
columns.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult, RenderResult
from textual.geometry import Region
from textual.widget import Widget

from voki_tui.ui.widgets.spans import changed_span

FONT: dict[str, tuple[str, ...]] = {
    "0": ("###", "#.#", "#.#", "#.#", "###"),
    "1": (".#.", "##.", ".#.", ".#.", "###"),
    "2": ("###", "..#", "###", "#..", "###"),
    "3": ("###", "..#", "###", "..#", "###"),
    "4": ("#.#", "#.#", "###", "..#", "..#"),
    "5": ("###", "#..", "###", "..#", "###"),
    "6": ("###", "#..", "###", "#.#", "###"),
    "7": ("###", "..#", "..#", "..#", "..#"),
    "8": ("###", "#.#", "###", "#.#", "###"),
    "9": ("###", "#.#", "###", "..#", "###"),
    ":": (".", "#", ".", "#", "."),
    "-": ("...", "...", "###", "...", "..."),
    "—": ("...", "...", "###", "...", "..."),
    "%": ("#.#", "..#", ".#.", "#..", "#.#"),
    " ": ("...", "...", "...", "...", "..."),
}
PIXEL_ROWS = 5
HALF_BLOCKS = {(False, False): " ", (True, False): "▀", (False, True): "▄", (True, True): "█"}


def glyph(character: str) -> tuple[str, ...]:
    """The pixel rows of one character; anything outside the font is a blank."""
    return FONT.get(character, FONT[" "])


def glyph_width(character: str, scale: int = 1) -> int:
    """Columns one character takes, with the one-pixel gap after it."""
    return (len(glyph(character)[0]) + 1) * scale


def text_width(text: str, scale: int) -> int:
    return sum(glyph_width(character, scale) for character in text)


def rows_for(scale: int) -> int:
    """Terminal rows the digits take at ``scale`` (two pixel rows per cell)."""
    return -(-PIXEL_ROWS * scale // 2)


def fit_scale(template: str, width: int, height: int) -> int:
    """The largest scale at which ``template`` fits ``width`` x ``height`` (0: not at all)."""
    scale = 0
    while text_width(template, scale + 1) <= width + scale + 1 and rows_for(scale + 1) <= height:
        scale += 1  # the trailing gap may hang over the edge
    return scale


def render_lines(text: str, scale: int) -> list[str]:
    """The terminal lines of ``text`` at ``scale``."""
    pixels: list[str] = []
    for row in range(PIXEL_ROWS):
        line = "".join(
            "".join(pixel * scale for pixel in glyph(character)[row]) + "." * scale
            for character in text
        )
        pixels.extend([line] * scale)
    if len(pixels) % 2:
        pixels.append("." * len(pixels[0]) if pixels else "")
    return [
        "".join(
            HALF_BLOCKS[(top == "#", bottom == "#")]
            for top, bottom in zip(pixels[y], pixels[y + 1], strict=True)
        )
        for y in range(0, len(pixels), 2)
    ]


class Glyph(Widget):
    """One character of a :class:`BigDigits`, repainting only its rows that changed; drawn
    ``pad`` blank rows down, so a smaller glyph sits on the figure's baseline."""

    DEFAULT_CSS = """
    Glyph { height: 1fr; }
    """

    def __init__(self, character: str, scale: int, pad: int = 0) -> None:
        super().__init__()
        self.character = character
        self.scale = scale
        self.pad = pad
        self.styles.width = glyph_width(character, scale)

    def show(self, character: str) -> None:
        """Show ``character`` (of the same width); repaint, row by row, the columns from the
        glyph's left edge to the last cell that differs."""
        if character == self.character:
            return
        old = render_lines(self.character, self.scale)
        new = render_lines(character, self.scale)
        self.character = character
        for y, (before, after) in enumerate(zip(old, new, strict=True)):
            span = changed_span(before, after, lambda _cell: 1)
            if span is not None:
                self.refresh(Region(0, self.pad + y, span.end, 1))

    def render(self) -> RenderResult:
        lines = [""] * self.pad + render_lines(self.character, self.scale)
        return Text("\n".join(lines), no_wrap=True, end="")


class BigDigits(Widget):
    """A string in the half-block font at ``scale``, one :class:`Glyph` per character; fills
    its box, left-aligned. With ``seconds_scale``, the part from the last ``:`` on (the
    seconds of ``m:ss`` or ``h:mm:ss``) is drawn at no more than that scale."""

    DEFAULT_CSS = """
    BigDigits { width: 1fr; height: 1fr; layout: horizontal; }
    """

    def __init__(
        self,
        value: str = "",
        *,
        scale: int = 1,
        seconds_scale: int | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.value = value
        self.scale = scale
        self.seconds_scale = seconds_scale

    def scales(self) -> list[int]:
        """The scale of each character of the value."""
        small = self.value.rfind(":")
        if self.seconds_scale is None or small < 0:
            return [self.scale] * len(self.value)
        tail = min(self.scale, self.seconds_scale)
        return [self.scale] * small + [tail] * (len(self.value) - small)

    def compose(self) -> ComposeResult:
        rows = rows_for(self.scale)
        for character, scale in zip(self.value, self.scales(), strict=True):
            yield Glyph(character, scale, rows - rows_for(scale))

    def set_scale(self, scale: int) -> None:
        if scale != self.scale:
            self.scale = scale
            self.refresh(recompose=True)

    def update(self, value: str) -> None:
        """Show ``value``: in place when every character keeps its width, else re-made."""
        if value == self.value:
            return
        same_shape = [glyph_width(c) for c in value] == [glyph_width(c) for c in self.value]
        self.value = value
        glyphs = list(self.query_children(Glyph))
        if same_shape and len(glyphs) == len(value):
            for glyph, character in zip(glyphs, value, strict=True):
                glyph.show(character)
        else:
            self.refresh(recompose=True)
