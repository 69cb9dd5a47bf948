"""The label language is chosen once per session and remembered with it (against voki-sim).

Under one ``LANG``, a restored session spoke Portuguese (``/users/me`` says ``pt-BR``) and a
fresh login English (the login answer has no locale). Now a login chooses once and the stored
session keeps the choice.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from voki_tui.account import Account
from voki_tui.api.tokens import TokenStore
from voki_tui.settings import Settings
from voki_tui.sim import DEMO_EMAILS, DEMO_PASSWORD, DEMO_TENANT
from voki_tui.sim.testing import InProcessSim, running_sim


@pytest.fixture
def sim() -> Iterator[InProcessSim]:
    with running_sim(seed=7, auth_rate_limit=1000, paused=True) as running:
        yield running


def account(sim: InProcessSim, store: Path, lang: str | None = None) -> Account:
    settings = Settings(
        server=sim.url, tenant=DEMO_TENANT, email=DEMO_EMAILS["supervisor"], lang=lang
    )
    return Account(settings, TokenStore(store))


async def test_a_restored_session_speaks_as_its_login_did(
    sim: InProcessSim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    first = account(sim, tmp_path)
    try:
        user = await first.login(sim.url, DEMO_TENANT, DEMO_EMAILS["supervisor"], DEMO_PASSWORD)
        assert user.locale == "en"
    finally:
        await first.close()
    again = account(sim, tmp_path)
    try:
        restored = await again.resume()
        assert restored is not None and restored.locale == "en", "/users/me says pt-BR"
    finally:
        await again.close()


async def test_a_fresh_login_chooses_from_lang_option_then_environment(
    sim: InProcessSim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LANG", "fr_FR.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    by_env = account(sim, tmp_path / "a")
    by_option = account(sim, tmp_path / "b", lang="es")
    try:
        user = await by_env.login(sim.url, DEMO_TENANT, DEMO_EMAILS["supervisor"], DEMO_PASSWORD)
        assert user.locale == "fr"
        user = await by_option.login(sim.url, DEMO_TENANT, DEMO_EMAILS["supervisor"], DEMO_PASSWORD)
        assert user.locale == "es"
    finally:
        await by_env.close()
        await by_option.close()
