"""The ``safetynet`` command line. Each command is one unit of work: it commits once, or not at all."""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from safetynet.cli.display import print_chart, print_scenario_result
from safetynet.core.clock import SystemClock, parse_moment
from safetynet.core.context import Actor, Context, Role
from safetynet.core.db import database_url, make_engine, unit_of_work
from safetynet.core.errors import NotFound, SafetynetError, ValidationFailed
from safetynet.record import caseload as caseload_service
from safetynet.record.chart import chart, chart_as_dict, stats
from safetynet.record.org import service as org

app = typer.Typer(help="Safetynet: a clinical safety net for community mental health services.", no_args_is_help=True)
db_app = typer.Typer(help="Create, migrate and inspect the database.", no_args_is_help=True)
scenario_app = typer.Typer(
    help="Scenario files: fictional stories used to specify and test the safety net.", no_args_is_help=True
)
patient_app = typer.Typer(help="One person's record.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(scenario_app, name="scenario")
app.add_typer(patient_app, name="patient")

out = Console()
err = Console(stderr=True)


class Format(StrEnum):
    TEXT = "text"
    JSON = "json"


FormatOption = Annotated[Format, typer.Option("--format", help="text for people, json for programs.")]
PurposeOption = Annotated[str, typer.Option("--purpose", help="Why you are looking: recorded in the audit trail.")]


def _actor(purpose: str) -> Actor:
    return Actor(name=f"command line ({getpass.getuser()})", role=Role.ADMINISTRATOR, purpose=purpose)


@contextmanager
def _unit_of_work(purpose: str) -> Iterator[Context]:
    engine = make_engine()
    try:
        with unit_of_work(engine) as session:
            yield Context(session, _actor(purpose), SystemClock())
    except ValidationFailed as exc:
        err.print(f"[red]Refused: {len(exc.problems)} problem(s); nothing was written.[/red]")
        for problem in exc.problems:
            err.print(f"  - {problem}")
        raise typer.Exit(2) from None
    except (NotFound, SafetynetError) as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    finally:
        engine.dispose()


def _moment(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_moment(value)
    except ValueError:
        err.print(f"[red]{value!r} is not a date or datetime (use 2024-02-20 or 2024-02-20T14:30).[/red]")
        raise typer.Exit(2) from None


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


# --- db ----------------------------------------------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Option(help="Target revision.")] = "head") -> None:
    """Create or migrate the database to the latest schema (or REVISION)."""
    from safetynet import migrations

    migrations.upgrade(database_url(), revision)
    out.print(f"Database at revision {migrations.current(make_engine()) or 'base'}.")


@db_app.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Option(help="Target revision, e.g. -1 or base.")] = "-1") -> None:
    """Step the schema back (to REVISION). Data in dropped tables is lost: back up first."""
    from safetynet import migrations

    migrations.downgrade(database_url(), revision)
    out.print(f"Database at revision {migrations.current(make_engine()) or 'base'}.")


@db_app.command("current")
def db_current() -> None:
    """Print the schema revision the database is at."""
    from safetynet import migrations

    out.print(migrations.current(make_engine()) or "base (empty)")


@db_app.command("stats")
def db_stats(fmt: FormatOption = Format.TEXT) -> None:
    """Count rows (and distinct facts, versions folded) in every table."""
    with _unit_of_work("database statistics") as ctx:
        counts = stats(ctx)
    if fmt is Format.JSON:
        _print_json(counts)
        return
    table = Table("table", "rows", "facts")
    for name, row in counts.items():
        table.add_row(name, str(row["rows"]), str(row.get("facts", "")))
    out.print(table)


# --- scenarios ---------------------------------------------------------------------------------------------------


