"""No private API of Textual: the range `pyproject.toml` allows (textual>=8.2,<9) must hold.

Textual's private names (``_bindings``, ``_refresh_layout``, ``_notifications``…) change in
minor releases without notice. This reads the source (the AST, nothing is run) and fails on:

- an import of a private Textual module or name (``textual.widgets._toast``, ``from textual.app
  import _x``);
- ``something._name`` where ``_name`` is one Textual defines and this project does not (so our
  own ``feed._on_event`` in a test is fine, ``node._bindings`` is not), anywhere in the package,
  the tests, the benchmarks and the scripts;
- in the package, ``self._name`` (or a method ``_name``) in a class derived from a Textual class
  when one of those Textual classes defines ``_name``: touching, or silently shadowing, its
  internals.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from types import ModuleType

import textual

ROOT = Path(__file__).resolve().parents[1]
SCANNED = ("voki_tui", "tests", "benchmarks", "scripts")
TEXTUAL_DIR = Path(textual.__file__).resolve().parent


def is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def python_files(*roots: Path) -> Iterator[Path]:
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            if "node_modules" not in path.parts:
                yield path


def private_definitions(tree: ast.AST) -> set[str]:
    """The private names a piece of source defines: functions, classes, module and class
    variables, and attributes assigned on ``self`` or ``cls`` (not a function's locals)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        if isinstance(node, ast.Module | ast.ClassDef):
            for statement in node.body:
                targets = (
                    statement.targets
                    if isinstance(statement, ast.Assign)
                    else [statement.target]
                    if isinstance(statement, ast.AnnAssign)
                    else []
                )
                names.update(t.id for t in targets if isinstance(t, ast.Name))
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.ctx, ast.Store)
            and isinstance(node.value, ast.Name)
            and node.value.id in ("self", "cls")
        ):
            names.add(node.attr)
    return {name for name in names if is_private(name)}


@cache
def textual_private() -> frozenset[str]:
    names: set[str] = set()
    for path in python_files(TEXTUAL_DIR):
        names |= private_definitions(ast.parse(path.read_text(encoding="utf-8")))
    return frozenset(names)


@cache
def our_private() -> frozenset[str]:
    names: set[str] = set()
    for path in python_files(*(ROOT / root for root in SCANNED)):
        names |= private_definitions(ast.parse(path.read_text(encoding="utf-8")))
    return frozenset(names)


def imported_names(tree: ast.Module) -> dict[str, str]:
    """Each name a module imports, to the dotted path it comes from."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                names[alias.asname or alias.name.split(".")[0]] = alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return names


def private_imports(tree: ast.Module) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            modules = [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        for module in modules:
            parts = module.split(".")
            if parts[0] == "textual" and any(is_private(part) for part in parts):
                yield node.lineno, f"imports {module}"


def private_uses(tree: ast.Module) -> Iterator[tuple[int, str]]:
    """``x._name`` with ``_name`` private to Textual, on anything but ``self`` or ``cls``."""
    imports = imported_names(tree)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute) or not is_private(node.attr):
            continue
        base = node.value
        if isinstance(base, ast.Name):
            if base.id in ("self", "cls"):
                continue
            origin = imports.get(base.id)
            if origin is not None and not origin.startswith("textual"):
                continue  # a module or object of ours or of another library
            if origin is not None and node.attr in textual_private():
                yield node.lineno, f"{base.id}.{node.attr} ({origin})"
                continue
        if node.attr in textual_private() and node.attr not in our_private():
            yield node.lineno, f"{ast.unparse(node)}"


@cache
def class_private(cls: type) -> frozenset[str]:
    """The private names a (Textual) class defines in its own body."""
    tree = ast.parse(inspect.getsource(sys.modules[cls.__module__]))
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == cls.__name__:
            return frozenset(private_definitions(node))
    return frozenset()


def shadowed_internals(module: ModuleType, tree: ast.Module) -> Iterator[tuple[int, str]]:
    """In classes derived from Textual's, ``self._name`` or ``def _name`` that a Textual base
    defines."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.ClassDef) or not hasattr(module, node.name):
            continue
        cls = getattr(module, node.name)
        if not isinstance(cls, type):
            continue
        bases = [base for base in cls.__mro__ if base.__module__.split(".")[0] == "textual"]
        theirs = {name: base for base in bases for name in class_private(base)}
        for inner in ast.walk(node):
            if (
                isinstance(inner, ast.Attribute)
                and isinstance(inner.value, ast.Name)
                and inner.value.id in ("self", "cls")
                and inner.attr in theirs
            ):
                owner = theirs[inner.attr].__name__
                yield inner.lineno, f"{node.name}: self.{inner.attr} is {owner}'s"
            elif isinstance(inner, ast.FunctionDef | ast.AsyncFunctionDef) and inner.name in theirs:
                owner = theirs[inner.name].__name__
                yield inner.lineno, f"{node.name}.{inner.name} shadows {owner}'s"


def findings() -> list[str]:
    found: list[str] = []
    for root in SCANNED:
        for path in python_files(ROOT / root):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            where = path.relative_to(ROOT)
            problems = [*private_imports(tree), *private_uses(tree)]
            if root == "voki_tui":
                name = ".".join(where.with_suffix("").parts)
                problems += shadowed_internals(importlib.import_module(name), tree)
            found += [f"{where}:{line}: {what}" for line, what in sorted(problems)]
    return found


def test_no_private_textual_api() -> None:
    assert findings() == []


def test_the_scan_sees_private_textual_api() -> None:
    """Each rule catches what it is for (so an empty result above means something)."""
    sample = ast.parse(
        "from textual.widgets._toast import Toast\n"
        "from textual.screen import Screen\n"
        "node._bindings.copy()\n"
        "Screen._refresh_layout\n"
        "self.app._notifications\n"
        "self._own_thing\n"
        "import os\nos._exit(1)\n"
    )
    problems = [what for _line, what in sorted([*private_imports(sample), *private_uses(sample)])]
    assert problems == [
        "imports textual.widgets._toast.Toast",
        "node._bindings",
        "Screen._refresh_layout (textual.screen.Screen)",
        "self.app._notifications",
    ]
    assert "_bindings" in class_private(importlib.import_module("textual.dom").DOMNode)


def test_the_scan_sees_a_subclass_using_textual_internals() -> None:
    source = (
        "from textual.widget import Widget\n"
        "class Panel(Widget):\n"
        "    def grow(self) -> None:\n"
        "        self._layout_required = True\n"
        "        self._ours = 1\n"
        "    def _refresh_scroll(self) -> None: ...\n"
    )
    module = ModuleType("sample")
    exec(compile(source, "sample.py", "exec"), module.__dict__)
    problems = [what for _line, what in shadowed_internals(module, ast.parse(source))]
    assert sorted(problems) == [
        "Panel._refresh_scroll shadows Widget's",
        "Panel: self._layout_required is Widget's",
    ]
