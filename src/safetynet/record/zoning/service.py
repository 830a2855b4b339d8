"""Setting and reading zones. Only a person sets a zone; the suggestion is recorded alongside for learning."""

from __future__ import annotations

from datetime import datetime

from safetynet.core.context import Context, Role
from safetynet.core.errors import Problem, ValidationFailed
from safetynet.core.facts import known_at
from safetynet.record.common import record
from safetynet.record.zoning.models import ZoneAssignment
from safetynet.record.zoning.schemas import ZoneAssignmentIn


def set_zone(ctx: Context, patient_id: str, data: ZoneAssignmentIn) -> ZoneAssignment:
    if ctx.actor.role is Role.SYSTEM or ctx.actor.staff_id is None:
        raise ValidationFailed([Problem("actor", "a zone is set by a clinician, never by the system")])
    return record(ctx, ZoneAssignment, patient_id, data)


def current_zone(ctx: Context, patient_id: str, at: datetime | None = None) -> ZoneAssignment | None:
    stmt = known_at(ZoneAssignment, at).where(
        ZoneAssignment.patient_id == patient_id, ZoneAssignment.entered_in_error.is_(False)
    )
    return ctx.session.scalars(stmt.order_by(ZoneAssignment.occurred_at.desc(), ZoneAssignment.id.desc())).first()


def current_zones(ctx: Context, patient_ids: list[str], at: datetime | None = None) -> dict[str, str]:
    """Each person's confirmed zone (the latest set by a clinician), for many people in one query."""
    if not patient_ids:
        return {}
    stmt = known_at(ZoneAssignment, at).where(
        ZoneAssignment.patient_id.in_(patient_ids), ZoneAssignment.entered_in_error.is_(False)
    )
    zones: dict[str, str] = {}
    for zone in ctx.session.scalars(stmt.order_by(ZoneAssignment.occurred_at, ZoneAssignment.id)):
        zones[zone.patient_id] = zone.zone
    return zones
