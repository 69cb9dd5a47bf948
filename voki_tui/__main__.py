"""``python -m voki_tui`` and the ``voki-tui`` console script."""

from __future__ import annotations

import sys

from voki_tui.cli import main as _main


def main() -> None:
    sys.exit(_main())


if __name__ == "__main__":
    main()
