"""A ``DataTable`` whose cell updates repaint that cell only.

``DataTable.update_cell`` calls ``refresh()`` on the whole widget, so changing one figure
rewrote every row and the blank area below them (textual-notes §2.4): the departments screen
cost 6.7 KB/s at 120x40 with the demo's pace, over three times the 2 KB/s budget of a wall
display on an SSH link. ``set_cell`` does the same bookkeeping as ``update_cell`` (new value,
bumped update counter so the table's render caches miss) and then asks for the cell's region
alone. Column widths never change: like ``update_cell(update_width=False)``.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowKey


class CellTable(DataTable[Text]):
    """``DataTable[Text]`` plus :meth:`set_cell`, a per-cell repaint."""

    def set_cell(self, row_key: str, column_key: str, value: Text) -> None:
        """Show ``value`` in the cell; repaint nothing when its text and style are unchanged."""
        if self.get_cell(row_key, column_key) == value:
            return
        # Textual 8.2.8's update_cell, minus its whole-widget refresh (textual is pinned).
        self._data[RowKey(row_key)][ColumnKey(column_key)] = value
        self._update_count += 1
        self.refresh_coordinate(self.get_cell_coordinate(row_key, column_key))
