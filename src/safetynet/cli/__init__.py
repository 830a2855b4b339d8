"""The ``safetynet`` command line. Each command is one unit of work: it commits once, or not at all."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import BaseModel, ConfigDict
from rich.table import Table

from safetynet.audit import service as audit
from safetynet.cli.common import (
    Format,
    FormatOption,
    PurposeOption,
    err,
    out,
)
from safetynet.cli.common import moment as _moment
from safetynet.cli.common import print_json as _print_json
from safetynet.cli.common import unit_of_work as _unit_of_work
from safetynet.cli.display import print_chart, print_scenario_result
from safetynet.core.clock import LONDON, iso_utc
from safetynet.core.context import Actor, Context, Role
from safetynet.core.db import database_url, make_engine
from safetynet.core.errors import Problem, ValidationFailed
from safetynet.record import caseload as caseload_service
from safetynet.record.chart import chart, chart_as_dict, stats
from safetynet.record.episodes.models import DischargeDestination, DischargeReason
from safetynet.record.org import service as org

app = typer.Typer(help="Safetynet: a clinical safety net for community mental health services.", no_args_is_help=True)
db_app = typer.Typer(help="Create, migrate and inspect the database.", no_args_is_help=True)
scenario_app = typer.Typer(
    help="Scenario files: fictional stories used to specify and test the safety net.", no_args_is_help=True
)
patient_app = typer.Typer(help="One person's record.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(scenario_app, name="scenario")
rules_app = typer.Typer(help="The rulebook: list, run and document the safety net's rules.", no_args_is_help=True)
app.add_typer(patient_app, name="patient")
app.add_typer(rules_app, name="rules")
tasks_app = typer.Typer(
    help="Tasks the safety net has raised: worklists, escalation, acting on them.", no_args_is_help=True
)
app.add_typer(tasks_app, name="tasks")

# Command groups in their own modules (cli/<area>.py): one import and one add_typer each.
from safetynet.cli import published as _published  # noqa: E402, F401  (adds national import-published and funnel)
from safetynet.cli.national import national_app  # noqa: E402

app.add_typer(national_app, name="national")
from safetynet.cli.indicators import indicators_app  # noqa: E402

app.add_typer(indicators_app, name="indicators")
from safetynet.cli.fhir import fhir_app  # noqa: E402

app.add_typer(fhir_app, name="fhir")
from safetynet.cli import learning as learning_cli  # noqa: E402

learning_cli.register(app)
from safetynet.cli.accounts import accounts_app  # noqa: E402

app.add_typer(accounts_app, name="accounts")
from safetynet.cli.web import serve  # noqa: E402

app.command("serve")(serve)
from safetynet.cli.audit import audit_app  # noqa: E402

app.add_typer(audit_app, name="audit")
from safetynet.cli.access import access_app  # noqa: E402

app.add_typer(access_app, name="access")
from safetynet.cli import backup as backup_cli  # noqa: E402

backup_cli.register(app)


class DischargeRequestIn(BaseModel):
    """The command line's discharge options, validated before anything is asked of the gates."""

    model_config = ConfigDict(extra="forbid")
    kind: str
    team_id: str | None = None
    reason: DischargeReason | None = None
    destination: DischargeDestination | None = None
    crisis_team_accepted: bool | None = None
    carer_informed: bool | None = None
    override_rationale: str | None = None


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


# --- rules ------------------------------------------------------------------------------------------------------


@rules_app.command("list")
def rules_list(fmt: FormatOption = Format.TEXT) -> None:
    """List every rule with its id, version, kind and title."""
    from safetynet.rules.registry import RULES

    rows = [
        {"id": r.id, "version": r.version, "kind": str(r.kind), "name": r.name, "title": r.title}
        for r in RULES.values()
    ]
    if fmt is Format.JSON:
        _print_json(rows)
        return
    table = Table("id", "version", "kind", "name", "title", title="Rulebook")
    for row in rows:
        table.add_row(*(str(v) for v in row.values()))
    out.print(table)


