"""The soak's short version, in CI: the real wallboard in a pty, a watch and a cron snapshot
sharing one token store and a password file, against voki-sim with Voki's real auth limit;
the box boots before its server, then faults come every 10-20 s for two minutes.

The full run (``python -m benchmarks.soak``, 20+ minutes, every fault, figures in
RELIABILITY.md) is the judge; this one holds the same promises on a shorter clock: nothing
ever needs a person, every fault is recovered from, the data is never wrong after a recovery,
and the server never sees more auth requests in a minute than Voki allows.
"""

from __future__ import annotations

import pytest

from benchmarks import soak

#: Quick faults only (no 90 s outage, no 45 s silence, no minute-long 429 storm): each is
#: recovered from in seconds, so two minutes hold several of them.
QUICK = (
    "restart",
    "restart_forgetting_sessions",
    "drop",
    "revoke",
    "revoke_all",
    "lose_events",
    "clock_skew",
)


@pytest.mark.soak
def test_two_minutes_of_faults_need_no_person() -> None:
    figures = soak.run(2.0, seed=11, gap=(10.0, 20.0), faults=QUICK, say=lambda _line: None)
    assert figures["faults"] >= 4, figures
    assert figures["human_touches"] == 0, figures["human_touch_notes"]
    assert figures["recovered"] == figures["faults"], figures["not_recovered"]
    assert figures["mismatches"] == 0, figures["mismatch_notes"]
    assert figures["auth_requests_busiest_minute"] <= soak.AUTH_PER_MINUTE, figures
