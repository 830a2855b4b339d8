"""Carers and family concerns: every concern is owed a recorded response (R6)."""

from __future__ import annotations

from datetime import datetime

from safetynet.core.context import Context
from safetynet.core.errors import Problem, ValidationFailed
from safetynet.core.facts import known_at
from safetynet.record import writes
from safetynet.record.carers.models import Carer, FamilyConcern, FamilyConcernResponse
from safetynet.record.carers.schemas import CarerIn, FamilyConcernIn, FamilyConcernResponseIn
from safetynet.record.common import record


def register_carer(ctx: Context, patient_id: str, data: CarerIn) -> Carer:
    return record(ctx, Carer, patient_id, data)


def record_concern(
    ctx: Context, patient_id: str, data: FamilyConcernIn, *, carer_fact_id: str | None = None
) -> FamilyConcern:
    """A concern from a family member; linked to their carer record (``carer_fact_id`` when the caller knows it, as
    the family channel does, otherwise the registered carer of the same name)."""
    if carer_fact_id is None:
        carer = next((c for c in carers(ctx, patient_id) if c.name.lower() == data.raised_by.strip().lower()), None)
        carer_fact_id = carer.fact_id if carer else None
    return record(ctx, FamilyConcern, patient_id, data, carer_fact_id=carer_fact_id)


def respond_to_concern(ctx: Context, patient_id: str, data: FamilyConcernResponseIn) -> FamilyConcernResponse:
    concern = writes.latest(ctx, FamilyConcern, data.concern_fact_id)
    if concern.patient_id != patient_id:
        raise ValidationFailed([Problem("concern_fact_id", "that concern is about someone else")])
    return record(ctx, FamilyConcernResponse, patient_id, data)


def carers(ctx: Context, patient_id: str, at: datetime | None = None) -> list[Carer]:
    stmt = known_at(Carer, at).where(Carer.patient_id == patient_id, Carer.entered_in_error.is_(False))
    return list(ctx.session.scalars(stmt.order_by(Carer.occurred_at)))


def unanswered_concerns(ctx: Context, patient_id: str, at: datetime | None = None) -> list[FamilyConcern]:
    concerns = ctx.session.scalars(
        known_at(FamilyConcern, at)
        .where(FamilyConcern.patient_id == patient_id, FamilyConcern.entered_in_error.is_(False))
        .order_by(FamilyConcern.occurred_at, FamilyConcern.id)
    )
    answered = set(
        ctx.session.scalars(
            known_at(FamilyConcernResponse, at)
            .with_only_columns(FamilyConcernResponse.concern_fact_id)
            .where(FamilyConcernResponse.patient_id == patient_id, FamilyConcernResponse.entered_in_error.is_(False))
        )
    )
    return [c for c in concerns if c.fact_id not in answered]
