"""``safetynet audit``: verify the audit trail's hash chain, a person's own access log, FHIR AuditEvent export."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from safetynet.audit import service as audit
from safetynet.cli.common import Format, FormatOption, PurposeOption, err, out, print_json, unit_of_work
from safetynet.core.clock import LONDON, iso_utc

audit_app = typer.Typer(
    help="The audit trail: verify its hash chain, a person's access log, FHIR export.", no_args_is_help=True
)

BROKEN = 4  # exit status when the chain does not verify
ANCHOR = re.compile(r"^(\d+):([0-9a-f]{64})$")


@audit_app.command("verify")
def verify(
    anchor: Annotated[
        str | None,
        typer.Option("--anchor", help="SEQ:HASH noted from an earlier run: check that event still has that hash."),
    ] = None,
    fmt: FormatOption = Format.TEXT,
) -> None:
    """Check every audit event against the hash chain; say what was edited, inserted, deleted or moved, and where."""
    pinned = None
    if anchor is not None:
        found = ANCHOR.match(anchor.strip())
        if not found:
            err.print("[red]--anchor is SEQ:HASH, the HASH 64 lower-case hexadecimal digits.[/red]")
            raise typer.Exit(2)
        pinned = (int(found.group(1)), found.group(2))
    with unit_of_work("audit verification") as ctx:
        result = audit.verify_chain(ctx, anchor=pinned)
    if fmt is Format.JSON:
        print_json(
            {
                "ok": result.ok,
                "events": result.events,
                "head": {"seq": result.head_seq, "hash": result.head_hash},
                "problem_count": result.problem_count,
                "problems": [
                    {"kind": p.kind, "seq": p.seq, "event_id": p.event_id, "message": p.message}
                    for p in result.problems
                ],
            }
        )
    elif result.ok:
        out.print(f"[green]The audit chain verifies[/green]: {result.events} events, head seq {result.head_seq}.")
        out.print(f"Keep this anchor somewhere else: {result.head_seq}:{result.head_hash}", soft_wrap=True)
    else:
        err.print(f"[bold red]The audit chain does NOT verify: {result.problem_count} problem(s).[/bold red]")
        for problem in result.problems:
            err.print(f"  - {problem.kind}: {problem.message}")
        if result.problem_count > len(result.problems):
            err.print(f"  ... and {result.problem_count - len(result.problems)} more")
    if not result.ok:
        raise typer.Exit(BROKEN)


@audit_app.command("access-log")
def access_log(
    nhs_number: Annotated[str, typer.Argument(help="The person's NHS number.")],
    fmt: FormatOption = Format.TEXT,
    purpose: PurposeOption = "subject access request",
) -> None:
    """A person's own access log: who saw or changed their record, when, in what role and why."""
    from safetynet.record.patients import service as patients

    with unit_of_work(purpose) as ctx:
        entries = audit.access_log(ctx, patients.get(ctx, nhs_number).id)
    if fmt is Format.JSON:
        print_json({"nhs_number": nhs_number, "entries": audit.access_log_json(entries)})
        return
    if not entries:
        out.print("Nobody has read or written this person's record.")
        return
    table = Table("when (London)", "who", "role", "did", "what", "purpose", title=f"Access log for {nhs_number}")
    for entry in entries:
        when = entry.at.astimezone(LONDON).strftime("%Y-%m-%d %H:%M")
        table.add_row(when, entry.who, entry.role, entry.action, entry.what, entry.purpose)
    out.print(table)


@audit_app.command("export")
def export(
    out_path: Annotated[Path, typer.Option("--out", help="The NDJSON file to write (one AuditEvent per line).")],
    nhs_number: Annotated[str | None, typer.Option("--patient", help="Only this person's events.")] = None,
    purpose: PurposeOption = "audit export",
) -> None:
    """Export audit events as FHIR R4 AuditEvent resources, one per line (NDJSON)."""
    from sqlalchemy import select

    from safetynet.audit.fhir import ndjson
    from safetynet.audit.models import AuditEvent
    from safetynet.record.patients import service as patients

    with unit_of_work(purpose) as ctx:
        stmt = select(AuditEvent).order_by(AuditEvent.id)
        if nhs_number:
            patient_id = patients.get(ctx, nhs_number).id
            stmt = stmt.where(AuditEvent.patient_id == patient_id)
            audit.record(ctx, action="export", entity="audit_events", patient_id=patient_id, detail="FHIR AuditEvent")
        count = 0
        with out_path.open("wb") as handle:
            for line in ndjson(ctx.session.scalars(stmt.execution_options(yield_per=5000))):
                handle.write(line)
                count += 1
    out.print(f"Wrote {count} AuditEvent resources to {out_path} ({iso_utc(ctx.clock.now())}).")
