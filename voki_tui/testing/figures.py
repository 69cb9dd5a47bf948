"""How measured values are summarised, the same way in every test, script and benchmark.

The fault report, the random-fault run, the soak, the latency and the load benchmarks each had
their own percentile, and no two agreed on the rank (one rounded ``p * (n - 1)``, one truncated
``p * n``): a p99 of 50 values could name the 49th or the 50th. One definition now.
"""

from __future__ import annotations

import math
from collections.abc import Iterable


def percentile(values: Iterable[float], share: float) -> float | None:
    """Nearest rank: the smallest value with at least ``share`` (0 to 1) of the values at or
    below it; None when there are no values."""
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"share must be within 0 and 1, not {share}")
    ordered = sorted(values)
    if not ordered:
        return None
    rank = max(1, math.ceil(share * len(ordered) - 1e-9))
    return ordered[rank - 1]
