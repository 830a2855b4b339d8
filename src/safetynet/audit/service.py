"""Recording audit events. Every write and every read of a person's record passes through here."""

from __future__ import annotations

from sqlalchemy import select

from safetynet.audit.models import AuditEvent
from safetynet.core.context import Context


def record(
    ctx: Context,
    *,
    action: str,
    entity: str,
    entity_id: str | None = None,
    patient_id: str | None = None,
    detail: str | None = None,
) -> AuditEvent:
    """Add one audit event in the caller's unit of work: it commits, or vanishes, with what it describes."""
    event = AuditEvent(
        at=ctx.clock.now(),
        actor_name=ctx.actor.name,
        actor_role=str(ctx.actor.role),
        actor_staff_id=ctx.actor.staff_id,
        action=action,
        entity=entity,
        entity_id=entity_id,
        patient_id=patient_id,
        purpose=ctx.actor.purpose,
        detail=detail,
    )
    ctx.session.add(event)
    return event


def record_read(ctx: Context, *, entity: str, patient_id: str, detail: str | None = None) -> None:
    if ctx.audit_reads:
        record(ctx, action="read", entity=entity, patient_id=patient_id, detail=detail)


def events_for_patient(ctx: Context, patient_id: str) -> list[AuditEvent]:
    stmt = select(AuditEvent).where(AuditEvent.patient_id == patient_id).order_by(AuditEvent.id)
    return list(ctx.session.scalars(stmt))
