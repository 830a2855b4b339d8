"""Organisations, teams and staff: created and looked up, never deleted."""

from __future__ import annotations

from sqlalchemy import func, select

from safetynet.core.context import Context
from safetynet.core.errors import NotFound, Problem, ValidationFailed
from safetynet.record.org.models import Organisation, Staff, Team
from safetynet.record.org.schemas import OrganisationIn, StaffIn, TeamIn


def create_organisation(ctx: Context, data: OrganisationIn) -> Organisation:
    org = Organisation(id=ctx.ids.new_id(), ods_code=data.ods_code, name=data.name, created_at=ctx.clock.now())
    ctx.session.add(org)
    return org


def the_organisation(ctx: Context) -> Organisation:
    """The trust this database serves (one per database)."""
    org = ctx.session.scalars(select(Organisation).order_by(Organisation.created_at)).first()
    if org is None:
        raise NotFound("no organisation: load a trust first (safetynet synth or scenario load)")
    return org


def create_team(ctx: Context, organisation: Organisation, data: TeamIn) -> Team:
    if find_team(ctx, data.name) is not None:
        raise ValidationFailed([Problem("name", f"a team called {data.name!r} already exists")])
    team = Team(
        id=ctx.ids.new_id(),
        organisation_id=organisation.id,
        name=data.name,
        pathway=str(data.pathway),
        created_at=ctx.clock.now(),
    )
    ctx.session.add(team)
    return team


def find_team(ctx: Context, name: str) -> Team | None:
    return ctx.session.scalars(select(Team).where(func.lower(Team.name) == name.strip().lower())).first()


def get_team(ctx: Context, name: str) -> Team:
    team = find_team(ctx, name)
    if team is None:
        raise NotFound(f"no team called {name!r}")
    return team


def list_teams(ctx: Context) -> list[Team]:
    return list(ctx.session.scalars(select(Team).order_by(Team.name)))


def create_staff(ctx: Context, data: StaffIn) -> Staff:
    team = get_team(ctx, data.team) if data.team else None
    staff = Staff(
        id=ctx.ids.new_id(),
        name=data.name,
        role=str(data.role),
        team_id=team.id if team else None,
        created_at=ctx.clock.now(),
    )
    ctx.session.add(staff)
    return staff


def find_staff(ctx: Context, name: str) -> Staff | None:
    return ctx.session.scalars(select(Staff).where(Staff.name == name.strip()).order_by(Staff.created_at)).first()


def get_staff(ctx: Context, staff_id: str) -> Staff:
    staff = ctx.session.get(Staff, staff_id)
    if staff is None:
        raise NotFound(f"no staff member with id {staff_id}")
    return staff


def team_staff(ctx: Context, team_id: str, role: str | None = None) -> list[Staff]:
    stmt = select(Staff).where(Staff.team_id == team_id, Staff.active.is_(True))
    if role:
        stmt = stmt.where(Staff.role == role)
    return list(ctx.session.scalars(stmt.order_by(Staff.name)))
