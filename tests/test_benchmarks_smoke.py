"""The benchmark harness runs (in quick mode), so it cannot rot between the runs that write docs/benchmarks.md."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_the_benchmark_harness_runs_and_writes_its_table(tmp_path: Path) -> None:
    out = tmp_path / "benchmarks.md"
    sections = ["--section", "record", "--section", "rules"]
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", *sections, "--quick", "--out", str(out)],
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    text = out.read_text()
    for row in (
        "| synth 600 people (SQLite): wall time |",
        "| synth 200 people (SQLite): peak memory, all processes |",
        "| bulk over services, the same people |",
        "| rules batch, all watch rules (200 people), 2 processes |",
        "| rules batch, the same in one process |",
        "SN02 + SN06: the engine",
        "incremental re-evaluation after one new fact",
        "patient show, 300 facts, as known now",
        "`safetynet patient show --format json`",
        "| SQLite |",
    ):
        assert row in text
