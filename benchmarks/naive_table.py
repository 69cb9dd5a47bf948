"""A naive Textual ``DataTable`` of a queue: what a plain Textual app costs on the same rows.

The reference beside voki-tui's queue in ``benchmarks/cost.py``: the same customers (name,
reason, time queued, read from voki-sim's REST API by the harness), one ``DataTable`` filling
the screen, and every wait cell updated once a second with ``update_cell``, the straightforward
way to keep ages ticking. Nothing here is tuned; that is the point.

    python -m benchmarks.naive_table ROWS.json   # [{"name", "reason", "queued_at": epoch s}]
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from textual.app import App, ComposeResult
from textual.widgets import DataTable


def waited(queued_at: float) -> str:
    seconds = max(0, int(time.time() - queued_at))
    return f"{seconds // 60}:{seconds % 60:02d}"


class NaiveQueue(App[None]):
    def __init__(self, rows: list[dict[str, Any]]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        yield DataTable()

    def on_mount(self) -> None:
        table: DataTable[str] = self.query_one(DataTable)
        table.add_column("#", key="n")
        table.add_column("Customer", key="name")
        table.add_column("Reason", key="reason")
        table.add_column("Waiting", key="wait")
        for n, row in enumerate(self.rows, 1):
            table.add_row(str(n), row["name"], row["reason"], waited(row["queued_at"]), key=str(n))
        self.set_interval(1.0, self.tick)

    def tick(self) -> None:
        table: DataTable[str] = self.query_one(DataTable)
        for n, row in enumerate(self.rows, 1):
            table.update_cell(str(n), "wait", waited(row["queued_at"]))


if __name__ == "__main__":
    NaiveQueue(json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))).run()
