"""Settings precedence: command line > environment > config file > defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from voki_tui.settings import ConfigError, Settings, merge, read_file


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
