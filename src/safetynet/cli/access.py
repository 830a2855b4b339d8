"""``safetynet access``: ask the access model, break the glass, review break-glass access, share with partners."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Annotated

import typer
from rich.table import Table

from safetynet.access.decide import ACTIONS
from safetynet.access.grants import LawfulBasis, ReviewOutcome
from safetynet.cli.common import Format, FormatOption, err, out, print_json, unit_of_work
from safetynet.core.clock import LONDON, iso_utc
from safetynet.core.context import Actor, Context, Role
from safetynet.core.errors import Problem, ValidationFailed

access_app = typer.Typer(
    help="Access: decisions, break-glass and its review queue, partner shares.", no_args_is_help=True
)
DENIED = 5  # exit status when the access model refuses

AsOption = Annotated[str, typer.Option("--as", help="The staff member acting (their role decides what they may do).")]


@contextmanager
def _acting(name: str, purpose: str) -> Iterator[Context]:
    from safetynet.access.decide import AccessDenied
    from safetynet.record.org import service as org

    with unit_of_work(purpose) as ctx:
        staff = org.find_staff(ctx, name)
        if staff is None:
            err.print(f"[red]No staff member called {name!r}.[/red]")
            raise typer.Exit(2)
        try:
            yield ctx.as_actor(Actor(name=staff.name, role=Role(staff.role), staff_id=staff.id, purpose=purpose))
        except AccessDenied as denied:
            err.print(f"[red]Refused: {denied}.[/red]")
            raise typer.Exit(DENIED) from None


def _patient_id(ctx: Context, nhs_number: str) -> str:
    from safetynet.record.patients import service as patients

    return patients.get(ctx, nhs_number).id


@access_app.command("check")
def check(
    nhs_number: Annotated[str, typer.Argument(help="The person's NHS number.")],
    acting: AsOption,
    action: Annotated[str, typer.Option("--action", help="An action of the catalogue, e.g. person.view.")],
    organisation: Annotated[str | None, typer.Option("--organisation", help="A partner's organisation.")] = None,
) -> None:
    """Would this member of staff be allowed to take this action on this person, and why (changes nothing)?"""
    from safetynet.record import relationships

    if action not in ACTIONS:
        err.print(f"[red]No action {action!r}; the catalogue: {', '.join(sorted(ACTIONS))}.[/red]")
        raise typer.Exit(2)
    with _acting(acting, "access check") as ctx:
        decision = relationships.check(ctx, action, _patient_id(ctx, nhs_number), organisation=organisation)
    out.print(f"{'Allowed' if decision.allowed else 'Refused'}: {decision.reason}.")
    if not decision.allowed:
        raise typer.Exit(DENIED)


@access_app.command("break-glass")
def break_glass(
    nhs_number: Annotated[str, typer.Argument(help="The person's NHS number.")],
    acting: AsOption,
    reason: Annotated[str, typer.Option("--reason", help="Why you need this record (at least 20 characters).")],
    minutes: Annotated[int, typer.Option("--minutes", help="How long the access lasts (at most 480).")] = 60,
) -> None:
    """Open time-limited access to the record of someone you have no relationship with, saying why; it is audited
    and goes to the safety lead's review queue."""
    from safetynet.record import relationships

    with _acting(acting, "break-glass access") as ctx:
        grant = relationships.break_glass(ctx, _patient_id(ctx, nhs_number), reason, minutes)
    until = grant.expires_at.astimezone(LONDON).strftime("%Y-%m-%d %H:%M")
    out.print(f"Break-glass access {grant.id[:8]} open until {until} (London). The safety lead will review it.")


@access_app.command("break-glass-queue")
def break_glass_queue(fmt: FormatOption = Format.TEXT) -> None:
    """The safety lead's review queue: every unreviewed break-glass grant, oldest first, with what was done."""
    from safetynet.record import relationships

    with unit_of_work("break-glass review queue") as ctx:
        items = relationships.review_queue(ctx)
    rows = [
        asdict(item) | {"started_at": iso_utc(item.started_at), "expires_at": iso_utc(item.expires_at)}
        for item in items
    ]
    if fmt is Format.JSON:
        print_json(rows)
        return
    if not rows:
        out.print("No break-glass access waits for review.")
        return
    table = Table("grant", "who", "role", "when", "reads", "writes", "reason", title="Break-glass review queue")
    for item in items:
        when = item.started_at.astimezone(LONDON).strftime("%Y-%m-%d %H:%M")
        table.add_row(item.grant_id[:8], item.who, item.role, when, str(item.reads), str(item.writes), item.reason)
    out.print(table)