@rules_app.command("burden")
def rules_burden(
    days: Annotated[int, typer.Option(help="How many days back from --end.", min=1, max=366)] = 30,
    end: Annotated[str | None, typer.Option(help="Last day (YYYY-MM-DD); default: yesterday.")] = None,
    fmt: FormatOption = Format.TEXT,
) -> None:
    """Alert burden: new tasks per clinician per working day (median, p90, max) and per rule, by replaying the trust."""
    from dataclasses import asdict

    from safetynet.rules.burden import measure

    with _unit_of_work("alert burden") as ctx:
        last = _day(end) if end else ctx.clock.now().astimezone(LONDON).date() - timedelta(days=1)
        burden = measure(ctx.session, last, days)
    data = asdict(burden) | {"start": burden.start.isoformat(), "end": burden.end.isoformat()}
    if fmt is Format.JSON:
        _print_json(data)
        return
    rate = burden.per_clinician_per_day
    out.print(
        f"{burden.start} to {burden.end} ({burden.working_days} working days, {burden.clinicians} clinicians): "
        f"new tasks per clinician per working day median {rate['median']}, p90 {rate['p90']}, max {rate['max']}."
    )
    table = Table("rule", "new tasks", title="By rule")
    for rule_id, count in burden.per_rule.items():
        table.add_row(rule_id, str(count))
    out.print(table)


@rules_app.command("docs")
def rules_docs(
    out_path: Annotated[Path, typer.Option("--out", help="Where to write the rulebook's documentation.")] = Path(
        "docs/rules.md"
    ),
) -> None:
    """Write docs/rules.md from the rule registry."""
    from safetynet.rules.docs import render

    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(render(), encoding="utf-8")
    out.print(f"Wrote {out_path}.")


@rules_app.command("run")
def rules_run(
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Evaluate as known at this moment (default: now).")
    ] = None,
    fmt: FormatOption = Format.TEXT,
) -> None:
    """Evaluate every watch rule for everyone, as known now or at --as-of. Changes nothing."""
    from safetynet.rules.replay import batch

    with _unit_of_work("safety net evaluation") as ctx:
        at = _moment(as_of) or ctx.clock.now()
        people: list[dict[str, Any]] = []
        for history, evaluation in batch(ctx.session, at):
            if evaluation.findings or evaluation.failures:
                audit.record_read(ctx, entity="findings", patient_id=history.patient_id, detail="rules run")
                people.append(
                    {
                        "nhs_number": history.nhs_number,
                        "open": [_finding_json(f, at) for f in evaluation.findings],
                        "rule_failures": [{"rule": f.rule_id, "error": f.error} for f in evaluation.failures],
                    }
                )
    if fmt is Format.JSON:
        _print_json({"as_of": iso_utc(at), "people": people})
        return
    counts: dict[str, int] = {}
    for person in people:
        for finding in person["open"]:
            counts[finding["rule"]] = counts.get(finding["rule"], 0) + 1
    table = Table("rule", "open findings", title=f"Open findings as known at {at.isoformat()}")
    for rule_id, count in sorted(counts.items()):
        table.add_row(rule_id, str(count))
    out.print(table)
    failures = sum(len(p["rule_failures"]) for p in people)
    if failures:
        err.print(f"[bold red]{failures} rule evaluation(s) FAILED: run with --format json to see them.[/bold red]")


