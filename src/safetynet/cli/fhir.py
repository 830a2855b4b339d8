"""``safetynet fhir``: bulk FHIR R4 import (NDJSON files or Bundles) and export (NDJSON per resource type)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import Engine

from safetynet.cli.common import Format, FormatOption, err, out, print_json

fhir_app = typer.Typer(help="FHIR R4 in and out: bulk import and export (docs/fhir.md).", no_args_is_help=True)


def _engine() -> Engine:
    from safetynet import migrations
    from safetynet.core.db import make_engine

    engine = make_engine()
    if migrations.current(engine) is None:
        engine.dispose()
        err.print("[red]The database has no schema yet: run `safetynet db upgrade` first.[/red]")
        raise typer.Exit(1)
    return engine


@fhir_app.command("import")
def import_(
    paths: Annotated[list[Path], typer.Argument(help="NDJSON files, Bundle files, or folders of them.")],
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Resources per transaction.")] = 5000,
    no_safety_net: Annotated[
        bool,
        typer.Option("--no-safety-net", help="Do not reconcile tasks while importing (run the rules afterwards)."),
    ] = False,
    workers: Annotated[
        int, typer.Option("--workers", min=0, help="Worker processes that parse and map while this one writes.")
    ] = 1,
    fmt: FormatOption = Format.TEXT,
) -> None:
    """Import FHIR resources into the record: idempotent (the same data twice changes nothing) and resumable (run
    an interrupted import again). Refused resources are listed with file, line and field."""
    from safetynet.core.clock import SystemClock
    from safetynet.interop.fhir import bulk

    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        err.print(f"[red]No such file or folder: {', '.join(missing)}[/red]")
        raise typer.Exit(2)
    engine = _engine()
    try:
        report = bulk.import_paths(
            engine, paths, SystemClock(), batch_size=batch_size, safety_net=not no_safety_net, workers=workers
        )
    finally:
        engine.dispose()
    if fmt is Format.JSON:
        print_json(report.as_outcome())
    else:
        out.print(
            f"Read {report.read}: imported {report.imported}, unchanged {report.unchanged}, "
            f"skipped {report.skipped} (produced by Safetynet), refused {len(report.refused)}; "
            f"{report.tasks_opened} task(s) opened."
        )
        for refusal in report.refused:
            for issue in refusal.issues:
                err.print(
                    f"  - {refusal.source} line {refusal.line} {refusal.resource} {issue.expression}: {issue.message}"
                )
    if report.refused:
        raise typer.Exit(2)


@fhir_app.command("export")
def export(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the NDJSON files (one per resource type).")] = Path(
        "fhir-export"
    ),
) -> None:
    """Export the whole record, every version of every fact, as NDJSON (one file per resource type)."""
    from safetynet.interop.fhir import bulk

    engine = _engine()
    try:
        done = bulk.export(engine, out_dir)
    finally:
        engine.dispose()
    total = sum(done.files.values())
    out.print(f"Exported {total} resources into {out_dir} ({len(done.files)} files).")
