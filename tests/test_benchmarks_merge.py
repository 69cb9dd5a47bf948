"""``python -m benchmarks --merge``: one table from runs of some sections each (pure, no I/O
beyond the JSON files it is given)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.__main__ import main


def write(path: Path, data: dict[str, object]) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_merge_tables_every_run_later_files_winning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = write(
        tmp_path / "a.json",
        {
            "machine": {"nproc": 2},
            "durations_s": {"core": 30.0},
            "phoenix_js_frames_per_s": 100,
            "core_protocol_frames_per_s": 90,
            "start": {"voki_tui": {"best_s": 0.7}},
        },
    )
    second = write(
        tmp_path / "b.json",
        {
            "machine": {"nproc": 4},
            "durations_s": {"growth": 3600.0},
            "start": {"voki_tui": {"best_s": 0.4}},
            "growth": {"minutes": 60.0, "rss_growth_mb": 6.5},
        },
    )
    out = tmp_path / "merged.json"
    assert main(["--merge", str(first), str(second), "--json", str(out)]) == 0
    table = capsys.readouterr().out.splitlines()
    row = {line.split("|")[1].strip(): line.split("|")[2:5] for line in table if "|" in line}
    assert [cell.strip() for cell in row["core frames/s (protocol + presence)"]] == [
        "90",
        ">= phoenix.js",
        "NO",
    ]
    assert row["start to first live row s"][0].strip() == "0.400"  # the later run wins
    assert row["wallboard RSS growth MB, the run"][2].strip() == "NO"  # 6.5 over an hour
    merged = json.loads(out.read_text(encoding="utf-8"))
    assert merged["durations_s"] == {"core": 30.0, "growth": 3600.0}
    assert [run["machine"]["nproc"] for run in merged["runs"]] == [2, 4]