@access_app.command("break-glass-review")
def break_glass_review(
    grant: Annotated[str, typer.Argument(help="The grant's id, or an unambiguous prefix of it.")],
    acting: AsOption,
    outcome: Annotated[ReviewOutcome, typer.Option("--outcome", help="appropriate or inappropriate.")],
    note: Annotated[str, typer.Option("--note", help="What the review found.")],
) -> None:
    """Review one break-glass grant (the safety lead): appropriate, or inappropriate and followed up."""
    from sqlalchemy import select

    from safetynet.access import break_glass as grants
    from safetynet.access.grants import BreakGlassGrant
    from safetynet.audit import service as audit

    with _acting(acting, "break-glass review") as ctx:
        found = list(ctx.session.scalars(select(BreakGlassGrant.id).where(BreakGlassGrant.id.startswith(grant))))
        if len(found) != 1:
            err.print(f"[red]{'No' if not found else 'More than one'} grant matches {grant!r}.[/red]")
            raise typer.Exit(2)
        done = grants.review(ctx, found[0], outcome, note)
        audit.record(ctx, action="break_glass_review", entity="break_glass_reviews", entity_id=found[0], detail=note)
    out.print(f"Reviewed: {done.outcome}.")


@access_app.command("share")
def share(
    nhs_number: Annotated[str, typer.Argument(help="The person's NHS number.")],
    acting: AsOption,
    to: Annotated[Role, typer.Option("--to", help="gp_partner or police_liaison.")],
    organisation: Annotated[str, typer.Option("--organisation", help="The practice's ODS code or the police force.")],
    basis: Annotated[list[LawfulBasis], typer.Option("--basis", help="A lawful basis; repeat for each.")],
    purpose: Annotated[str, typer.Option("--purpose", help="Why this is shared.")],
    item: Annotated[list[str], typer.Option("--item", help="KIND=TEXT, exactly what is shared; repeat.")],
) -> None:
    """Share named items of a person's information with a partner, recording the lawful basis and exactly what went."""
    from pydantic import ValidationError

    from safetynet.access.shares import ShareIn
    from safetynet.record import relationships

    with _acting(acting, "sharing with a partner") as ctx:
        items = []
        for given in item:
            kind, sep, text = given.partition("=")
            if not sep:
                raise ValidationFailed([Problem("item", f"{given!r} is not KIND=TEXT")])
            items.append({"kind": kind.strip(), "text": text.strip()})
        try:
            data = ShareIn(
                recipient_role=to, recipient_organisation=organisation, lawful_basis=basis, purpose=purpose, items=items
            )
        except ValidationError as exc:
            raise ValidationFailed(
                Problem(".".join(str(p) for p in e["loc"]), e["msg"]) for e in exc.errors()
            ) from None
        made = relationships.share(ctx, _patient_id(ctx, nhs_number), data)
    out.print(f"Shared {len(items)} item(s) with {made.recipient_organisation} ({made.recipient_role}).")


@access_app.command("shared")
def shared(
    acting: AsOption,
    organisation: Annotated[str, typer.Option("--organisation", help="The partner's organisation.")],
    fmt: FormatOption = Format.TEXT,
) -> None:
    """What a partner sees: only what was shared with their organisation."""
    from safetynet.access import shares

    with _acting(acting, "partner view") as ctx:
        views = shares.visible_to(ctx, organisation)
    if fmt is Format.JSON:
        print_json([asdict(v) for v in views])
        return
    for view in views:
        out.print(f"[bold]{view.shared_at[:16]}[/bold] from {view.shared_by} ({', '.join(view.lawful_basis)})")
        for entry in view.items:
            out.print(f"  {entry['kind']}: {entry['text']}")
    if not views:
        out.print("Nothing has been shared with your organisation.")