@scenario_app.command("load")
def scenario_load(
    file: Annotated[Path, typer.Argument(help="A scenario YAML file.", exists=True, dir_okay=False)],
) -> None:
    """Load a scenario's person and story into the database. Every error is listed; nothing loads on error."""
    from safetynet.scenarios import format as scenario_format
    from safetynet.scenarios import loader

    with _unit_of_work(f"loading scenario {file.name}") as ctx:
        scenario = scenario_format.load_file(file)
        loaded = loader.load(ctx.session, scenario)
    out.print(f"Loaded {scenario.id}: {len(loaded.fact_ids)} events for NHS number {scenario.patient.nhs_number}.")


@scenario_app.command("run")
def scenario_run(
    file: Annotated[Path, typer.Argument(help="A scenario YAML file.", exists=True, dir_okay=False)],
    fmt: FormatOption = Format.TEXT,
) -> None:
    """Load a scenario into a temporary database (never yours) and show what the safety net shows at each check."""
    from safetynet.scenarios import format as scenario_format
    from safetynet.scenarios import runner

    try:
        result = runner.run(scenario_format.load_file(file))
    except ValidationFailed as exc:
        err.print(f"[red]Refused: {len(exc.problems)} problem(s).[/red]")
        for problem in exc.problems:
            err.print(f"  - {problem}")
        raise typer.Exit(2) from None
    if fmt is Format.JSON:
        _print_json(result)
        return
    print_scenario_result(out, result)


# --- synthetic trust ---------------------------------------------------------------------------------------------


@app.command("synth")
def synth(
    patients: Annotated[int, typer.Option(help="How many people.", min=1, max=2_000_000)] = 1000,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same trust.")] = 7,
) -> None:
    """Create a synthetic trust (teams, staff, people and their stories) in an empty database."""
    from safetynet.synth import trust

    engine = make_engine()
    try:
        result = trust.build(engine, patients=patients, seed=seed, console=err)
    except ValidationFailed as exc:
        err.print(f"[red]Refused: {exc}[/red]")
        raise typer.Exit(2) from None
    finally:
        engine.dispose()
    out.print(
        f"Synthetic trust: {result.teams} teams, {result.staff} staff, {result.patients} people, {result.facts} facts."
    )


# --- one person --------------------------------------------------------------------------------------------------


@patient_app.command("show")
def patient_show(
    nhs_number: Annotated[str, typer.Argument(help="The person's NHS number.")],
    as_known_at: Annotated[
        str | None, typer.Option("--as-known-at", help="Show the record exactly as it was known at this moment.")
    ] = None,
    fmt: FormatOption = Format.TEXT,
    purpose: PurposeOption = "direct care",
) -> None:
    """Show one person's whole record, now or as known at a past moment."""
    at = _moment(as_known_at)
    with _unit_of_work(purpose) as ctx:
        record = chart_as_dict(chart(ctx, nhs_number, at))
    if fmt is Format.JSON:
        _print_json(record)
        return
    print_chart(out, record)


@app.command("caseload")
def caseload(
    team: Annotated[str | None, typer.Option(help="A team's name; leave out for a summary of every team.")] = None,
    as_known_at: Annotated[str | None, typer.Option("--as-known-at", help="As known at this moment.")] = None,
    fmt: FormatOption = Format.TEXT,
    purpose: PurposeOption = "caseload management",
) -> None:
    """A team's caseload (key worker, last attended contact, next depot, legal status), or every team's summary."""
    at = _moment(as_known_at)
    with _unit_of_work(purpose) as ctx:
        if team is None:
            rows: list[dict[str, Any]] = [asdict(s) for s in caseload_service.summarise(ctx, at)]
        else:
            rows = [asdict(e) for e in caseload_service.team_caseload(ctx, org.get_team(ctx, team), at)]
    if fmt is Format.JSON:
        _print_json(rows)
        return
    if not rows:
        out.print("Nothing to show: the caseload is empty.")
        return
    table = Table(*rows[0].keys(), title=f"Caseload: {team}" if team else "Caseload by team")
    for row in rows:
        table.add_row(
            *("" if v is None else (v.date().isoformat() if isinstance(v, datetime) else str(v)) for v in row.values())
        )
    out.print(table)


if __name__ == "__main__":  # pragma: no cover
    app()
