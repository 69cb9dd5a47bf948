"""Settings: precedence (command line > environment > config file > defaults), the password
sources, masking, and the README as the reference of every option."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from voki_tui import cli
from voki_tui.settings import ConfigError, Settings, env_name, mask_url, merge, options, read_file


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_when_nothing_is_set() -> None:
    assert merge({}, {}, {}) == Settings()


def test_each_layer_overrides_the_one_below(tmp_path: Path) -> None:
    file_layer = read_file(
        write(tmp_path, 'server = "https://file"\ntenant = "f"\ntheme = "light"\n')
    )
    env = {"VOKI_TENANT": "from-env", "VOKI_THEME": "high-contrast"}
    settings = merge({"theme": "dark"}, env, file_layer)
    assert settings.server == "https://file"
    assert settings.tenant == "from-env"
    assert settings.theme == "dark"


def test_departments_from_env_list_and_file_list(tmp_path: Path) -> None:
    assert merge({}, {"VOKI_DEPARTMENTS": "3, 7,"}, {}).departments == ("3", "7")
    file_layer = read_file(write(tmp_path, "departments = [3, 7]\n"))
    assert merge({}, {}, file_layer).departments == ("3", "7")


def test_booleans_from_env() -> None:
    assert merge({}, {"VOKI_WALLBOARD": "yes"}, {}).wallboard is True
    with pytest.raises(ConfigError, match="wallboard"):
        merge({}, {"VOKI_WALLBOARD": "perhaps"}, {})


def test_password_only_from_env_and_masked() -> None:
    settings = merge({}, {"VOKI_PASSWORD": "s3cret"}, {})
    assert settings.password == "s3cret"
    assert "s3cret" not in repr(settings)
    assert settings.masked()["password"] == "<set>"


def test_password_in_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown setting 'password'"):
        read_file(write(tmp_path, 'password = "x"\n'))


def test_bad_choice_and_bad_toml_are_clear(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="theme: expected one of"):
        merge({"theme": "neon"}, {}, {})
    with pytest.raises(ConfigError, match=r"config\.toml"):
        read_file(write(tmp_path, "server = \n"))


def test_missing_file_is_an_empty_layer(tmp_path: Path) -> None:
    assert read_file(tmp_path / "absent.toml") == {}


def test_one_password_source_at_most() -> None:
    with pytest.raises(ConfigError, match="more than one password source"):
        merge({"password_file": "/p"}, {"VOKI_PASSWORD": "x"}, {})
    with pytest.raises(ConfigError, match="--password-file, --password-command"):
        merge({}, {"VOKI_PASSWORD_FILE": "/p", "VOKI_PASSWORD_COMMAND": "pass x"}, {})


def test_password_sources_from_every_layer(tmp_path: Path) -> None:
    file_layer = read_file(write(tmp_path, 'password_command = "pass show voki/wall"\n'))
    assert merge({}, {}, file_layer).password_command == "pass show voki/wall"
    assert merge({}, {"VOKI_PASSWORD_FILE": "~/pw"}, {}).password_file == "~/pw"


def test_numbers_have_bounds() -> None:
    assert merge({}, {"VOKI_HEARTBEAT_S": "2"}, {}).heartbeat_s == 2.0
    with pytest.raises(ConfigError, match="heartbeat_s"):
        merge({}, {"VOKI_HEARTBEAT_S": "0.1"}, {})
    with pytest.raises(ConfigError, match="stale_after_s"):
        merge({"stale_after_s": "never"}, {}, {})


def test_credentials_in_the_server_url_are_never_shown() -> None:
    settings = merge({"server": "https://wall:hunter2@voki.example.com/base"}, {}, {})
    assert settings.masked()["server"] == "https://***@voki.example.com/base"
    assert mask_url("https://voki.example.com") == "https://voki.example.com"


def test_print_config_masks_secrets_and_shows_the_paths(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VOKI_TUI_HOME", str(tmp_path))
    monkeypatch.setenv("VOKI_PASSWORD", "hunter2")
    assert cli.main(["--server", "https://u:p4ss@voki.test", "--print-config"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["settings"]["password"] == "<set>"
    assert shown["settings"]["server"] == "https://***@voki.test"
    assert shown["paths"]["state"] == str(tmp_path / "state")
    assert shown["paths"]["log"] == str(tmp_path / "log")


def test_every_option_is_in_the_readme_as_it_is_spelled() -> None:
    """The README's option table is the user's reference: every flag and every environment
    name the code reads must be there, exactly."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("| option | environment | meaning |") :]
    table = table[: table.index("\n\n")]
    for name, option in options():
        if "cli" in option.sources:
            assert f"`{option.flag_for(name)}" in table, name
        if "env" in option.sources:
            assert f"`{env_name(name)}`" in table, name


