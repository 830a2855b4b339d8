"""``safetynet accounts``: sign-in accounts for the web app. A password is typed at a prompt or read from a file,
never given on the command line (where other users and shell history could see it)."""

from __future__ import annotations

import secrets
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import func, select

from safetynet.access import accounts
from safetynet.audit import service as audit
from safetynet.cli.common import err, out, unit_of_work
from safetynet.core.context import Context, Role
from safetynet.core.errors import NotFound, Problem, ValidationFailed
from safetynet.record import channels
from safetynet.record.org import service as org
from safetynet.record.org.models import Staff
from safetynet.record.org.schemas import StaffIn
from safetynet.tasks.models import Task

accounts_app = typer.Typer(help="Sign-in accounts for the web app: one per member of staff.", no_args_is_help=True)


class PartnerRole(StrEnum):
    """The roles of people outside the trust who sign in to their own channel."""

    GP_PARTNER = "gp_partner"
    POLICE_LIAISON = "police_liaison"
    FAMILY_MEMBER = "family_member"


DEMO_ROLES = (Role.KEY_WORKER, Role.CONSULTANT, Role.TEAM_MANAGER, Role.SAFETY_LEAD, Role.ADMINISTRATOR)
# A synthetic trust has no national analyst (they work for the national body, not the trust); the demo adds one, so
# the national dashboard (/national) can be opened on the demo's national database.
DEMO_ANALYST = "Demo National Analyst"


def _password(password_file: Path | None) -> str:
    if password_file is not None:
        try:
            return password_file.read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as exc:
            err.print(f"[red]Cannot read the password file: {exc}[/red]")
            raise typer.Exit(2) from None
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


@accounts_app.command("add")
def add(
    staff_name: Annotated[str, typer.Argument(help="The member of staff, by name (their role is their access).")],
    username: Annotated[str, typer.Argument(help="The username they sign in with (lower case).")],
    password_file: Annotated[
        Path | None, typer.Option("--password-file", help="Read the password from this file instead of a prompt.")
    ] = None,
    partner: Annotated[
        PartnerRole | None,
        typer.Option(
            "--partner",
            help="A partner or family member outside the trust: adds them to the directory with this role (no team).",
        ),
    ] = None,
    organisation: Annotated[
        str | None,
        typer.Option("--organisation", help="A GP practice's ODS code, or a police liaison officer's force."),
    ] = None,
    cares_for: Annotated[
        str | None, typer.Option("--cares-for", help="A family member: the NHS number of the person they care for.")
    ] = None,
    carer: Annotated[
        str | None,
        typer.Option("--carer", help="A family member: their name as a registered carer (default: STAFF_NAME)."),
    ] = None,
) -> None:
    """Create an account for a member of staff, or (with --partner) for a GP practice user, a police liaison officer
    or a registered carer; the password is asked for (or read from --password-file)."""
    password = _password(password_file)
    with unit_of_work("account administration") as ctx:
        staff = org.find_staff(ctx, staff_name)
        if partner is not None and staff is not None and staff.role != partner.value:
            raise ValidationFailed([Problem("partner", f"{staff.name} is already in the directory as {staff.role}")])
        if partner is not None and staff is None:
            staff = org.create_staff(ctx, StaffIn(name=staff_name.strip(), role=Role(partner.value)))
            ctx.session.flush([staff])
        if staff is None:
            raise NotFound(f"no member of staff called {staff_name!r}")
        account = channels.create_account(
            ctx,
            staff=staff,
            username=username,
            password=password,
            organisation=organisation,
            cares_for=cares_for,
            carer_name=carer,
        )
        audit.record(ctx, action="account_create", entity="accounts", entity_id=account.id, detail=account.username)
        out.print(f"Account {account.username!r} created for {staff.name} ({staff.role.replace('_', ' ')}).")


def _demo_staff(ctx: Context) -> dict[Role, Staff]:
    """One member of staff per role: the key worker with the most open tasks, and their team's seniors."""
    busiest = ctx.session.execute(
        select(Task.owner_staff_id, func.count())
        .join(Staff, Staff.id == Task.owner_staff_id)
        .where(Task.closed_at.is_(None), Staff.role == Role.KEY_WORKER, Staff.active.is_(True))
        .group_by(Task.owner_staff_id)
        .order_by(func.count().desc(), Task.owner_staff_id)
    ).first()
    chosen: dict[Role, Staff] = {}
    if busiest is not None:
        chosen[Role.KEY_WORKER] = org.get_staff(ctx, str(busiest[0]))
    team_id = chosen[Role.KEY_WORKER].team_id if Role.KEY_WORKER in chosen else None
    for role in DEMO_ROLES:
        if role in chosen:
            continue
        candidates = (org.team_staff(ctx, team_id, role) if team_id else []) or list(
            ctx.session.scalars(
                select(Staff).where(Staff.role == role, Staff.active.is_(True)).order_by(Staff.name, Staff.id)
            )
        )
        if candidates:
            chosen[role] = candidates[0]
    analyst = ctx.session.scalars(
        select(Staff).where(Staff.role == Role.NATIONAL_ANALYST, Staff.active.is_(True)).order_by(Staff.name)
    ).first()
    chosen[Role.NATIONAL_ANALYST] = analyst or org.create_staff(
        ctx, StaffIn(name=DEMO_ANALYST, role=Role.NATIONAL_ANALYST)
    )
    return chosen


@accounts_app.command("demo")
def demo() -> None:
    """One demo account per role on the synthetic trust, with fresh random passwords each run; prints the logins."""
    logins: list[tuple[str, str, str, str]] = []
    with unit_of_work("demo accounts") as ctx:
        if ctx.session.scalars(select(Staff.id).limit(1)).first() is None:
            raise ValidationFailed([Problem("staff", "there are no staff: create a synthetic trust first")])
        for role, staff in _demo_staff(ctx).items():
            username = f"demo-{role.value.replace('_', '-')}"
            password = secrets.token_urlsafe(12)
            account = accounts.find(ctx, username)
            if account is None:
                if accounts.for_staff(ctx, staff.id) is not None:
                    err.print(f"{staff.name} already has an account; no demo {role.value} account.")
                    continue
                account = accounts.create(ctx, staff_id=staff.id, username=username, password=password)
                audit.record(ctx, action="account_create", entity="accounts", entity_id=account.id, detail=username)
            else:
                accounts.set_password(ctx, account, password)
                staff = org.get_staff(ctx, account.staff_id)
                audit.record(ctx, action="account_password", entity="accounts", entity_id=account.id, detail=username)
            logins.append((role.value.replace("_", " "), staff.name, username, password))
    out.print("Demo logins (synthetic data only; new passwords each time this runs):", soft_wrap=True)
    out.print(f"  {'role':<17} {'staff member':<28} {'username':<26} password", soft_wrap=True, highlight=False)
    for role_name, name, username, password in logins:
        out.print(f"  {role_name:<17} {name:<28} {username:<26} {password}", soft_wrap=True, highlight=False)
