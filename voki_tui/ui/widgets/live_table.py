"""A keyed table that repaints only the cells whose text changed.

Textual's ``DataTable`` repaints the whole table on any ``update_cell`` (6-17 KB/s for a
40-row table ticking at 1 Hz, textual-notes §2.4), far over the 2 KB/s budget of a wall display
on an SSH link. This widget keeps a model of rows by key and draws them with the Line API
(``render_line``); a change refreshes only the regions of the cells whose displayed text
changed, so a clock tick repaints just the age cells. The header is line 0 and never scrolls.

Subclasses say what the columns are and how a row becomes cells; cells are plain, already
sanitised strings plus a level class, so comparing them is cheap and nothing is ever parsed as
markup (rendered as ``rich.text.Text``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Generic, Literal, NamedTuple, TypeVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from voki_tui.ui.i18n import tr
from voki_tui.ui.widgets.spans import changed_span

RowT = TypeVar("RowT")
REPAINT_LOG = 1024
"""How many repaint regions ``LiveTable.refreshed_regions`` keeps at most."""
NAME_WIDTH = 32
"""The widest a column of names (customers, agents, departments) grows on a wide screen;
longer names end in an ellipsis."""


class Cell(NamedTuple):
    """What one cell shows: safe text and an optional component-class suffix for its style."""

    text: str
    style: str = ""  # "ok" | "busy" | "warn" | "alert" | "new" | "dim" | ""


ScreenLine = tuple[tuple[Cell, ...], bool]
"""One drawn line: its cells and whether it is drawn as the cursor row."""


@dataclass(frozen=True, slots=True)
class Sort:
    """One order of a table's rows: the column it sorts and the row key to sort by."""

    column: int
    key: Callable[[Any, datetime], Any]
    reverse: bool = False


@dataclass(frozen=True, slots=True)
class Column:
    """A column: English label, minimum width, share of spare width, alignment, and the width
    it grows to at most (0: no limit)."""

    label: str
    width: int
    flex: int = 0
    align: Literal["left", "right"] = "left"
    most: int = 0


def column_spans(columns: Sequence[Column], width: int) -> tuple[tuple[int, int], ...]:
    """(start, width) of each column in a line ``width`` wide, one blank between columns.

    Spare width goes to the flexible columns by their shares, none past its ``most``; what the
    limits leave over goes to the last column if it is left-aligned (its text may use it, the
    rest is blank), else stays blank at the end of the line. A limit keeps a row's text
    together: a name column spread over 100 cells on a wall put the reason far away from the
    name, and each line that changed was written out to there.
    """
    gaps = max(0, len(columns) - 1)
    spare = max(0, width - sum(column.width for column in columns) - gaps)
    extra = [0] * len(columns)
    growing = [i for i, column in enumerate(columns) if column.flex]
    while spare and growing:
        shares = sum(columns[i].flex for i in growing)
        given = 0
        for n, i in enumerate(growing):
            share = spare - given if n == len(growing) - 1 else spare * columns[i].flex // shares
            given += share
            extra[i] += share
        spare = 0
        for i in list(growing):
            most = max(columns[i].most, columns[i].width) if columns[i].most else 0
            if most and columns[i].width + extra[i] >= most:
                spare += columns[i].width + extra[i] - most
                extra[i] = most - columns[i].width
                growing.remove(i)
    if spare and columns and columns[-1].align == "left":
        extra[-1] += spare
    spans: list[tuple[int, int]] = []
    x = 0
    for column, more in zip(columns, extra, strict=True):
        spans.append((x, column.width + more))
        x += column.width + more + 1
    return tuple(spans)