@app.command("replay")
def replay_command(
    nhs_number: Annotated[str, typer.Argument(help="The person's NHS number.")],
    from_: Annotated[str, typer.Option("--from", help="First day (YYYY-MM-DD).")],
    to: Annotated[str, typer.Option("--to", help="Last day (YYYY-MM-DD).")],
    fmt: FormatOption = Format.TEXT,
    purpose: PurposeOption = "learning review",
) -> None:
    """Day by day, which findings would have been open using only what was recorded by then."""
    from safetynet.record.patients import service as patients
    from safetynet.rules.facts import load_history
    from safetynet.rules.replay import replay

    start, end = _day(from_), _day(to)
    if end < start:
        err.print("[red]--to is before --from.[/red]")
        raise typer.Exit(2)
    with _unit_of_work(purpose) as ctx:
        patient = patients.get(ctx, nhs_number)
        audit.record_read(ctx, entity="replay", patient_id=patient.id, detail=f"{start} to {end}")
        result = replay(load_history(ctx.session, patient.id), start, end)
    findings: list[dict[str, Any]] = [
        {
            "rule": e.rule_id,
            "key": e.key,
            "first_open": e.first_open.isoformat(),
            "last_open": e.last_open.isoformat(),
            "closed_on": e.closed_on.isoformat() if e.closed_on else None,
            "days_open": e.days_open,
            "since": iso_utc(e.since),
            "due": iso_utc(e.due),
            "summary": e.summary,
        }
        for e in result.episodes
    ]
    if fmt is Format.JSON:
        days = [{"date": d.isoformat(), "open": sorted({f.rule_id for f in fs})} for d, fs in result.days]
        _print_json(
            {
                "nhs_number": nhs_number,
                "from": start.isoformat(),
                "to": end.isoformat(),
                "findings": findings,
                "days": days,
            }
        )
        return
    table = Table("rule", "first open", "closed", "days open", "summary", title=f"Replay {start} to {end}")
    for f in findings:
        table.add_row(*(str(f[k] or "still open") for k in ("rule", "first_open", "closed_on", "days_open", "summary")))
    out.print(table)


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        err.print(f"[red]{value!r} is not a date (use YYYY-MM-DD).[/red]")
        raise typer.Exit(2) from None


def _finding_json(finding: Any, at: datetime) -> dict[str, Any]:
    return {
        "rule": finding.rule_id,
        "key": finding.key,
        "since": iso_utc(finding.since),
        "due": iso_utc(finding.due),
        "overdue": finding.overdue(at),
        "summary": finding.summary,
        "evidence": [f"{e.kind} {e.fact_id} {e.text} recorded {e.recorded_at.date()}" for e in finding.evidence],
    }


# --- tasks ------------------------------------------------------------------------------------------------------

AsOption = Annotated[str, typer.Option("--as", help="The staff member acting (their role decides what they may do).")]
RationaleOption = Annotated[str, typer.Option("--rationale", help="Why: recorded with your name and role.")]


@contextmanager
def _acting(staff_name: str, purpose: str) -> Iterator[Context]:
    with _unit_of_work(purpose) as ctx:
        staff = org.find_staff(ctx, staff_name)
        if staff is None:
            err.print(f"[red]No staff member called {staff_name!r}.[/red]")
            raise typer.Exit(2)
        yield ctx.as_actor(Actor(name=staff.name, role=Role(staff.role), staff_id=staff.id, purpose=purpose))


@tasks_app.command("list")
def tasks_list(
    staff: Annotated[
        str | None, typer.Option(help="Whose worklist (a staff member's name); all open tasks if left out.")
    ] = None,
    fmt: FormatOption = Format.TEXT,
) -> None:
    """Open tasks, most urgent first: for one person's worklist, or for the whole trust."""
    from sqlalchemy import select

    from safetynet.tasks import service as tasks
    from safetynet.tasks.models import Task

    with _unit_of_work("worklist") as ctx:
        if staff:
            member = org.find_staff(ctx, staff)
            if member is None:
                err.print(f"[red]No staff member called {staff!r}.[/red]")
                raise typer.Exit(2)
            found = tasks.worklist(ctx, member.id)
        else:
            found = list(ctx.session.scalars(select(Task).where(Task.closed_at.is_(None)).order_by(Task.due_at)))
        rows = [tasks.as_json(t) for t in found]
    if fmt is Format.JSON:
        _print_json(rows)
        return
    table = Table("id", "rule", "status", "due", "owner", "level", "summary", title="Tasks")
    for row in rows:
        table.add_row(
            row["id"][:8],
            row["rule"],
            row["status"],
            row["due"][:16],
            row["owner_role"],
            str(row["escalation_level"]),
            row["summary"],
        )
    out.print(table)


@tasks_app.command("escalate")
def tasks_escalate() -> None:
    """Escalate overdue tasks one step (key worker -> team manager -> consultant or safety lead)."""
    from safetynet.tasks.escalation import escalate

    with _unit_of_work("escalation") as ctx:
        done = escalate(ctx)
    out.print(f"Escalated {len(done)} task(s).")


