"""``changed_span``: the columns outside it look the same before and after an update."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from rich.segment import Segment
from rich.style import Style
from textual.renderables.digits import Digits as DigitsRenderable

from voki_tui.ui.widgets.big_digits import ColumnSpan, changed_span, glyph_columns

FIGURES = st.text(alphabet="0123456789:.-—% /", max_size=7)


def drawn(text: str, width: int) -> list[str]:
    """The three rows ``text`` draws as, left-aligned and padded to ``width``."""
    segments = DigitsRenderable(text).render(Style())
    rows = "".join(s.text for s in segments if isinstance(s, Segment)).split("\n")[:3]
    return [row.ljust(width) for row in rows]


@given(FIGURES, FIGURES)
def test_nothing_outside_the_span_changes(old: str, new: str) -> None:
    span = changed_span(old, new)
    width = max(glyph_columns(old)[-1], glyph_columns(new)[-1])
    before, after = drawn(old, width), drawn(new, width)
    if span is None:
        assert old == new
        return
    assert 0 <= span.start < span.end <= width
    for row_before, row_after in zip(before, after, strict=True):
        assert row_before[: span.start] == row_after[: span.start]
        assert row_before[span.end :] == row_after[span.end :]


def test_a_second_ticking_repaints_one_glyph() -> None:
    assert changed_span("3:05", "3:06") == ColumnSpan(9, 12)
    assert changed_span("0:59", "1:00") == ColumnSpan(0, 12)


def test_a_wider_value_repaints_to_its_new_end_and_a_narrower_one_blanks_the_old() -> None:
    assert changed_span("9", "10") == ColumnSpan(0, 6)
    assert changed_span("10", "9") == ColumnSpan(0, 6)
    assert changed_span("12", "123") == ColumnSpan(6, 9)


def test_digits_are_three_columns_and_other_characters_one() -> None:
    assert glyph_columns("1:0") == [0, 3, 6, 9]
    assert glyph_columns("—5") == [0, 1, 4]
