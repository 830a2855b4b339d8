"""FHIR bulk import and export (section ``fhir``).

    python -m benchmarks.run --section fhir            # a 2,000-person synthetic trust
    python -m benchmarks.run --section fhir --quick    # 100 people, a smoke check

A synthetic trust is written by ``safetynet synth`` and exported with ``safetynet fhir export`` (NDJSON, every
version of every fact). ``safetynet fhir import`` then runs as the user runs it, in a subprocess, into an empty
PostgreSQL database and an empty SQLite file: resources per second over the wall time, and the peak memory of the
import process tree. Once with the safety net deferred (``--no-safety-net``: the record alone, the figure the issue's
target is about) and once reconciling tasks batch by batch, as a live import does. A second import of the same files
shows what idempotency costs.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from benchmarks.report import POSTGRES, Report, scratch_postgres

TITLE = "FHIR bulk import and export"
INTRO = (
    "Import and export run as the user runs them, in subprocesses (`safetynet fhir import --workers 1`: one worker "
    "process parses and maps while the main process writes, with COPY on PostgreSQL). Throughput is resources over "
    "wall time; memory is the largest resident set among the import's processes."
)

SAFETYNET = Path(sys.executable).with_name("safetynet")
TARGET = 10_000  # resources per second into PostgreSQL (issue 5)


@dataclass(frozen=True)
class Run:
    seconds: float
    resources: int
    peak_bytes: int

    @property
    def rate(self) -> float:
        return self.resources / self.seconds if self.seconds else 0.0


def _cli(url: str, *args: str) -> tuple[float, int, str]:
    env = os.environ | {"SAFETYNET_DATABASE_URL": url}
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    done = subprocess.run([str(SAFETYNET), *args], env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"safetynet {' '.join(args)} failed: {done.stderr[-2000:]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, max(peak, before) * 1024, done.stdout


def measure(quick: bool) -> Report:
    report = Report()
    people = 100 if quick else 2_000
    with tempfile.TemporaryDirectory(prefix="safetynet-fhir-bench-") as tmp:
        folder = Path(tmp)
        source = f"sqlite:///{folder / 'source.db'}"
        _cli(source, "db", "upgrade")
        _cli(source, "synth", "--patients", str(people), "--seed", "5")
        seconds, _, _ = _cli(source, "fhir", "export", "--out", str(folder / "export"))
        resources = sum(
            sum(1 for line in path.read_bytes().splitlines() if line.strip())
            for path in (folder / "export").glob("*.ndjson")
        )
        report.add(
            f"export of a {people:,}-person trust ({resources:,} resources)", f"{resources / seconds:,.0f} resources/s"
        )

        for label, safety_net in (("record only, safety net deferred", False), ("with the safety net", True)):
            for database in ("PostgreSQL", "SQLite"):
                with ExitStack() as scratch:
                    if database == "PostgreSQL":
                        url = scratch.enter_context(scratch_postgres("fhir"))
                        if url is None:
                            raise RuntimeError(f"PostgreSQL is not reachable at {POSTGRES}")
                    else:
                        url = f"sqlite:///{folder / f'target-{safety_net}.db'}"
                    _cli(url, "db", "upgrade")
                    args = ["fhir", "import", str(folder / "export"), "--workers", "1"]
                    if not safety_net:
                        args.append("--no-safety-net")
                    seconds, peak, _ = _cli(url, *args)
                    run = Run(seconds, resources, peak)
                    target = f">= {TARGET:,}/s" if database == "PostgreSQL" and not safety_net else ""
                    met = run.rate >= TARGET if target else None
                    report.add(
                        f"import into {database}, {label}",
                        f"{run.rate:,.0f} resources/s ({seconds:.1f} s), peak {run.peak_bytes / 2**20:,.0f} MiB",
                        target,
                        met,
                    )
                    if database == "PostgreSQL" and not safety_net:
                        again, _, _ = _cli(url, *args)
                        report.add("the same import again (all unchanged)", f"{resources / again:,.0f} resources/s")
    report.notes.append(
        "Peak memory is the largest resident set of any child process so far in this run (getrusage), so it includes "
        "earlier steps' children; the import's own is at most that."
    )
    return report