class LiveTable(Widget, Generic[RowT], can_focus=True):
    """Rows by key, a cursor that follows its row's key, and per-cell repaints."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "live-table--header",
        "live-table--cursor",
        "live-table--ok",
        "live-table--warn",
        "live-table--alert",
        "live-table--new",
        "live-table--busy",
        "live-table--dim",
        "live-table--placeholder",
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home,g", "edge(0)", "First", show=False),
        Binding("end,G", "edge(1)", "Last", show=False),
        Binding("s", "sort", "Sort"),
        Binding("enter", "select", "Open", show=False),
    ]
    DEFAULT_CSS = """
    LiveTable { height: 1fr; }
    LiveTable > .live-table--header { text-style: bold; }
    LiveTable > .live-table--cursor {
        color: $block-cursor-blurred-foreground;
        background: $block-cursor-blurred-background;
    }
    LiveTable:focus > .live-table--cursor {
        color: $block-cursor-foreground;
        background: $block-cursor-background;
    }
    LiveTable > .live-table--warn { color: $text-warning; }
    LiveTable > .live-table--alert { color: $text-error; text-style: bold; }
    LiveTable > .live-table--ok { color: $text-success; }
    LiveTable > .live-table--busy { color: $text-primary; }
    LiveTable > .live-table--new { color: $text-success; text-style: bold; }
    LiveTable > .live-table--dim { color: $text-muted; }
    LiveTable > .live-table--placeholder { color: $text-muted; }
    """

    columns: ClassVar[tuple[Column, ...]] = ()
    sorts: ClassVar[tuple[Sort, ...]] = ()
    """The orders ``s`` cycles through after the table's own (the order rows are given in)."""

    class RowSelected(Message):
        """``enter`` on the row ``key``."""

        def __init__(self, table: LiveTable[Any], key: str) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> LiveTable[Any]:
            return self.table

    def __init__(
        self, *, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._keys: list[str] = []
        self._rows: dict[str, RowT] = {}
        self._given: list[RowT] = []  # every row as last given, before filter and sort
        self._positions: dict[str, int] = {}  # each key's place in the given order
        self._filter = ""
        self.sort_index = 0  # 0: as given; n: ``sorts[n - 1]``
        self._cells: dict[str, tuple[Cell, ...]] = {}
        self._cursor_key: str | None = None
        self._top = 0
        self._now: datetime | None = None
        self._layout: tuple[int, tuple[tuple[int, int], ...]] = (-1, ())
        self.placeholder = ""
        self._render_style: Style | None = None  # set while ``render_lines`` runs
        self._components: dict[str, Style] = {}
        self.refreshed_regions: list[Region] = []
        """The regions this table last asked to repaint (for measurements; the oldest half is
        dropped past ``REPAINT_LOG`` entries, so a board running for weeks does not grow)."""

    # -- what subclasses provide -------------------------------------------------------------

    def row_key(self, row: RowT) -> str:
        raise NotImplementedError

    def row_cells(self, row: RowT, index: int, now: datetime) -> tuple[Cell, ...]:
        """The cells of ``row`` at ``now``; ``index`` is its 0-based place in the order the
        rows were given (a queue position stays one under a filter or another sort)."""
        raise NotImplementedError

    def row_text(self, row: RowT) -> str:
        """What ``/`` searches in a row (case-insensitive); the row key by default."""
        return self.row_key(row)

    # -- public API --------------------------------------------------------------------------

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(self._keys)

    @property
    def cursor_key(self) -> str | None:
        return self._cursor_key

    def cells_of(self, key: str) -> tuple[Cell, ...]:
        """The cells of row ``key`` as of the last update or tick.

        Only the lines on screen are made with every update and tick; a row off screen is made
        when asked for. A department list of 200 rows made all of them on every snapshot (40 a
        second at 100 events/s), a quarter of the app's CPU, to show 55.
        """
        cells = self._cells.get(key)
        if cells is None:
            if self._now is None:  # no rows were ever given
                raise KeyError(key)
            cells = self.row_cells(self._rows[key], self._positions[key], self._now)
            self._cells[key] = cells
        return cells

    def set_placeholder(self, text: str) -> None:
        """What the table says when it has no rows (already translated and safe)."""
        if text != self.placeholder:
            self.placeholder = text
            if not self._keys:
                self._repaint(Region(0, 1, self.size.width, 1))

    @property
    def given(self) -> tuple[RowT, ...]:
        """Every row as last given (before the filter and the sort)."""
        return tuple(self._given)

    @property
    def filter_text(self) -> str:
        return self._filter

    def set_filter(self, text: str) -> None:
        """Show only rows whose :meth:`row_text` contains ``text`` (any case); "" shows all."""
        needle = text.strip().casefold()
        if needle != self._filter:
            self._filter = needle
            if self._now is not None:
                self.update_rows(self._given, self._now)

    def action_sort(self) -> None:
        """The next order: as given, then each of ``sorts``; the header marks the column."""
        if not self.sorts:
            return
        self.sort_index = (self.sort_index + 1) % (len(self.sorts) + 1)
        if self._now is not None:
            self.update_rows(self._given, self._now)
        self._repaint(Region(0, 0, self.size.width, 1))

    def action_select(self) -> None:
        if self._cursor_key is not None:
            self.post_message(self.RowSelected(self, self._cursor_key))

    def _shown_rows(self, rows: Sequence[RowT], now: datetime) -> list[RowT]:
        shown = [row for row in rows if self._filter in self.row_text(row).casefold()]
        if self.sort_index:
            order = self.sorts[self.sort_index - 1]
            shown.sort(key=lambda row: order.key(row, now), reverse=order.reverse)
        return shown

    def update_rows(self, rows: Sequence[RowT], now: datetime) -> None:
        """Show ``rows`` (filtered and sorted as asked); repaint only the cells whose screen
        content changed.

        The diff is by screen line, not by key: when a row leaves mid-table the rows below move
        up a line, and only the cells of those lines that now show something else are redrawn
        (a position number that stays, an empty line that stays empty, cost nothing).
        """
        before = self._screen_lines()  # what the screen shows now
        had_rows = bool(self._keys)
        old_cursor_index = self._cursor_index()
        self._now = now
        self._given = list(rows)
        self._positions = {self.row_key(row): index for index, row in enumerate(rows)}
        rows = self._shown_rows(rows, now)
        new_keys = [self.row_key(row) for row in rows]
        self._rows = dict(zip(new_keys, rows, strict=True))
        self._keys = new_keys
        self._cells = {}  # made again as lines ask for them
        self._follow_cursor(old_cursor_index)
        self._scroll_into_view()
        if had_rows != bool(new_keys):  # the placeholder comes or goes
            self._repaint_all()
            return
        self._repaint(
            *(
                self._changed_region(line, old, new)
                for line, (old, new) in enumerate(zip(before, self._screen_lines(), strict=True))
                if old != new
            )
        )

    def tick(self, now: datetime) -> None:
        """Recompute the visible rows' cells at ``now``; repaint only cells that changed (rows
        off screen are made again when asked for)."""
        shown = range(self._top, min(len(self._keys), self._top + self._visible_rows()))
        old_cells = {self._keys[index]: self.cells_of(self._keys[index]) for index in shown}
        self._now = now
        self._cells = {}
        changed: list[Region] = []
        for index in shown:
            key = self._keys[index]
            old, new = old_cells[key], self.cells_of(key)
            if new != old:
                cursor = key == self._cursor_key
                line = 1 + index - self._top
                changed.append(self._changed_region(line, (old, cursor), (new, cursor)))
        self._repaint(*changed)

    def move_cursor_to(self, key: str) -> None:
        if key in self._rows:
            old = self._cursor_index()
            self._cursor_key = key
            self._cursor_changed(old)

    # -- keys and mouse ----------------------------------------------------------------------

    def action_cursor(self, delta: int) -> None:
        self._move_by(delta)

    def action_page(self, direction: int) -> None:
        self._move_by(direction * max(1, self._visible_rows() - 1))

    def action_edge(self, end: int) -> None:
        if self._keys:
            self._move_by(len(self._keys) if end else -len(self._keys))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y < 1:
            return
        index = self._top + offset.y - 1
        if 0 <= index < len(self._keys):
            self.move_cursor_to(self._keys[index])

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        self._scroll_by(3)
        event.stop()

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        self._scroll_by(-3)
        event.stop()

    def on_resize(self, event: events.Resize) -> None:
        self._scroll_into_view()
        self.refresh()

    # -- rendering ---------------------------------------------------------------------------

    def render_lines(self, crop: Region) -> list[Strip]:
        """The lines of ``crop``, with the widget's style worked out once for all of them
        (``rich_style`` walks every ancestor's styles; a tick renders 40 lines)."""
        self._render_style = self.rich_style
        try:
            return super().render_lines(crop)
        finally:
            self._render_style = None

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.rich_style if self._render_style is None else self._render_style
        if y == 0:
            return self._strip(self._header_cells(), base + self._component("header"), width)
        index = self._top + y - 1
        if not self._keys:
            if y == 2 and self.placeholder:
                text = Text(self.placeholder, style=self._component("placeholder"))
                return self._finish(Text("  ").append_text(text), base, width)
            return Strip.blank(width, base)
        if index >= len(self._keys):
            return Strip.blank(width, base)
        key = self._keys[index]
        if key == self._cursor_key:
            cursor = base + self._component("cursor")
            return self._strip(self.cells_of(key), cursor, width, cursor=True)
        return self._strip(self.cells_of(key), base, width)

    def _header_cells(self) -> tuple[Cell, ...]:
        labels = [Cell(tr(column.label)) for column in self.columns]
        if self.sort_index:
            order = self.sorts[self.sort_index - 1]
            marked = labels[order.column].text
            labels[order.column] = Cell(f"{marked} {'↑' if order.reverse else '↓'}")
        shown = self._visible_rows()
        if labels and len(self._keys) > shown:
            last = min(len(self._keys), self._top + shown)
            scroll = f"{self._top + 1}-{last}/{len(self._keys)}"
            labels[-1] = Cell(f"{labels[-1].text} {scroll}")
        return tuple(labels)

    def _strip(
        self, cells: Sequence[Cell], style: Style, width: int, *, cursor: bool = False
    ) -> Strip:
        """One line in ``style`` (the widget's, with the header's or the cursor's), in as few
        segments as its styles allow.

        Textual writes every segment of a partial update with its own escape codes (a style
        and a reset, about 24 bytes in 256 colours), so cells and gaps of one style are joined
        into one segment: a plain row is one. On the cursor row the cells keep the cursor's
        colours (``_cursor_level``).
        """
        spans = self._column_spans(width)
        if cursor:
            return row_strip(cells, self.columns, spans, width, style, _cursor_level)
        return row_strip(cells, self.columns, spans, width, style, self._component)

    def _finish(self, line: Text, style: Style, width: int) -> Strip:
        segments = list(line.render(self.app.console, end=""))
        strip = Strip(segments).crop_extend(0, width, None)
        return strip.apply_style(style) if style else strip

    def _component(self, name: str) -> Style:
        """The style of component ``live-table--{name}``, kept until the styles change: Textual
        forgets its own copy on every ``refresh``, and a tick refreshes the table each second."""
        style = self._components.get(name)
        if style is None:
            style = self.get_component_rich_style(f"live-table--{name}", partial=True)
            if name == "cursor":
                # A blurred cursor's background is translucent in the theme, and a partial
                # style drops the alpha: the cursor looked focused while the filter had the
                # keys. The full style has it blended over the table's background.
                blended = self.get_component_rich_style("live-table--cursor").bgcolor
                style += Style(bgcolor=blended)
            self._components[name] = style
        return style

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._components.clear()

    def _column_spans(self, width: int) -> tuple[tuple[int, int], ...]:
        """:func:`column_spans` at this widget width, computed once per width."""
        if self._layout[0] != width:
            self._layout = (width, column_spans(self.columns, width))
        return self._layout[1]

    # -- bookkeeping -------------------------------------------------------------------------

    def _visible_rows(self) -> int:
        return max(1, self.size.height - 1)

    def _cursor_index(self) -> int:
        if self._cursor_key is None:
            return -1
        try:
            return self._keys.index(self._cursor_key)
        except ValueError:
            return -1

    def _follow_cursor(self, old_index: int) -> None:
        """Keep the cursor on its key; if that row left, stay at its place (the next row)."""
        if self._cursor_key in self._rows:
            return
        if not self._keys:
            self._cursor_key = None
        else:
            self._cursor_key = self._keys[min(max(old_index, 0), len(self._keys) - 1)]

    def _move_by(self, delta: int) -> None:
        if not self._keys:
            return
        old = self._cursor_index()
        index = min(max((old if old >= 0 else 0) + delta, 0), len(self._keys) - 1)
        self._cursor_key = self._keys[index]
        self._cursor_changed(old)

    def _cursor_changed(self, old_index: int) -> None:
        new_index = self._cursor_index()
        if new_index == old_index:
            return
        if self._scroll_into_view():
            self._repaint_all()
        else:
            self._repaint_row(old_index)
            self._repaint_row(new_index)

    def _scroll_into_view(self) -> bool:
        """Adjust the first shown row so the cursor is visible; True when it moved."""
        shown = self._visible_rows()
        top = min(self._top, max(0, len(self._keys) - shown))
        index = self._cursor_index()
        if index >= 0:
            if index < top:
                top = index
            elif index >= top + shown:
                top = index - shown + 1
        changed = top != self._top
        self._top = top
        return changed

    def _scroll_by(self, delta: int) -> None:
        top = min(max(self._top + delta, 0), max(0, len(self._keys) - self._visible_rows()))
        if top != self._top:
            self._top = top
            self._repaint_all()

    def _repaint_row(self, index: int) -> None:
        line = 1 + index - self._top
        if index >= 0 and 1 <= line <= self._visible_rows():
            self._repaint(Region(0, line, self.size.width, 1))

    def _screen_lines(self) -> list[ScreenLine | None]:
        """What each line of the widget shows: its cells and whether it is the cursor row.

        Line 0 is the header (its last label carries the scroll position); None is a blank
        line below the last row.
        """
        lines: list[ScreenLine | None] = [(self._header_cells(), False)]
        for line in range(1, self._visible_rows() + 1):
            index = self._top + line - 1
            if index < len(self._keys):
                key = self._keys[index]
                lines.append((self.cells_of(key), key == self._cursor_key))
            else:
                lines.append(None)
        return lines

    def _changed_region(self, line: int, old: ScreenLine | None, new: ScreenLine | None) -> Region:
        """What to repaint of ``line`` (empty: nothing): from its first changed cell to where
        the last change ends, in one region.

        Textual writes a dirty region of a line from the widget's left edge to the region's
        right end, and each region of a line again from that edge: so one region per line,
        ending at the last changed character (the blank tail of a wide column is not written).
        A cell whose level changed counts as changed where it has ink, in either state. A cursor
        row is drawn across the whole width (its background), so a line that becomes or stops
        being it is repainted whole.
        """
        width = self.size.width
        old_cursor, new_cursor = old is not None and old[1], new is not None and new[1]
        if old_cursor != new_cursor:
            return Region(0, line, width, 1)
        blank = Cell("")
        old_cells = old[0] if old is not None else ()
        new_cells = new[0] if new is not None else ()
        start, end = width, 0
        for index, ((x, span), column) in enumerate(
            zip(self._column_spans(width), self.columns, strict=True)
        ):
            a = old_cells[index] if index < len(old_cells) else blank
            b = new_cells[index] if index < len(new_cells) else blank
            if a == b:
                continue
            was, now = drawn(a.text, span, column.align), drawn(b.text, span, column.align)
            if a.style != b.style:
                inked = [ink for ink in (_ink(was), _ink(now)) if ink[1] > ink[0]]
                changed = max((hi for _, hi in inked), default=0)
            else:
                span_changed = changed_span(was, now, lambda _character: 1)
                changed = span_changed.end if span_changed is not None else 0
            if changed:
                start, end = min(start, x), max(end, x + changed)
        return Region(start, line, max(0, end - start), 1)

    def _repaint(self, *regions: Region) -> None:
        """Repaint ``regions`` (empty ones are left out) in one ``refresh``: each call of it
        does the same bookkeeping again, and a ticking queue changes 40 wait cells at once."""
        regions = tuple(region for region in regions if region.area)
        if regions:
            self._log_repaints(regions)
            self.refresh(*regions)

    def _repaint_all(self) -> None:
        self._log_repaints((Region(0, 0, self.size.width, self.size.height),))
        self.refresh()

    def _log_repaints(self, regions: Sequence[Region]) -> None:
        if len(self.refreshed_regions) + len(regions) > REPAINT_LOG:
            del self.refreshed_regions[: REPAINT_LOG // 2]
        self.refreshed_regions.extend(regions)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return 1 + max(1, len(self._keys))


def row_strip(
    cells: Sequence[Cell],
    columns: Sequence[Column],
    spans: Sequence[tuple[int, int]],
    width: int,
    style: Style,
    level_style: Callable[[str], Style],
) -> Strip:
    """A row ``width`` cells wide: each cell fitted to its column's (start, width) span, plain
    text and gaps in ``style``, a cell with a level in ``style + level_style(level)``, one
    segment per run of one style.

    It is the line Textual's ``Strip(...).crop_extend(...).apply_style(style).simplify()``
    makes of the cells' segments (a test compares the two), built in one pass: those make four
    strips a line, a third of a ticking queue's CPU.
    """
    pieces: list[Segment] = []
    plain = style or None  # as ``apply_style`` leaves a segment without a style
    x = 0
    for (start, span), column, cell in zip(spans, columns, cells, strict=False):
        if start > x:
            pieces.append(Segment(" " * (start - x), plain))
        shown = fit(cell.text, span, column.align)
        if not shown:
            x = start
            continue
        pieces.append(Segment(shown, style + level_style(cell.style) if cell.style else plain))
        x = start + cell_len(shown)
    if x > width:  # narrower than its columns: cut piece by piece as Textual cuts, then joined
        return Strip(pieces).crop(0, width).simplify()
    if x < width:
        pieces.append(Segment(" " * (width - x), plain))
    return Strip(list(Segment.simplify(pieces)), width)


def _cursor_level(level: str) -> Style:
    """A level on the cursor row: the cursor's colours, bold where the level calls for notice
    (red or amber on the cursor's blue is unreadable; the level glyphs still say which)."""
    return Style(bold=level in ("warn", "alert", "new"))


def _ink(text: str) -> tuple[int, int]:
    """Columns from the first to past the last non-blank character of ``text`` (one character
    per column); an empty run when it is all blank."""
    stripped = text.strip()
    if not stripped:
        return (0, 0)
    start = len(text) - len(text.lstrip())
    return (start, start + len(stripped))


def fit(text: str, span: int, align: Literal["left", "right"]) -> str:
    """``text`` as a cell of ``span`` columns draws it: cut with an ellipsis when too wide,
    padded on the left when right-aligned (a left-aligned cell is not padded)."""
    width = cell_len(text)
    if width > span:
        cut = Text(text, no_wrap=True, end="")
        cut.truncate(span, overflow="ellipsis")
        text, width = cut.plain, cut.cell_len
    return " " * (span - width) + text if align == "right" else text


def drawn(text: str, span: int, align: Literal["left", "right"]) -> str:
    """The ``span`` columns a cell draws, one character per column (a wide character is
    followed by a blank for its second column), for comparing two states of a cell."""
    columns: list[str] = []
    for character in fit(text, span, align):
        columns.append(character)
        columns.extend(" " * (cell_len(character) - 1))
    return "".join(columns).ljust(span)
