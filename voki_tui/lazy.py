"""Lazy re-exports for a package's ``__init__``, as python-websockets and Textual do.

A package that re-exports its public names eagerly makes ``import pkg.light_module`` load every
heavy sibling too: importing the sans-I/O Phoenix core loaded ``websockets`` and asyncio, and
reaching the REST models loaded httpx and PyJWT. With :func:`lazy_exports` a name is imported
from its submodule the first time it is looked up on the package, and never before.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any


def lazy_exports(
    package: str, modules: Mapping[str, Iterable[str]]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``; ``modules`` maps each submodule
    (relative to ``package``) to the public names it defines."""
    exports = {name: module for module, names in modules.items() for name in names}

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{module}"), name)

    def __dir__() -> list[str]:
        return sorted(exports)

    return __getattr__, __dir__