@tasks_app.command("reconcile")
def tasks_reconcile(
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Reconcile with the findings as known at this moment (default: now).")
    ] = None,
) -> None:
    """Run the safety net over the whole trust: open tasks for findings, close those whose findings cleared.

    For records written in bulk (``safetynet synth``), which raise no tasks themselves. Idempotent: a second run
    changes nothing."""
    from safetynet.tasks.runner import reconcile_trust

    with _unit_of_work("safety net evaluation") as ctx:
        at = _moment(as_of) or ctx.clock.now()
        done = reconcile_trust(ctx, at)
    out.print(
        f"Safety net as known at {at.astimezone(LONDON):%Y-%m-%d %H:%M}: {len(done.opened)} task(s) opened, "
        f"{len(done.closed)} closed" + (f", [red]{len(done.failures)} rule failure(s)[/red]" if done.failures else ""),
        highlight=False,
    )
    if done.failures:
        raise typer.Exit(1)


def _task_id(ctx: Context, prefix: str) -> str:
    from sqlalchemy import select

    from safetynet.tasks.models import Task

    matches = list(ctx.session.scalars(select(Task.id).where(Task.id.startswith(prefix.strip()))))
    if len(matches) != 1:
        err.print(f"[red]{'No' if not matches else 'More than one'} task matches {prefix!r}.[/red]")
        raise typer.Exit(2)
    return matches[0]


@tasks_app.command("acknowledge")
def tasks_acknowledge(task: str, acting: AsOption, rationale: RationaleOption) -> None:
    """Say you have seen a task and what you are doing about it (it still escalates if it goes overdue)."""
    from safetynet.tasks import service as tasks
    from safetynet.tasks.schemas import AcknowledgeIn

    with _acting(acting, "acting on a task") as ctx:
        tasks.acknowledge(ctx, _task_id(ctx, task), _valid(AcknowledgeIn, rationale=rationale))
    out.print("Acknowledged.")


@tasks_app.command("dismiss")
def tasks_dismiss(task: str, acting: AsOption, rationale: RationaleOption) -> None:
    """Dismiss a task as needing no action: your name, role and rationale are kept with it."""
    from safetynet.tasks import service as tasks
    from safetynet.tasks.schemas import DismissIn

    with _acting(acting, "acting on a task") as ctx:
        tasks.dismiss(ctx, _task_id(ctx, task), _valid(DismissIn, rationale=rationale))
    out.print("Dismissed.")


@tasks_app.command("snooze")
def tasks_snooze(
    task: str,
    acting: AsOption,
    rationale: RationaleOption,
    until: Annotated[str, typer.Option(help="When it should come back (at most 14 days).")],
) -> None:
    """Quieten a task until a moment (at most 14 days ahead), with a rationale."""
    from safetynet.tasks import service as tasks
    from safetynet.tasks.schemas import SnoozeIn

    with _acting(acting, "acting on a task") as ctx:
        tasks.snooze(ctx, _task_id(ctx, task), _valid(SnoozeIn, until=_moment(until), rationale=rationale))
    out.print("Snoozed.")


def _valid(schema: Any, **values: Any) -> Any:
    from pydantic import ValidationError

    try:
        return schema(**values)
    except ValidationError as exc:
        raise ValidationFailed(Problem(".".join(str(p) for p in e["loc"]), e["msg"]) for e in exc.errors()) from None


@tasks_app.command("steps")
def tasks_steps(task: str, fmt: FormatOption = Format.TEXT) -> None:
    """The disengagement steps of an SN02 task: which are done, and how we know."""
    from dataclasses import asdict

    from safetynet.workflows import disengagement

    with _unit_of_work("disengagement steps") as ctx:
        steps = disengagement.plan(ctx, _task_id(ctx, task))
    if fmt is Format.JSON:
        _print_json([asdict(step) for step in steps])
        return
    for step in steps:
        out.print(f"[{'green' if step.done else 'red'}]{'done' if step.done else 'to do'}[/] {step.title}: {step.how}")


@tasks_app.command("step")
def tasks_step(
    task: str, step: str, acting: AsOption, note: Annotated[str, typer.Option(help="What was done.")]
) -> None:
    """Record a disengagement step as done (contact, home_visit, family, gp, partners, mdt), with a note."""
    from safetynet.workflows import disengagement

    with _acting(acting, "disengagement steps") as ctx:
        disengagement.record_step(ctx, _task_id(ctx, task), step, note)
    out.print("Recorded.")


