"""Which servers the REST client prepares TLS verification for."""

from __future__ import annotations

import ssl
from typing import Any

import pytest

from voki_tui.api.client import VokiClient


@pytest.fixture
def bundles_loaded(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every CA bundle an SSL context loads."""
    loaded: list[Any] = []
    original = ssl.SSLContext.load_verify_locations

    def spy(self: ssl.SSLContext, *args: Any, **kwargs: Any) -> None:
        loaded.append(args or kwargs)
        original(self, *args, **kwargs)

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", spy)
    return loaded


async def test_a_plain_http_server_loads_no_ca_bundle(bundles_loaded: list[Any]) -> None:
    """voki-sim, --demo and a lab server speak plain http: loading the CA bundle for them
    took 20-50 ms of every start and was never used."""
    async with VokiClient("http://127.0.0.1:4000", "demo"):
        pass
    assert bundles_loaded == []


async def test_an_https_server_is_verified(bundles_loaded: list[Any]) -> None:
    async with VokiClient("https://voki.example.com", "demo"):
        pass
    assert len(bundles_loaded) == 1
    async with VokiClient("https://voki.example.com", "demo", insecure=True):
        pass
    assert len(bundles_loaded) == 1  # --insecure: nothing to verify with
