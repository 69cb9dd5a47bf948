"""What importing a layer loads, seen in a fresh interpreter.

The import contracts (``lint-imports``, ``[tool.importlinter]`` in pyproject.toml) follow import
statements; they cannot see that importing ``voki_tui.phoenix.core`` first runs
``voki_tui/phoenix/__init__.py``. These tests import one module in a new process and look at
``sys.modules``, so an eager re-export in a package ``__init__`` fails here.
"""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
import tomllib
from pathlib import Path
from types import ModuleType

import pytest

import voki_tui
import voki_tui.api
import voki_tui.phoenix

ROOT = Path(__file__).resolve().parent.parent


def loaded_after(module: str, watched: tuple[str, ...]) -> list[str]:
    """Which of ``watched`` are in ``sys.modules`` after ``import module`` in a new process."""
    code = (
        "import importlib, json, sys\n"
        f"importlib.import_module({module!r})\n"
        f"print(json.dumps([m for m in {list(watched)!r} if m in sys.modules]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    loaded: list[str] = json.loads(out.stdout)
    return loaded


@pytest.mark.parametrize(
    "module", ["voki_tui.phoenix.frames", "voki_tui.phoenix.core", "voki_tui.phoenix.presence"]
)
def test_the_protocol_core_loads_no_io(module: str) -> None:
    assert loaded_after(module, ("websockets", "asyncio", "httpx", "textual")) == []


def test_the_wire_parsers_reach_the_models_without_the_http_client() -> None:
    assert loaded_after("voki_tui.live.wire", ("httpx", "jwt", "websockets", "textual")) == []


@pytest.mark.parametrize("package", [voki_tui.phoenix, voki_tui.api])
def test_every_lazy_export_resolves(package: ModuleType) -> None:
    names: list[str] = package.__all__
    assert sorted(names) == dir(package)
    for name in names:
        assert getattr(package, name) is not None  # imported from its submodule


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = voki_tui.phoenix.Nope  # type: ignore[attr-defined]


def client_modules() -> set[str]:
    """Every top-level module and package of voki_tui but voki-sim and the test kit."""
    found = {f"voki_tui.{m.name}" for m in pkgutil.iter_modules(voki_tui.__path__)}
    return found - {"voki_tui.sim", "voki_tui.testing"}


def test_every_client_module_is_named_in_the_contracts_that_list_the_client() -> None:
    """A new module (``voki_tui/serve.py`` was one) must be placed in the import contracts, or
    voki-sim could import it, and it voki-sim, without ``lint-imports`` noticing."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = {c["name"]: c for c in config["tool"]["importlinter"]["contracts"]}
    client = client_modules()
    assert set(contracts["voki-sim stands apart from the client"]["forbidden_modules"]) == client
    apart = contracts["The client does not import voki-sim (the --demo launcher in cli aside)"]
    assert set(apart["source_modules"]) == client
    kit = next(c for name, c in contracts.items() if name.startswith("Test fakes and harnesses"))
    assert set(kit["source_modules"]) == client | {"voki_tui.sim"}
