"""Risk history (permanent) and risk assessments (structured, never scored)."""

from __future__ import annotations

from datetime import datetime

from safetynet.core.context import Context
from safetynet.core.errors import Problem, ValidationFailed
from safetynet.core.facts import known_at
from safetynet.record import writes
from safetynet.record.common import record
from safetynet.record.risk.models import RiskAssessment, RiskEvent
from safetynet.record.risk.schemas import RiskAssessmentIn, RiskEventIn


def record_risk_event(ctx: Context, patient_id: str, data: RiskEventIn) -> RiskEvent:
    return record(ctx, RiskEvent, patient_id, data)


def enter_risk_event_in_error(ctx: Context, patient_id: str, fact_id: str, reason: str) -> RiskEvent:
    """The event stays in the history, struck through, with the reason: R1 says risk history is never lost."""
    event = writes.latest(ctx, RiskEvent, fact_id)
    if event.patient_id != patient_id:
        raise ValidationFailed([Problem("ref", "that risk event belongs to someone else")])
    return writes.enter_in_error(ctx, RiskEvent, fact_id, reason=reason)


def record_assessment(ctx: Context, patient_id: str, data: RiskAssessmentIn) -> RiskAssessment:
    if data.next_review is not None and data.next_review < data.occurred_at.date():
        raise ValidationFailed([Problem("next_review", "the next review cannot be before the assessment")])
    return record(ctx, RiskAssessment, patient_id, data)


def risk_history(ctx: Context, patient_id: str, at: datetime | None = None) -> list[RiskEvent]:
    """Every risk event known at ``at``, entered-in-error ones included (shown struck through)."""
    stmt = known_at(RiskEvent, at).where(RiskEvent.patient_id == patient_id)
    return list(ctx.session.scalars(stmt.order_by(RiskEvent.occurred_at, RiskEvent.id)))


def assessments(ctx: Context, patient_id: str, at: datetime | None = None) -> list[RiskAssessment]:
    stmt = known_at(RiskAssessment, at).where(
        RiskAssessment.patient_id == patient_id, RiskAssessment.entered_in_error.is_(False)
    )
    return list(ctx.session.scalars(stmt.order_by(RiskAssessment.occurred_at)))
