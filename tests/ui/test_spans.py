"""``changed_span``: the columns outside it look the same before and after an update."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.renderables.digits import Digits as DigitsRenderable

from voki_tui.ui.widgets.big_digits import glyph_width
from voki_tui.ui.widgets.spans import ColumnSpan, changed_span, columns

FIGURES = st.text(alphabet="0123456789:.-—% /", max_size=7)


def drawn(text: str, width: int) -> list[str]:
    """The three rows ``text`` draws as, left-aligned and padded to ``width``."""
    segments = DigitsRenderable(text).render(Style())
    rows = "".join(s.text for s in segments if isinstance(s, Segment)).split("\n")[:3]
    return [row.ljust(width) for row in rows]


def glyph_columns(text: str) -> list[int]:
    return columns(text, glyph_width)


@given(FIGURES, FIGURES)
def test_nothing_outside_the_span_of_big_digits_changes(old: str, new: str) -> None:
    span = changed_span(old, new, glyph_width)
    width = max(glyph_columns(old)[-1], glyph_columns(new)[-1])
    before, after = drawn(old, width), drawn(new, width)
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
    assert changed_span("3:05", "3:06", glyph_width) == ColumnSpan(9, 12)
    assert changed_span("0:59", "1:00", glyph_width) == ColumnSpan(0, 12)


def test_a_wider_value_repaints_to_its_new_end_and_a_narrower_one_blanks_the_old() -> None:
    assert changed_span("9", "10", glyph_width) == ColumnSpan(0, 6)
    assert changed_span("10", "9", glyph_width) == ColumnSpan(0, 6)
    assert changed_span("12", "123", glyph_width) == ColumnSpan(6, 9)
    assert changed_span("SL 85% 82/96", "SL 85% 83/97", cell_len) == ColumnSpan(8, 12)


def test_digits_are_three_columns_and_other_characters_one() -> None:
    assert glyph_columns("1:0") == [0, 3, 6, 9]
    assert glyph_columns("—5") == [0, 1, 4]
