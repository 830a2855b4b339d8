"""Admissions and the Mental Health Act: legal status per admission, changes, CTOs and recalls."""

from __future__ import annotations

from datetime import datetime

from safetynet.core.context import Context
from safetynet.core.errors import Problem, ValidationFailed
from safetynet.core.facts import known_at
from safetynet.record import writes
from safetynet.record.common import record
from safetynet.record.legal.models import Admission, CommunityTreatmentOrder, CtoRecall, LegalStatusChange
from safetynet.record.legal.schemas import (
    AdmissionIn,
    CtoEndIn,
    CtoIn,
    CtoRecallIn,
    InpatientDischargeIn,
    LegalStatusChangeIn,
)
from safetynet.record.org.models import Pathway, Team


def admit(ctx: Context, patient_id: str, data: AdmissionIn) -> Admission:
    ward = ctx.session.get(Team, data.ward_id)
    problems = []
    if ward is None or ward.pathway != Pathway.INPATIENT:
        problems.append(Problem("ward", "not an inpatient ward"))
    if current_admission(ctx, patient_id) is not None:
        problems.append(Problem("admission", "this person is already an inpatient"))
    if problems:
        raise ValidationFailed(problems)
    return record(ctx, Admission, patient_id, data.model_copy(update={"team_id": data.ward_id}))


def discharge_from_ward(ctx: Context, patient_id: str, data: InpatientDischargeIn) -> Admission:
    admission = current_admission(ctx, patient_id)
    if admission is None:
        raise ValidationFailed([Problem("admission", "this person is not an inpatient")])
    if data.discharged_at < admission.occurred_at:
        raise ValidationFailed([Problem("discharged_at", "a discharge cannot come before its admission")])
    return writes.amend(
        ctx,
        Admission,
        admission.fact_id,
        reason="discharged from ward",
        discharged_at=data.discharged_at,
        crisis_team_accepted=data.crisis_team_accepted,
        carer_informed=data.carer_informed,
    )


def change_legal_status(ctx: Context, patient_id: str, data: LegalStatusChangeIn) -> LegalStatusChange:
    admission = current_admission(ctx, patient_id)
    return record(ctx, LegalStatusChange, patient_id, data, admission_fact_id=admission.fact_id if admission else None)


def start_cto(ctx: Context, patient_id: str, data: CtoIn) -> CommunityTreatmentOrder:
    if current_cto(ctx, patient_id) is not None:
        raise ValidationFailed([Problem("cto", "a CTO is already in force")])
    return record(ctx, CommunityTreatmentOrder, patient_id, data)


def recall_cto(ctx: Context, patient_id: str, data: CtoRecallIn) -> CtoRecall:
    cto = current_cto(ctx, patient_id)
    if cto is None:
        raise ValidationFailed([Problem("cto", "no CTO is in force to recall under")])
    return record(ctx, CtoRecall, patient_id, data, cto_fact_id=cto.fact_id)


def end_cto(ctx: Context, patient_id: str, data: CtoEndIn) -> CommunityTreatmentOrder:
    cto = current_cto(ctx, patient_id)
    if cto is None:
        raise ValidationFailed([Problem("cto", "no CTO is in force")])
    return writes.amend(
        ctx, CommunityTreatmentOrder, cto.fact_id, reason="CTO ended", ended_at=data.ended_at, end_reason=data.reason
    )


def admissions(ctx: Context, patient_id: str, at: datetime | None = None) -> list[Admission]:
    stmt = known_at(Admission, at).where(Admission.patient_id == patient_id, Admission.entered_in_error.is_(False))
    return list(ctx.session.scalars(stmt.order_by(Admission.occurred_at)))


def current_admission(ctx: Context, patient_id: str, at: datetime | None = None) -> Admission | None:
    return next((a for a in admissions(ctx, patient_id, at) if a.discharged_at is None), None)


def current_cto(ctx: Context, patient_id: str, at: datetime | None = None) -> CommunityTreatmentOrder | None:
    stmt = known_at(CommunityTreatmentOrder, at).where(
        CommunityTreatmentOrder.patient_id == patient_id,
        CommunityTreatmentOrder.ended_at.is_(None),
        CommunityTreatmentOrder.entered_in_error.is_(False),
    )
    return ctx.session.scalars(stmt).first()
