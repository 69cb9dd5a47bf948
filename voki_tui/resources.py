"""Where the packaged stylesheets live, in a wheel and in a source checkout.

The ``.tcss`` files are kept in the top-level ``styles/`` directory of the repository and are
copied into the wheel as ``voki_tui/styles/``. An editable install keeps them where they are.
"""

from __future__ import annotations

import sys
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def styles_dir() -> Path:
    """The directory holding the ``.tcss`` files, whichever way voki-tui was installed."""
    for candidate in (_PACKAGE_DIR / "styles", _PACKAGE_DIR.parent / "styles"):
        if any(candidate.glob("*.tcss")):
            return candidate
    raise FileNotFoundError("voki-tui's stylesheets (styles/*.tcss) are missing from the install")


def main() -> None:
    """Print the styles directory and its files; exit 1 if none are installed (CI uses this)."""
    try:
        found = styles_dir()
    except FileNotFoundError as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(1) from exc
    print(found)
    for path in sorted(found.glob("*.tcss")):
        print(" ", path.name)


if __name__ == "__main__":
    main()