# --- discharge and the GP letter --------------------------------------------------------------------------------


class DischargeKind(StrEnum):
    EPISODE = "episode"
    INPATIENT = "inpatient"


@app.command("discharge")
def discharge_command(
    nhs_number: Annotated[str, typer.Argument(help="The person's NHS number.")],
    acting: AsOption,
    kind: Annotated[DischargeKind, typer.Option(help="episode (from a team) or inpatient (from a ward).")],
    team: Annotated[str | None, typer.Option(help="The team, for an episode discharge.")] = None,
    reason: Annotated[str | None, typer.Option(help="recovered, moved_away, transferred, died, other (...).")] = None,
    destination: Annotated[str | None, typer.Option(help="gp, other_team or none.")] = None,
    crisis_team_accepted: Annotated[
        bool, typer.Option("--crisis-team-accepted", help="The crisis team has accepted them.")
    ] = False,
    carer_informed: Annotated[bool, typer.Option("--carer-informed", help="The carer has been told.")] = False,
    override_rationale: Annotated[
        str | None, typer.Option(help="A senior's written rationale to override SN03.")
    ] = None,
    check_only: Annotated[bool, typer.Option("--check-only", help="Ask the gates; record nothing.")] = False,
) -> None:
    """Discharge through the safety gates: blocked discharges record nothing and say why."""
    from safetynet.record.patients import service as patients
    from safetynet.workflows.discharge import DischargeBlocked, DischargeRequest, check, discharge

    with _acting(acting, "discharge") as ctx:
        patient = patients.get(ctx, nhs_number)
        request = _valid(
            DischargeRequestIn,
            kind=kind.value,
            team_id=org.get_team(ctx, team).id if team else None,
            reason=reason,
            destination=destination,
            crisis_team_accepted=crisis_team_accepted or None,
            carer_informed=carer_informed or None,
            override_rationale=override_rationale,
        )
        request = DischargeRequest(**request.model_dump())
        try:
            result = check(ctx, patient.id, request) if check_only else discharge(ctx, patient.id, request)
        except DischargeBlocked as blocked:
            result = blocked.result
            _print_gate(result)
            raise typer.Exit(3) from None
    _print_gate(result)
    if not check_only:
        out.print("Discharge recorded.")


def _print_gate(result: Any) -> None:
    out.print(f"Gates: [bold]{result.outcome}[/bold]")
    for decision in result.decisions:
        what = "BLOCKS" if decision.blocks else f"overridden by a {decision.overridden_by}"
        out.print(f"  {decision.rule_id} {what}: {decision.reason}")


@app.command("gp-letter")
def gp_letter_command(
    nhs_number: Annotated[str, typer.Argument(help="The person's NHS number.")],
    purpose: PurposeOption = "discharge planning",
) -> None:
    """Draft the six-section GP handover letter from the record, for a clinician to check and send."""
    from safetynet.record.patients import service as patients
    from safetynet.workflows import gp_letter

    with _unit_of_work(purpose) as ctx:
        sections = gp_letter.draft(ctx, patients.get(ctx, nhs_number).id)
    for section, text in sections.items():
        out.print(f"[bold]{section.value.replace('_', ' ').capitalize()}[/bold]\n{text}\n")


# --- synthetic trust ---------------------------------------------------------------------------------------------


@app.command("synth")
def synth(
    patients: Annotated[int, typer.Option(help="How many people.", min=1, max=2_000_000)] = 1000,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same trust.")] = 7,
    people_per_cmht: Annotated[
        int | None,
        typer.Option(
            help="One CMHT for this many people (a third of them open to it on an average day) [default: 400].",
            min=50,
            max=2_000_000,
        ),
    ] = None,
) -> None:
    """Create a synthetic trust (teams, staff, people and their stories) in an empty database."""
    from safetynet.synth import model, trust

    engine = make_engine()
    try:
        sizing = people_per_cmht or model.PEOPLE_PER_CMHT
        result = trust.build(engine, patients=patients, seed=seed, console=err, people_per_cmht=sizing)
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
