"""Record what Textual writes for a screen of the running app, one driver write per frame.

The app runs in a pty against voki-sim in the realistic case of ``benchmarks/cost.py`` (40
customers waiting, 1 event/s), from its start, with its copying driver (chosen through
``TEXTUAL_DRIVER``) wrapped to append each ``write`` to a file, NUL between writes, as Textual
wrote it, before the screen copy. ``tests/ui/test_screen_copy.py`` replays these recordings
through ``ScreenCopy``; ``tests/integration/test_screen_copy_pty.py`` uses the driver to
compare what Textual wrote with what reached the pty.

    .venv/bin/python scripts/record_output.py queue 100x30 20 tests/ui/data/queue-100x30.txt.gz
"""

from __future__ import annotations

import argparse
import gzip
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from voki_tui.ui.driver import ScreenCopyDriver

ROOT = Path(__file__).resolve().parents[1]
OUTPUT_ENV = "VOKI_RECORD_OUTPUT"


class RecordingDriver(ScreenCopyDriver):
    """The app's driver, appending every write to the file ``$VOKI_RECORD_OUTPUT`` first."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.record = Path(os.environ[OUTPUT_ENV]).open("a", encoding="utf-8")  # noqa: SIM115

    def write(self, data: str) -> None:
        self.record.write(data + "\x00")
        self.record.flush()
        super().write(data)


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from benchmarks.app_pty import app_argv, app_env
    from benchmarks.cost import LIVE, realistic_sim
    from benchmarks.pty_meter import PtyChild

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("screen", choices=("queue", "wallboard"))
    parser.add_argument("size", help="COLSxROWS")
    parser.add_argument("seconds", type=float)
    parser.add_argument("output", type=Path, help="a .txt.gz file")
    args = parser.parse_args()
    cols, rows = (int(n) for n in args.size.split("x"))
    with (
        realistic_sim() as (sim, department, _),
        app_env() as env,
        tempfile.TemporaryDirectory() as tmp,
    ):
        record = Path(tmp) / "writes"
        env = {
            **env,
            "TEXTUAL_DRIVER": "scripts.record_output:RecordingDriver",
            OUTPUT_ENV: str(record),
            "PYTHONPATH": str(ROOT),
        }
        extra = ("--wallboard",) if args.screen == "wallboard" else ("--department", department)
        child = PtyChild(app_argv(sim.url, "--lang", "en", *extra), cols, rows, env)
        seen, asked = b"", args.screen != "queue"
        try:
            deadline = time.monotonic() + args.seconds
            while time.monotonic() < deadline:
                seen += child.read_for(0.2)[2]
                if not asked and LIVE in seen:
                    os.write(child.fd, b"u")  # the department's queue, as cost.py opens it
                    asked = True
        finally:
            child.stop()
        writes = record.read_text(encoding="utf-8").rstrip("\x00")
    args.output.write_bytes(gzip.compress(writes.encode(), mtime=0))
    print(f"{args.output}: {writes.count(chr(0)) + 1} writes, {len(writes)} characters")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
