"""``safetynet national``: the national tier (pseudonymised extracts, ingest, indicators, published MHSDS data)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from safetynet.cli.common import err, out

national_app = typer.Typer(
    help="The national tier: pseudonymised extracts from trusts, ingest, indicators across providers.",
    no_args_is_help=True,
)


class Engine(StrEnum):
    DUCKDB = "duckdb"
    SPARK = "spark"


class TableFormat(StrEnum):
    CSV = "csv"
    JSON = "json"
    MEASURE_REPORT = "measurereport"  # a FHIR Bundle of MeasureReports


DbOption = Annotated[
    Path | None,
    typer.Option("--db", help="The national DuckDB file (default $SAFETYNET_NATIONAL_DB or var/national.duckdb)."),
]


def _refused(exc: Exception) -> typer.Exit:
    err.print(f"[red]{exc}[/red]")
    return typer.Exit(2)


@national_app.command("extract")
def extract(
    provider: Annotated[str, typer.Option("--provider", help="This trust's ODS code (checked against the database).")],
    period: Annotated[str, typer.Option("--period", help="The month, YYYY-MM: as known at the end of its last day.")],
    out_dir: Annotated[Path, typer.Option("--out", help="An empty directory to write the extract into.")],
) -> None:
    """Write a pseudonymised Parquet extract of this trust's database for one month (key from
    SAFETYNET_NATIONAL_KEY or SAFETYNET_NATIONAL_KEY_FILE)."""
    from safetynet.core.clock import SystemClock
    from safetynet.core.db import database_url
    from safetynet.oversight import national

    try:
        result = national.write_extract(
            database_url(), provider, period, out_dir, national.national_key(), SystemClock().now()
        )
    except (national.NationalError, ValueError) as exc:
        raise _refused(exc) from None
    total = sum(result.rows.values())
    out.print(f"Extract for {result.provider} {result.period}: {total} rows in {len(result.rows)} tables, {out_dir}.")


@national_app.command("ingest")
def ingest(
    directories: Annotated[list[Path], typer.Argument(help="One or more extract directories (with manifest.json).")],
    db: DbOption = None,
) -> None:
    """Validate each extract and load it into the national database: each all or nothing, duplicates refused.
    Every extract is tried; the exit status is 2 if any was refused."""
    from safetynet.core.clock import SystemClock
    from safetynet.oversight import national

    refused = 0
    for directory in directories:
        try:
            result = national.ingest(directory, national.database_path(db), SystemClock().now())
        except national.NationalError as exc:
            err.print(f"[red]{exc}[/red]")
            refused += 1
            continue
        out.print(f"Loaded {result.provider} {result.period}: {sum(result.rows.values())} rows.")
    if refused:
        err.print(f"[red]{refused} of {len(directories)} extract(s) refused; the others are loaded.[/red]")
        raise typer.Exit(2)


@national_app.command("indicators")
def indicators(
    period: Annotated[str, typer.Option("--period", help="The month, YYYY-MM.")],
    engine: Annotated[Engine, typer.Option("--engine", help="duckdb (default) or spark (local).")] = Engine.DUCKDB,
    fmt: Annotated[
        TableFormat, typer.Option("--format", help="csv, json, or measurereport (a FHIR R4 Bundle of MeasureReports).")
    ] = TableFormat.CSV,
    db: DbOption = None,
    source: Annotated[
        Path | None,
        typer.Option("--source", help="Read Parquet in the extract schema from this directory instead of --db."),
    ] = None,
) -> None:
    """Run the indicator suite for one period across every provider loaded (or in --source)."""
    import json
    import sys
    import tempfile

    import ibis

    from safetynet.oversight import national
    from safetynet.oversight.indicators import run, with_values

    try:
        national.parse_checked_period(period)
        if engine is Engine.DUCKDB:
            if source is not None:
                con = ibis.duckdb.connect()
                frame = run(national.parquet_tables(con, source, period), con)
            else:
                path = national.database_path(db)
                if not path.exists():
                    raise national.NationalError(f"No national database at {path}: run `safetynet national ingest`.")
                con = ibis.duckdb.connect(str(path), read_only=True)
                frame = run(national.national_tables(con, period), con)
        else:
            with tempfile.TemporaryDirectory(prefix="safetynet-national-") as scratch:
                directory = source
                if directory is None:
                    directory = Path(scratch) / "period"
                    national.export_period(national.database_path(db), period, directory)
                with national.spark_session() as session:
                    con = national.spark_connect(session)
                    frame = run(national.parquet_tables(con, directory, period), con)
    except (national.NationalError, ValueError) as exc:
        raise _refused(exc) from None
    rows = with_values(frame)
    if fmt is TableFormat.MEASURE_REPORT:
        from safetynet.core.clock import SystemClock
        from safetynet.oversight.measure_report import measure_reports

        sys.stdout.write(json.dumps(measure_reports(rows, SystemClock().now()), indent=2) + "\n")
        return
    if fmt is TableFormat.JSON:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    import csv

    writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]) if rows else ["indicator"])
    writer.writeheader()
    writer.writerows(rows)


@national_app.command("synth")
def synth_national(
    out_dir: Annotated[Path, typer.Option("--out", help="Directory for the Parquet files.")],
    providers: Annotated[int, typer.Option("--providers", help="How many providers.", min=1, max=500)] = 50,
    patients: Annotated[int, typer.Option("--patients", help="How many people.", min=1, max=20_000_000)] = 2_000_000,
    period: Annotated[str, typer.Option("--period", help="The reporting month, YYYY-MM.")] = "2024-06",
    seed: Annotated[int, typer.Option("--seed", help="Random seed: the same seed, the same population.")] = 7,
    extracts: Annotated[
        Path | None,
        typer.Option("--extracts", help="Also write one provider extract per provider here, ready to ingest."),
    ] = None,
) -> None:
    """Generate a national synthetic population in the extract schema, straight to Parquet (vectorised)."""
    import time

    from safetynet.oversight import national
    from safetynet.oversight.synth_national import generate

    try:
        national.parse_checked_period(period)
    except (national.NationalError, ValueError) as exc:
        raise _refused(exc) from None
    started = time.perf_counter()
    result = generate(
        out_dir, providers=providers, patients=patients, period=period, seed=seed, progress=lambda m: err.print(m)
    )
    out.print(
        f"{result.people:,} people at {result.providers} providers, {sum(result.rows.values()):,} rows, "
        f"{result.bytes / 1e6:.1f} MB in {time.perf_counter() - started:.1f} s: {out_dir}."
    )
    if extracts is not None:
        from safetynet.core.clock import SystemClock
        from safetynet.oversight.synth_national import split_extracts

        written = split_extracts(out_dir, period, extracts, SystemClock().now())
        out.print(f"{len(written)} provider extracts in {extracts}.")


@national_app.command("indicators-docs")
def indicators_docs(
    out_path: Annotated[Path, typer.Option("--out", help="Where to write the catalogue.")] = Path("docs/indicators.md"),
) -> None:
    """Write docs/indicators.md from the indicator catalogue."""
    from safetynet.oversight.docs import render

    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(render(), encoding="utf-8")
    out.print(f"Wrote {out_path}.")
