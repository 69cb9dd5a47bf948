"""How a table's width is shared among its columns (``live_table.column_spans``)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from voki_tui.ui.widgets.live_table import NAME_WIDTH, Column, column_spans
from voki_tui.ui.widgets.queue_table import REASON_WIDTH, QueueTable

columns_strategy = st.lists(
    st.builds(
        Column,
        label=st.just("x"),
        width=st.integers(1, 20),
        flex=st.integers(0, 3),
        align=st.sampled_from(["left", "right"]),
        most=st.integers(0, 60),
    ),
    min_size=1,
    max_size=6,
)


@given(columns_strategy, st.integers(0, 300))
def test_spans_keep_minimums_limits_and_order(columns: list[Column], width: int) -> None:
    spans = column_spans(columns, width)
    assert len(spans) == len(columns)
    x = 0
    for (start, span), column in zip(spans, columns, strict=True):
        assert start == x  # one blank between columns, in order
        assert span >= column.width
        if not column.flex and column is not columns[-1]:
            assert span == column.width
        x = start + span + 1
    natural = sum(c.width for c in columns) + len(columns) - 1
    end = spans[-1][0] + spans[-1][1]
    assert end == natural if width <= natural else end <= width
    for (_, span), column in list(zip(spans, columns, strict=True))[:-1]:
        if column.most and column.flex:
            assert span <= max(column.most, column.width)
    uncapped = any(c.flex and not c.most for c in columns)
    if width > natural and (uncapped or columns[-1].align == "left"):
        assert end == width  # all of the width is used when something may take it


def test_a_wide_queue_keeps_name_and_reason_together() -> None:
    """At 200 columns the name column stops at ``NAME_WIDTH`` and the reason follows it; the
    last column (the new mark, left-aligned) takes what is left."""
    spans = column_spans(QueueTable.columns, 198)
    (_, _), (_, _), (name_x, name_w), (reason_x, reason_w), (mark_x, mark_w) = spans
    assert name_w == NAME_WIDTH
    assert reason_x == name_x + NAME_WIDTH + 1
    assert reason_w == REASON_WIDTH
    assert mark_x + mark_w == 198
    narrow = column_spans(QueueTable.columns, 78)
    assert narrow[-1][0] + narrow[-1][1] == 78
