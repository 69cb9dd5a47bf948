"""Which columns of a left-aligned line differ between two texts: what a repaint must cover.

The terminal pays for every cell Textual repaints, and a figure's update usually changes a
character or two ("3:05" -> "3:06", "85% 82/96" -> "85% 83/97"). Widgets that draw text from
the left edge use ``changed_span`` to refresh only those columns.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple


class ColumnSpan(NamedTuple):
    """Columns ``start`` (inclusive) to ``end`` (exclusive)."""

    start: int
    end: int


def columns(text: str, width_of: Callable[[str], int]) -> list[int]:
    """The starting column of each character of ``text``, plus the total width at the end."""
    starts = [0]
    for character in text:
        starts.append(starts[-1] + width_of(character))
    return starts


def changed_span(old: str, new: str, width_of: Callable[[str], int]) -> ColumnSpan | None:
    """The columns that differ between ``old`` and ``new`` drawn left-aligned; None if equal.

    ``width_of`` gives a character's width in columns. Characters before the first difference
    sit in the same columns in both. After it, a common tail keeps its columns only when both
    texts are equally wide; otherwise everything to the end of the wider one moved (or
    appeared, or must be blanked).
    """
    if old == new:
        return None
    prefix = 0
    while prefix < min(len(old), len(new)) and old[prefix] == new[prefix]:
        prefix += 1
    old_columns, new_columns = columns(old, width_of), columns(new, width_of)
    start = old_columns[prefix]
    end = max(old_columns[-1], new_columns[-1])
    if old_columns[-1] == new_columns[-1]:
        suffix = 0
        while suffix < min(len(old), len(new)) - prefix and old[-1 - suffix] == new[-1 - suffix]:
            suffix += 1
        end = new_columns[len(new) - suffix]
    return ColumnSpan(start, end)
