"""pt-BR must be whole: footer keys, palette entries and screen labels, nothing half-English."""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any

import pytest
from textual.command import CommandPalette
from textual.widgets import Footer, Input, KeyPanel

from voki_tui.testing.fakes import SUPERVISOR, FakeAuth, FakeFeed, FrozenClock, options, snapshot
from voki_tui.ui.app import VokiApp
from voki_tui.ui.screens.departments import DepartmentsScreen
from voki_tui.ui.screens.queue import QueueScreen

from .test_shell_pilot import until

ENGLISH_KEYS = {"Quit", "Departments", "Queue", "Presence", "Wallboard", "Help", "Mark", "Filter"}


def footer_descriptions(app: VokiApp) -> set[str]:
    """What the footer shows: the visible bindings and the command palette's key."""
    active = app.screen.active_bindings
    return {
        binding.description
        for key, (_node, binding, _enabled, _tooltip) in active.items()
        if binding.show or key == app.COMMAND_PALETTE_BINDING
    }


def app_in(lang: str | None, locale: str = "en") -> VokiApp:
    user = replace(SUPERVISOR, locale=locale)
    return VokiApp(
        options(lang=lang), FakeAuth(restored=user), FakeFeed([snapshot()]), FrozenClock()
    )


async def test_footer_keys_follow_the_lang_option() -> None:
    app = app_in("pt-BR")
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, DepartmentsScreen))
        shown = footer_descriptions(app)
        assert {"Encerrar", "Departamentos", "Fila", "Presença", "Painel", "Ajuda"} <= shown
        assert {"Marcar", "Filtrar", "paleta"} <= shown
        assert not shown & ENGLISH_KEYS
        await pilot.press("u")
        await until(pilot, lambda: isinstance(app.screen, QueueScreen))
        assert not footer_descriptions(app) & ENGLISH_KEYS


def footer_text(app: VokiApp) -> str:
    """What the footer's keys render (each key and its description)."""
    footer = app.screen.query_one(Footer)
    return " ".join(str(key.render()) for key in footer.query("FooterKey"))


async def test_the_footer_and_the_key_panel_render_in_portuguese() -> None:
    app = app_in("pt-BR")
    async with app.run_test(size=(160, 30)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, DepartmentsScreen))
        await until(pilot, lambda: "Departamentos" in footer_text(app))
        shown = footer_text(app)
        assert "Marcar" in shown and "Ordenar" in shown and "paleta" in shown
        assert not set(shown.split()) & ENGLISH_KEYS
        await app.run_action("show_help_panel")
        await until(pilot, lambda: bool(app.screen.query(KeyPanel)))
        await pilot.pause()  # the panel's first paint, before it is read
        panel = app.export_screenshot()
        assert "Departamentos" in panel and "Encerrar" in panel and "Subir" in panel
        text = panel.replace("&#160;", " ")
        ours = ("Departments", "Wallboard", "Presence", "Filter", "Mark", "Sort", "Page up")
        assert [label for label in ours if label in text] == []


async def test_footer_keys_follow_the_users_locale_after_login() -> None:
    app = app_in(None, locale="pt-BR")
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, DepartmentsScreen))
        assert "Encerrar" in footer_descriptions(app)
        assert not footer_descriptions(app) & ENGLISH_KEYS


async def test_english_stays_english() -> None:
    app = app_in("en")
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, DepartmentsScreen))
        assert {"Quit", "Mark", "palette"} <= footer_descriptions(app)


async def test_palette_speaks_portuguese() -> None:
    app = app_in("pt-BR")
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, DepartmentsScreen))
        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette))
        palette: Any = app.screen
        assert palette.query_one(Input).placeholder == "Buscar comandos…"
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert "Tema" in titles and "Encerrar" in titles
        assert not {"Theme", "Quit", "Keys", "Screenshot"} & set(titles)


def test_every_help_line_is_translated() -> None:
    from voki_tui.live.state import Counters
    from voki_tui.ui import i18n
    from voki_tui.ui.screens.help import FIGURES, KEYS

    i18n.set_language("pt-BR")
    untranslated = [line for line in FIGURES if i18n.tr(line) == line]
    untranslated += [what for _key, what in KEYS if i18n.tr(what) == what]
    labels = [f.metadata["label"] for f in fields(Counters)]
    untranslated += [label for label in labels if i18n.tr(label) == label]
    assert untranslated == []


def test_quit_and_log_out_are_told_apart_in_portuguese() -> None:
    from voki_tui.ui import i18n

    i18n.set_language("pt-BR")
    assert i18n.tr("Quit") != i18n.tr("Log out")
    assert i18n.tr("role {role}").format(role=i18n.tr("attendant")) == "perfil atendente"


@pytest.mark.parametrize(
    ("language", "one", "two"),
    [
        ("en", "1 department", "2 departments"),
        ("pt-BR", "1 departamento", "2 departamentos"),
        ("es", "1 departamento", "2 departamentos"),
        ("fr", "1 service", "2 services"),
    ],
)
def test_counts_take_their_language_s_plural(language: str, one: str, two: str) -> None:
    from voki_tui.ui import i18n

    i18n.set_language(language)
    assert i18n.ntr("{n} department", "{n} departments", 1).format(n=1) == one
    assert i18n.ntr("{n} department", "{n} departments", 2).format(n=2) == two
    assert i18n.ntr("{n} present", "{n} present", 1).format(n=1) != "1 presentes"


@pytest.mark.parametrize("language", ["pt-BR", "es", "fr"])
def test_spanish_and_french_speak_on_screen_too(language: str) -> None:
    from voki_tui.ui import i18n

    i18n.set_language(language)
    assert i18n.tr("Waiting") != "Waiting" and i18n.tr("Help") != "Help"
    assert i18n.tr("") == "", "gettext must never answer an empty label with its header"
