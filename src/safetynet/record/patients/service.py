"""Registering and finding people."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from safetynet.audit import service as audit
from safetynet.core.context import Context
from safetynet.core.errors import NotFound, Problem, ValidationFailed
from safetynet.core.facts import known_at
from safetynet.record import writes
from safetynet.record.patients.models import Patient, PatientDetails
from safetynet.record.patients.schemas import PatientIn, check_nhs_number


def register(ctx: Context, data: PatientIn) -> Patient:
    """A person becomes known to the service now."""
    if ctx.session.scalars(select(Patient).where(Patient.nhs_number == data.nhs_number)).first():
        raise ValidationFailed([Problem("nhs_number", f"{data.nhs_number} is already registered")])
    now = ctx.clock.now()
    patient = Patient(id=ctx.ids.new_id(), nhs_number=data.nhs_number, recorded_at=now)
    ctx.session.add(patient)
    ctx.session.flush([patient])
    writes.add(
        ctx,
        PatientDetails,
        patient_id=patient.id,
        occurred_at=now,
        name=data.name,
        born=data.born,
        sex=str(data.sex),
        gp_practice=data.gp_practice,
    )
    return patient


def find(ctx: Context, nhs_number: str, at: datetime | None = None) -> Patient | None:
    """The person with this NHS number, if known at ``at`` (now if None)."""
    try:
        digits = check_nhs_number(nhs_number)
    except ValueError as exc:
        raise ValidationFailed([Problem("nhs_number", str(exc))]) from exc
    stmt = select(Patient).where(Patient.nhs_number == digits)
    if at is not None:
        stmt = stmt.where(Patient.recorded_at <= at)
    return ctx.session.scalars(stmt).first()


def get(ctx: Context, nhs_number: str, at: datetime | None = None) -> Patient:
    patient = find(ctx, nhs_number, at)
    if patient is None:
        when = f" as known at {at.isoformat()}" if at else ""
        raise NotFound(f"no person with NHS number {nhs_number}{when}")
    return patient


def details(ctx: Context, patient_id: str, at: datetime | None = None) -> PatientDetails:
    found = ctx.session.scalars(known_at(PatientDetails, at).where(PatientDetails.patient_id == patient_id)).first()
    if found is None:
        raise NotFound(f"no details for person {patient_id}")
    audit.record_read(ctx, entity="patient_details", patient_id=patient_id)
    return found


def names(ctx: Context, patient_ids: list[str], at: datetime | None = None) -> dict[str, tuple[str, str]]:
    """NHS number and current name of each of these people, in two queries (worklists show whose task it is)."""
    if not patient_ids:
        return {}
    numbers = dict(
        ctx.session.execute(select(Patient.id, Patient.nhs_number).where(Patient.id.in_(patient_ids))).tuples().all()
    )
    found = ctx.session.scalars(known_at(PatientDetails, at).where(PatientDetails.patient_id.in_(patient_ids)))
    named = {d.patient_id: d.name for d in found}
    for patient_id in numbers:
        audit.record_read(ctx, entity="patient_details", patient_id=patient_id, detail="name on a worklist")
    return {pid: (nhs, named.get(pid, "?")) for pid, nhs in numbers.items()}
