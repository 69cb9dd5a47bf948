"""The protocol tests run with each JSON parser the core may use on its hot path."""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import pytest

from voki_tui.phoenix import frames

PARSERS = {"orjson": orjson.loads, "stdlib": frames._scan_whole}


@pytest.fixture(params=sorted(PARSERS))
def parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """``frames.fast_loads`` set to orjson, then to the stdlib fallback (what an install
    without orjson runs); a test that asks for this fixture runs once with each."""
    monkeypatch.setattr(frames, "fast_loads", PARSERS[request.param])
    yield request.param
