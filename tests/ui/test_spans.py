"""``changed_span``: the columns outside it look the same before and after an update."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from rich.cells import cell_len

from voki_tui.ui.widgets.big_digits import glyph_width, render_lines
from voki_tui.ui.widgets.spans import ColumnSpan, changed_span, columns

FIGURES = st.text(alphabet="0123456789:.-—% /", max_size=7)


def drawn(text: str, width: int, scale: int) -> list[str]:
    """The rows ``text`` draws as at ``scale``, left-aligned and padded to ``width``."""
    return [row.ljust(width) for row in render_lines(text, scale)]


def glyph_columns(text: str, scale: int = 1) -> list[int]:
    return columns(text, lambda character: glyph_width(character, scale))


@given(FIGURES, FIGURES, st.integers(min_value=1, max_value=5))
def test_nothing_outside_the_span_of_big_digits_changes(old: str, new: str, scale: int) -> None:
    span = changed_span(old, new, lambda character: glyph_width(character, scale))
    width = max(glyph_columns(old, scale)[-1], glyph_columns(new, scale)[-1])
    before, after = drawn(old, width, scale), drawn(new, width, scale)
    if old and new:
        assert len(before) == len(after)
    if span is None:
        assert old == new
        return
    assert 0 <= span.start < span.end <= width
    for row_before, row_after in zip(before, after, strict=True):
        assert row_before[: span.start] == row_after[: span.start]
        assert row_before[span.end :] == row_after[span.end :]


def cells(text: str, width: int) -> list[str]:
    """One string per terminal cell (a wide character and its filler), padded to ``width``."""
    out: list[str] = []
    for character in text:
        out += [character] + [""] * (cell_len(character) - 1)
    return out + [" "] * (width - len(out))


@given(
    st.text(alphabet="ab1 2%/:çã漢字—", max_size=12),
    st.text(alphabet="ab1 2%/:çã漢字—", max_size=12),
)
def test_nothing_outside_the_span_of_a_text_line_changes(old: str, new: str) -> None:
    span = changed_span(old, new, cell_len)
    width = max(cell_len(old), cell_len(new))
    before, after = cells(old, width), cells(new, width)
    if span is None:
        assert old == new
        return
    assert 0 <= span.start < span.end <= width
    assert before[: span.start] == after[: span.start]
    assert before[span.end :] == after[span.end :]


def test_a_second_ticking_repaints_one_glyph() -> None:
    assert changed_span("3:05", "3:06", glyph_width) == ColumnSpan(10, 14)
    assert changed_span("0:59", "1:00", glyph_width) == ColumnSpan(0, 14)


def test_a_wider_value_repaints_to_its_new_end_and_a_narrower_one_blanks_the_old() -> None:
    assert changed_span("9", "10", glyph_width) == ColumnSpan(0, 8)
    assert changed_span("10", "9", glyph_width) == ColumnSpan(0, 8)
    assert changed_span("12", "123", glyph_width) == ColumnSpan(8, 12)
    assert changed_span("SL 85% 82/96", "SL 85% 83/97", cell_len) == ColumnSpan(8, 12)


def test_glyphs_are_three_pixels_and_a_gap_the_colon_one_and_a_gap() -> None:
    assert glyph_columns("1:0") == [0, 4, 6, 10]
    assert glyph_columns("1:0", 3) == [0, 12, 18, 30]
    assert glyph_columns("x5") == [0, 4, 8]  # outside the font: a blank digit
