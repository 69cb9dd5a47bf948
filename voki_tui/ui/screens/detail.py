"""``enter`` on a row: everything known about one waiting customer, or one agent's day.

Modal panels over the board (which keeps updating beneath). The customer panel shows the
reason, the wait, the position and the contact fields, masked unless ``--show-contact``; the
agent panel shows their status now (with a pause or away reason when the server sends one),
their current call and every status seen since the app started (``voki_tui.live.timeline``).
All of it is server text, shown through ``clean`` in a plain ``Static``: never markup.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Static

from voki_tui.language import N_
from voki_tui.live.figures import format_age
from voki_tui.live.state import Agent, WaitingCustomer
from voki_tui.live.timeline import Entry
from voki_tui.ui.bindings import LocalisedModal
from voki_tui.ui.i18n import tr
from voki_tui.ui.text import clean, local_time, mask_email, mask_phone


class DetailPanel(LocalisedModal[None]):
    """A framed page of ``label  value`` lines; escape closes it."""

    DEFAULT_CSS = """
    DetailPanel { align: center middle; padding-bottom: 1; }
    DetailPanel > #detail-box {
        width: 72; max-width: 100%; height: auto; max-height: 100%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    """
    BINDINGS = [Binding("escape", "dismiss", "Close")]

    def __init__(self, title: str, lines: list[str]) -> None:
        super().__init__()
        self.title_text = title
        self.lines = lines

    def compose(self) -> ComposeResult:
        with Vertical(id="detail-box") as box:
            box.border_title = clean(self.title_text, 60)
            box.border_subtitle = tr("escape closes")
            yield Static("\n".join(self.lines), markup=False, id="detail-body")

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)


def _line(label: str, value: str) -> str:
    return f"{tr(label):<14} {value}"


def customer_panel(
    customer: WaitingCustomer, position: int, now: datetime, *, show_contact: bool
) -> DetailPanel:
    waited = max(0.0, (now - customer.queued_at).total_seconds())
    email, phone = customer.customer_email, customer.customer_phone
    lines = [
        _line(N_("Customer"), clean(customer.customer_name)),
        _line(N_("Reason"), clean(customer.reason) if customer.reason else "—"),
        _line(
            "Waiting",
            format_age(waited)
            + " ("
            + tr("since {t}").format(t=local_time(customer.queued_at))
            + ")",
        ),
        _line(N_("Position"), str(position)),
        _line(N_("Email"), clean(email) if show_contact and email else mask_email(email)),
        _line(N_("Phone"), clean(phone) if show_contact and phone else mask_phone(phone)),
    ]
    if not show_contact and (email or phone):
        lines.append(" " * 15 + "(" + tr("masked; --show-contact shows them") + ")")
    return DetailPanel(customer.customer_name, lines)


def agent_panel(
    agent: Agent,
    label: Callable[[str], str],
    call: str,
    history: tuple[Entry, ...],
    now: datetime,
) -> DetailPanel:
    """``label`` tells a status as the agent table does (glyph and word); ``call`` is the
    customer's name, or the call's short id."""
    status = label(agent.status)
    in_status = (now - agent.since).total_seconds() if agent.since is not None else None
    lines = [
        _line(N_("Agent"), clean(agent.name)),
        _line(N_("Status"), f"{status} · {format_age(in_status)}"),
    ]
    if agent.reason:
        lines.append(_line(N_("Reason"), clean(agent.reason)))
    lines += [
        _line(N_("Devices"), str(agent.devices)),
        _line(N_("Call"), call),
        "",
        tr("Since the app started"),
    ]
    if not history:
        lines.append("  " + tr("nothing seen yet"))
    for since, seen, reason in history:
        note = f" · {clean(reason, 40)}" if reason else ""
        lines.append(f"  {local_time(since, seconds=True)}  {label(seen)}{note}")
    return DetailPanel(agent.name, lines)
