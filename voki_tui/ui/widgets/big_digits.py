"""Digits as big as their box allows, repainting only the glyph columns that changed.

A wallboard is read from 4 m: at 200x60 a tile is about 95x27 cells, and three-row digits used
a tenth of it. ``BigDigits`` draws a 3x5 pixel font with half blocks (``▀ ▄ █``, two pixels per
cell, so a pixel is about square) at an integer ``scale``: 3 rows at scale 1, 5 at 2, 8 at 3,
10 at 4... The tile picks one scale for both of its big figures (:func:`fit_scale`), from its
size, so "12" and "3:05" stay the same height side by side.

Like Textual's ``Digits`` it shows a string, but its size never follows its text (no layout
pass when "9" becomes "10") and ``update`` marks dirty only the columns between the first and
the last glyph that differ: "3:05" -> "3:06" repaints one glyph.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import RenderResult
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


class BigDigits(Widget):
    """A string in the half-block font at ``scale``; fills its box, never re-lays it out."""

    DEFAULT_CSS = """
    BigDigits { width: 1fr; height: 1fr; }
    """

    def __init__(self, value: str = "", *, scale: int = 1, id: str | None = None) -> None:
        super().__init__(id=id)
        self.value = value
        self.scale = scale

    def set_scale(self, scale: int) -> None:
        if scale != self.scale:
            self.scale = scale
            self.refresh()

    def update(self, value: str) -> None:
        """Show ``value``; repaint only the columns whose glyphs changed."""
        scale = self.scale
        span = changed_span(self.value, value, lambda c: glyph_width(c, scale))
        if span is None:
            return
        self.value = value
        self.refresh(Region(span.start, 0, span.end - span.start, rows_for(scale)))

    def render(self) -> RenderResult:
        return Text("\n".join(render_lines(self.value, self.scale)), no_wrap=True, end="")
