"""What every benchmark section shares: a table of figures against targets, the machine, and docs/benchmarks.md.

docs/benchmarks.md holds one section per area (record, web, fhir, oversight, ...), each between markers, so that
running one section rewrites only its own figures and leaves the others' (with their own machine facts) alone."""

from __future__ import annotations

import os
import platform
import re
import socket
import sqlite3
import statistics
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text

from safetynet.web.server import HTTP_PROTOCOL

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "benchmarks.md"
POSTGRES = os.environ.get("SAFETYNET_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def uvicorn_command(factory: str, port: int, workers: int) -> list[str]:
    """A server subprocess as ``safetynet serve`` runs one (its HTTP protocol), for an app ``factory``."""
    return [
        *(sys.executable, "-m", "uvicorn", "--factory", factory, "--host", "127.0.0.1", "--port", str(port)),
        *("--workers", str(workers), "--log-level", "warning", "--no-access-log", "--http", HTTP_PROTOCOL),
    ]


@contextmanager
def scratch_postgres(purpose: str) -> Iterator[str | None]:
    """A new, empty PostgreSQL database for one benchmark, dropped afterwards; None if PostgreSQL is unreachable."""
    name = f"safetynet_bench_{purpose}_{uuid.uuid4().hex[:8]}"
    server = create_engine(POSTGRES, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 2})
    try:
        with server.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception:
        server.dispose()
        yield None
        return
    try:
        yield POSTGRES.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


HEADER = """# Benchmarks

Measured by the harness in `benchmarks/`. Reproduce everything with `make bench` (`.venv/bin/python -m
benchmarks.run`), or one section with `.venv/bin/python -m benchmarks.run --section NAME`.

Each section is one run's figures on the machine named under it, which other work may have been sharing (see the
load averages). Targets come from the issues; ratios are measured against a baseline in the same run.
"""


@dataclass
class Row:
    benchmark: str
    figure: str
    target: str = ""
    met: bool | None = None


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, benchmark: str, figure: str, target: str = "", met: bool | None = None) -> None:
        self.rows.append(Row(benchmark, figure, target, met))
        verdict = "" if met is None else (" (met)" if met else " (NOT met)")
        print(f"  {benchmark}: {figure}{' / target ' + target if target else ''}{verdict}", flush=True)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def percentile(timings: list[float], fraction: float) -> float:
    ordered = sorted(timings)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def median_p95(timings: list[float]) -> str:
    return f"median {ms(statistics.median(timings))}, p95 {ms(percentile(timings, 0.95))} ({len(timings)} runs)"


def machine() -> list[tuple[str, str]]:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in _read("/proc/cpuinfo").splitlines() if "model name" in line), "?"
    )
    memory = next((line.split()[1] for line in _read("/proc/meminfo").splitlines() if "MemTotal" in line), "0")
    return [
        ("CPU cores", f"{os.cpu_count()} ({cpu})"),
        ("Memory", f"{int(memory) / 1024**2:.1f} GiB"),
        ("Load average when the run started", " ".join(f"{x:.2f}" for x in os.getloadavg())),
        ("Python", platform.python_version()),
        ("SQLite", sqlite3.sqlite_version),
        ("PostgreSQL", _postgres_version()),
        ("OS", platform.platform()),
        ("Date", datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")),
    ]


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def _postgres_version() -> str:
    try:
        engine = create_engine(POSTGRES, connect_args={"connect_timeout": 2})
        with engine.connect() as connection:
            version = str(connection.execute(text("SHOW server_version")).scalar())
        engine.dispose()
        return version
    except Exception as exc:
        return f"not reachable ({type(exc).__name__})"


def render(name: str, title: str, intro: str, report: Report, facts: list[tuple[str, str]], quick: bool) -> str:
    lines = [f"<!-- section: {name} -->", f"## {title}", ""]
    if intro:
        lines += [intro, ""]
    lines += [f"`.venv/bin/python -m benchmarks.run --section {name}{' --quick' if quick else ''}`", ""]
    lines += ["| Benchmark | Figure | Target | Met |", "|---|---|---|---|"]
    for row in report.rows:
        met = "" if row.met is None else ("yes" if row.met else "**no**")
        lines.append(f"| {row.benchmark} | {row.figure} | {row.target} | {met} |")
    if report.notes:
        lines += ["", *report.notes]
    lines += ["", "<details><summary>Machine</summary>", "", "| | |", "|---|---|"]
    lines += [f"| {key} | {value} |" for key, value in facts]
    lines += ["", "</details>"]
    if quick:
        lines += ["", "Quick mode: small sizes, a smoke check, not the figures to quote."]
    lines += [f"<!-- end section: {name} -->"]
    return "\n".join(lines)


def write_section(out: Path, name: str, body: str) -> None:
    """Replace section ``name`` in ``out`` (or add it at the end), leaving every other section as it was."""
    current = out.read_text(encoding="utf-8") if out.exists() else HEADER
    if not current.startswith("# Benchmarks"):
        current = HEADER
    pattern = re.compile(rf"<!-- section: {re.escape(name)} -->.*?<!-- end section: {re.escape(name)} -->", re.S)
    updated = pattern.sub(lambda _: body, current) if pattern.search(current) else current.rstrip("\n") + "\n\n" + body
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(updated.rstrip("\n") + "\n", encoding="utf-8")
    print(f"Wrote section {name!r} of {out}", flush=True)
