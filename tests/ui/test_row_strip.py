"""A table row built in one pass (``live_table.row_strip``) is the line Textual's own strip
operations make of the same cells: every segment, style and width, over random rows."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from voki_tui.ui.widgets.live_table import Cell, Column, column_spans, fit, row_strip

from .test_column_spans import columns_strategy

LEVEL_STYLES = {
    "ok": Style(color="green"),
    "warn": Style(color="yellow"),
    "alert": Style(color="red", bold=True),
    "new": Style(color="green", bold=True),
    "dim": Style(dim=True),
    "same": Style(),  # a level that adds nothing: its cell joins the plain run
    "bold": Style(bold=True),  # adds nothing to a bold base: an equal style, another object
}
BASES = [Style(), Style(color="white", bgcolor="blue"), Style(bold=True, bgcolor="grey11")]

cell_strategy = st.builds(
    Cell,
    text=st.text(
        st.sampled_from(["a", "Z", " ", "‼", "·", "…", "漢", "😀", "é", "\u0301"]), max_size=14
    ),
    style=st.sampled_from(["", "", *LEVEL_STYLES]),
)


def by_textual_operations(
    cells: list[Cell], columns: list[Column], width: int, style: Style
) -> Strip:
    """Each cell its own segment, then Textual's crop_extend, apply_style and simplify."""
    segments: list[Segment] = []
    x = 0
    for (start, span), column, cell in zip(
        column_spans(columns, width), columns, cells, strict=False
    ):
        if start > x:
            segments.append(Segment(" " * (start - x)))
        shown = fit(cell.text, span, column.align)
        if not shown:
            x = start
            continue
        segments.append(Segment(shown, LEVEL_STYLES[cell.style] if cell.style else None))
        x = start + Strip([Segment(shown)]).cell_length
    strip = Strip(segments).crop_extend(0, width, None)
    return (strip.apply_style(style) if style else strip).simplify()


@given(
    columns_strategy,
    st.lists(cell_strategy, max_size=7),
    st.integers(0, 120),
    st.sampled_from(BASES),
)
@example(  # a combining mark ending at the edge, a gap past it: cut before the join, not after
    [Column("x", 3), Column("x", 5), Column("x", 11), Column("x", 4), Column("x", 1)],
    [Cell(""), Cell(""), Cell(""), Cell("ZZZZ\u0301"), Cell("")],
    26,
    Style(),
)
def test_a_row_is_the_line_textuals_strip_operations_make(
    columns: list[Column], cells: list[Cell], width: int, style: Style
) -> None:
    spans = column_spans(columns, width)
    built = row_strip(cells, columns, spans, width, style, LEVEL_STYLES.__getitem__)
    expected = by_textual_operations(cells, columns, width, style)
    assert list(built) == list(expected)
    assert built.cell_length == expected.cell_length == width


def test_a_plain_row_is_one_segment_and_a_level_splits_it() -> None:
    columns = [Column("a", 4), Column("b", 6, align="right"), Column("c", 5)]
    spans = column_spans(columns, 20)
    base = Style(bgcolor="blue")
    plain = row_strip(
        [Cell("ab"), Cell("3:05"), Cell("x")], columns, spans, 20, base, LEVEL_STYLES.__getitem__
    )
    assert list(plain) == [Segment("ab     3:05 x       ", base)]
    warned = [Cell("ab"), Cell("3:05", "warn"), Cell("x")]
    strip = row_strip(warned, columns, spans, 20, base, LEVEL_STYLES.__getitem__)
    assert list(strip) == [
        Segment("ab   ", base),
        Segment("  3:05", base + LEVEL_STYLES["warn"]),
        Segment(" x       ", base),
    ]