def test_the_command_line_only_overrides_what_it_was_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A flag the user did not give must not hide the environment's value (argparse defaults
    are suppressed), for the dashboard and for every subcommand."""
    parser = cli._parser()
    for argv in ([], ["snapshot", "--json"], ["watch", "--json"]):
        assert cli._cli_layer(parser.parse_args(argv)) == {}
    given = cli._cli_layer(parser.parse_args(["--insecure", "snapshot", "--json", "--demo"]))
    assert given == {"insecure": True, "demo": True}


def test_a_login_form_never_shows_credentials_from_the_url() -> None:
    from voki_tui.settings import without_credentials

    assert without_credentials("https://wall:pw@voki.test:8443/x") == "https://voki.test:8443/x"
    assert without_credentials("https://voki.test") == "https://voki.test"


def test_thresholds_come_from_the_file_only_and_per_department(tmp_path: Path) -> None:
    from voki_tui.live.rules import RuleSet

    text = '[thresholds]\nmax_wait_s = 180\n[thresholds."Vendas"]\nmax_queue = 4\n'
    settings = merge({}, {}, read_file(write(tmp_path, text)))
    assert settings.thresholds.defaults == RuleSet(max_wait_s=180)
    assert settings.thresholds.departments == (("Vendas", RuleSet(max_queue=4)),)
    assert settings.masked()["thresholds"] == {"max_wait_s": 180, "Vendas": {"max_queue": 4}}
    with pytest.raises(ConfigError, match=r"thresholds\.Vendas\.max_queue: expected a number"):
        read_file(write(tmp_path, '[thresholds."Vendas"]\nmax_queue = "x"\n'))
    assert merge({}, {"VOKI_THRESHOLDS": "1"}, {}).thresholds == Settings().thresholds
    assert "--thresholds" not in cli._parser().format_help()


def test_every_key_is_in_the_readme() -> None:
    """The README's key table lists every key the app, its screens and its lists bind."""
    from textual.binding import Binding

    from voki_tui.ui.app import VokiApp
    from voki_tui.ui.contract import LiveScreen
    from voki_tui.ui.screens.departments import DepartmentsScreen
    from voki_tui.ui.widgets.live_table import LiveTable

    spelled = {
        "question_mark": "?",
        "slash": "/",
        "up": "↑",
        "down": "↓",
        "pageup": "PgUp",
        "pagedown": "PgDn",
        "home": "Home",
        "end": "End",
        "left": "←",
        "right": "→",
        "shift+left": "shift+←",
        "shift+right": "shift+→",
        "left_square_bracket": "[",
        "right_square_bracket": "]",
    }
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("| key | where | action |") :]
    table = table[: table.index("\n\n")]
    owners = (VokiApp, LiveScreen, DepartmentsScreen, LiveTable)
    for owner in owners:
        for binding in owner.BINDINGS:
            assert isinstance(binding, Binding)
            for key in binding.key.split(","):
                assert f"`{spelled.get(key, key)}`" in table, (owner.__name__, key)
