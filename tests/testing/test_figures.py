"""The one percentile every test, script and benchmark reports with (nearest rank)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voki_tui.testing.figures import percentile


def test_nearest_rank_on_known_values() -> None:
    hundred = [float(n) for n in range(100, 0, -1)]  # order does not matter
    assert percentile(hundred, 0.99) == 99.0
    assert percentile(hundred, 0.50) == 50.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.51) == 3.0
    assert percentile([7.0], 0.99) == 7.0


def test_no_values_is_none_and_a_share_outside_0_1_is_refused() -> None:
    assert percentile([], 0.5) is None
    with pytest.raises(ValueError, match="share"):
        percentile([1.0], 99)


@given(st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=1), st.floats(0, 1))
def test_at_least_the_share_is_at_or_below_it(values: list[float], share: float) -> None:
    found = percentile(values, share)
    assert found in values
    at_or_below = sum(1 for v in values if v <= found)
    assert at_or_below >= share * len(values) - 1e-6
    assert sum(1 for v in values if v < found) < max(1.0, share * len(values) + 1e-6)
