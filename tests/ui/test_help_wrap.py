"""Help text wraps with a hanging indent: continuation lines start under the item's text."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from voki_tui.live.state import Counters
from voki_tui.ui.screens.help import hanging_lines, help_text

BODY = help_text(Counters(), 30)


@given(st.integers(min_value=30, max_value=140))
def test_wrapped_help_keeps_every_word_and_fits(width: int) -> None:
    lines = hanging_lines(BODY, width)
    assert all(len(line) <= width for line in lines)
    assert " ".join(lines).split() == BODY.split()


def test_bullets_and_keys_hang_at_80_columns() -> None:
    lines = hanging_lines(BODY, 76)  # the help box's text width in an 80-column terminal
    wrapped = lines[lines.index(next(x for x in lines if x.startswith("  • Longest wait"))) + 1]
    assert wrapped.startswith("    ") and not wrapped.startswith("     ")
    narrow = hanging_lines(BODY, 40)
    after_key = narrow[narrow.index(next(x for x in narrow if x.startswith("  u "))) + 1]
    assert after_key.startswith(" " * 11) and after_key[11] != " "
