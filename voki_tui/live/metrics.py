"""A department's wallboard figures at one instant (``voki-api.md`` section 6).

- waiting: customers in the queue now; longest wait: ``now - oldest queued_at`` (never < 0).
- ASA: mean wait of the calls answered (assigned) in the rolling window.
- service level, ICMI variant #4 as ``wallboard-notes.md`` recommends:
  answered within T / (answered + abandoned after T); early abandons are neutral.
- abandonment rate: abandoned / (answered + abandoned).
  Rates are None when their denominator is 0, so "no data" never reads as 0 % or 100 %.
- agents: present (any meta), available, in call, away (away or paused), other (verbatim
  statuses we do not know).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from voki_tui.live.state import Agent, Metrics, WaitingCustomer
from voki_tui.live.window import WindowTotals

AVAILABLE = "available"
IN_CALL = "in_call"
AWAY_STATUSES = frozenset({"away", "paused"})


def compute_metrics(
    *,
    waiting: Sequence[WaitingCustomer],
    agents: Sequence[Agent],
    totals: WindowTotals,
    now: datetime,
    threshold_s: int,
    window_s: int,
) -> Metrics:
    """The figures as of ``now``; ``totals`` must be the window's totals as of the same now."""
    longest = None
    if waiting:
        oldest = min(customer.queued_at for customer in waiting)
        longest = max(0.0, (now - oldest).total_seconds())
    answered = totals.answered
    asa = totals.wait_ms_sum / answered / 1000 if answered else None
    sl_denominator = answered + totals.abandoned_after_threshold
    offered = answered + totals.abandoned
    available = in_call = away = 0
    for agent in agents:
        if agent.status == AVAILABLE:
            available += 1
        elif agent.status == IN_CALL:
            in_call += 1
        elif agent.status in AWAY_STATUSES:
            away += 1
    return Metrics(
        waiting=len(waiting),
        longest_wait_s=longest,
        asa_s=asa,
        answered=answered,
        answered_within=totals.answered_within,
        abandoned=totals.abandoned,
        abandoned_after_threshold=totals.abandoned_after_threshold,
        service_level=totals.answered_within / sl_denominator if sl_denominator else None,
        abandonment_rate=totals.abandoned / offered if offered else None,
        agents_present=len(agents),
        agents_available=available,
        agents_in_call=in_call,
        agents_away=away,
        agents_other=len(agents) - available - in_call - away,
        window_s=window_s,
        threshold_s=threshold_s,
    )
