"""The gettext catalogs: in step with the code, complete, compiled, and in the wheel."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_catalogs_are_in_step_with_the_code_complete_and_compiled() -> None:
    """What ``python scripts/catalogs.py --check`` says: every label the code shows is in
    every catalog, translated, and each ``.mo`` is compiled from its ``.po``."""
    result = subprocess.run(
        [sys.executable, "scripts/catalogs.py", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.slow
def test_the_wheel_ships_the_compiled_catalogs(tmp_path: Path) -> None:
    """``pip install .`` finds the catalogs: they are in the wheel, where gettext looks."""
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    (wheel,) = tmp_path.glob("voki_tui-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for language in ("pt_BR", "es", "fr"):
        assert f"voki_tui/locale/{language}/LC_MESSAGES/voki_tui.mo" in names
