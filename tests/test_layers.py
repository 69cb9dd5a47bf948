"""What importing a layer loads, seen in a fresh interpreter.

The import contracts (``lint-imports``, ``[tool.importlinter]`` in pyproject.toml) follow import
statements; they cannot see that importing ``voki_tui.phoenix.core`` first runs
``voki_tui/phoenix/__init__.py``. These tests import one module in a new process and look at
``sys.modules``, so an eager re-export in a package ``__init__`` fails here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from types import ModuleType

import pytest

import voki_tui.api
import voki_tui.phoenix


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
