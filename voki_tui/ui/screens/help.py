"""``?``: the keys, and the exact definition, window and threshold of every figure.

A wallboard figure nobody can define is a figure nobody trusts. The definitions here follow
``voki-api.md`` section 6 and ``voki_tui.live.metrics``; the counters show what the feed has
survived (malformed frames, unknown events, reconnects) so "it looks wrong" can be checked.
The figure lines are the figure table's (``voki_tui.live.figures``), and each department's
limits are listed with where they came from. Department names are the only text from the
server here, shown through ``clean``; the page is a plain-text ``Static``, never markup.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import fields

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from voki_tui.language import N_
from voki_tui.live import figures
from voki_tui.live.rules import Origin
from voki_tui.live.state import Counters, DepartmentView
from voki_tui.resources import styles_dir
from voki_tui.ui.bindings import LocalisedModal
from voki_tui.ui.i18n import tr
from voki_tui.ui.text import clean

KEYS = (
    ("q", N_("quit")),
    ("d", N_("departments")),
    ("u", N_("queue of the highlighted (or current) department")),
    ("p", N_("presence (agents) of the highlighted (or current) department")),
    ("w", N_("wallboard of the marked (or all) departments; again to leave it")),
    ("/", N_("filter the list (every list); escape clears the filter")),
    ("s", N_("sort the list by the next column (the header marks it)")),
    ("space", N_("mark a department for the wallboard (departments screen)")),
    ("enter", N_("open: a department's queue, a customer's or an agent's details")),
    ("enter", N_("after a session ended: the login form")),
    ("escape", N_("back to the departments; closes a filter, a panel or help")),
    ("↑ ↓ j k", N_("move in a list")),
    ("g G", N_("first, last row (also Home, End)")),
    ("PgUp/Dn", N_("a page up or down")),
    ("l", N_("log out, after a yes (refused on the wallboard and with --read-only)")),
    ("?", N_("this help (escape or ? closes it)")),
    ("ctrl+p", N_("command palette (open any department, switch theme)")),
)

REPLAY_KEYS = (
    ("space", N_("pause or play (on the department list, space marks a department instead)")),
    ("← →", N_("10 seconds back or on")),
    ("[ ]", N_("a minute back or on (also shift+← →)")),
    ("t", N_("jump to a time (10:15, 10:15:30, or a date and time)")),
)
"""The keys of ``voki-tui replay``, listed by help only there."""

FIGURES = (
    *(figure.help for figure in figures.FIGURES),
    N_("Window: the last 60 minutes, rolling. T: the SL threshold of each department (below)."),
    N_(
        "Last hour: the most waiting in each minute (from the server's history, then live), "
        "drawn from 0 to the queue limit, or to the peak when it has none or went over it."
    ),
    N_("New (★): joined less than 30 s ago and seen live."),
    N_(
        "The wallboard keeps a level 5 s after it got better, so a queue at its limit does "
        "not flash."
    ),
)
"""Help's definition lines: the figure table's own, then what is not a figure."""


ORIGINS = {Origin.CONFIG: N_("config"), Origin.SERVER: N_("server"), Origin.DEFAULT: N_("default")}
NONE = N_("none")


def limit_lines(views: Sequence[DepartmentView]) -> list[str]:
    """``Vendas: wait limit 2:00 (server) · queue limit 10 (server) · …`` per department."""
    lines = []
    for view in views:
        parts = [
            f"{tr(label)} {tr(value) if value == NONE else value} ({tr(ORIGINS[origin])})"
            for _key, label, value, origin in figures.limits_of(view)
        ]
        lines.append(f"  • {clean(view.department.name, 40)}: " + " · ".join(parts))
    return lines


def help_text(
    counters: Counters,
    stale_after_s: float,
    toasts_dropped: int = 0,
    notices: tuple[str, ...] = (),
    views: Sequence[DepartmentView] = (),
    *,
    replay: bool = False,
) -> str:
    """The whole help page as plain text (also what the tests check against)."""
    lines = []
    if notices:
        lines += [tr("Notices"), *(f"  ⚠ {clean(notice, 200)}" for notice in notices), ""]
    if replay:
        lines += [tr("Replay: the board as it was, from a recording")]
        lines += [f"  {key:<8} {tr(what)}" for key, what in REPLAY_KEYS]
        lines += [""]
    lines += [tr("Keys")]
    lines += [f"  {key:<8} {tr(what)}" for key, what in KEYS]
    lines += ["", tr("Figures")]
    lines += [f"  • {tr(line)}" for line in FIGURES]
    if views:
        lines += ["", tr("Limits")]
        lines.append(
            "  "
            + tr(
                "Where each limit comes from: the config file's table for the department, the "
                "server, the config file's defaults, the built-in default."
            )
        )
        lines += limit_lines(views)
    lines += [
        "",
        tr("Freshness"),
        "  • " + tr("live: connected, joined and reconciled; figures are current."),
        "  • " + tr("Data age: time since the data was last known true (shown when not live)."),
        "  • "
        + tr("Stale: link down, or not live and older than {n} s: figures stay, dimmed.").format(
            n=int(stale_after_s)
        ),
        "",
        tr("Feed counters"),
    ]
    rows = [(f.metadata["label"], getattr(counters, f.name)) for f in fields(counters)]
    rows.append((N_("toasts dropped (rate limit)"), toasts_dropped))
    width = max(len(tr(name)) for name, _ in rows)  # labels differ in length per language
    lines += [f"  {tr(name):<{width}} {value:>8}" for name, value in rows]
    return "\n".join(lines)


def hanging_lines(text: str, width: int) -> list[str]:
    """``text`` wrapped to ``width`` with continuation lines under the item's text.

    A bullet (``  • ``) or key (``  ctrl+p   ``) stays alone in the left margin, so at 80
    columns a long definition reads as one indented block instead of running back to column 0.
    """
    out: list[str] = []
    for line in text.splitlines():
        if len(line) <= width:
            out.append(line)
            continue
        stripped = line.lstrip(" ")
        indent = len(line) - len(stripped)
        if stripped.startswith("• "):
            indent += 2
        elif indent:  # a key line: the description starts after the key's column
            indent += len(stripped) - len(stripped.split(" ", 1)[-1].lstrip(" "))
        hang = " " * indent if indent < width // 2 else ""
        out += textwrap.wrap(line, width, subsequent_indent=hang, break_on_hyphens=False) or [""]
    return out


class HangingText(Static):
    """Plain text re-wrapped with :func:`hanging_lines` whenever its width changes."""

    def __init__(self, text: str, *, id: str | None = None) -> None:
        super().__init__(text, markup=False, id=id)
        self.text = text
        self._width = -1

    def on_resize(self, event: events.Resize) -> None:
        width = event.size.width
        if width > 0 and width != self._width:
            self._width = width
            self.update("\n".join(hanging_lines(self.text, width)))


class HelpScreen(LocalisedModal[None]):
    """A scrollable page over whatever was showing; escape or ``?`` closes it."""

    CSS_PATH = str(styles_dir() / "help.tcss")
    BINDINGS = [
        Binding("escape", "dismiss", "Close"),
        Binding("question_mark", "dismiss", show=False),
    ]

    def __init__(
        self,
        counters: Counters,
        stale_after_s: float,
        toasts_dropped: int,
        notices: tuple[str, ...] = (),
        views: Sequence[DepartmentView] = (),
        *,
        replay: bool = False,
    ) -> None:
        super().__init__()
        self.body = help_text(
            counters, stale_after_s, toasts_dropped, notices, views, replay=replay
        )

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box") as box:
            box.border_title = tr("Help")
            box.border_subtitle = tr("escape or ? closes")
            yield HangingText(self.body, id="help-body")

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
