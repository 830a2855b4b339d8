"""Prescribing, depot administration and adherence."""

from __future__ import annotations

from datetime import datetime

from safetynet.core.context import Context
from safetynet.core.errors import Problem, ValidationFailed
from safetynet.core.facts import known_at
from safetynet.record import writes
from safetynet.record.common import record
from safetynet.record.medication.models import AdherenceReport, DepotAdministration, Prescription, Route
from safetynet.record.medication.schemas import (
    AdherenceReportIn,
    DepotAdministrationIn,
    PrescriptionIn,
    PrescriptionStopIn,
)


def prescribe(ctx: Context, patient_id: str, data: PrescriptionIn) -> Prescription:
    if active_prescription(ctx, patient_id, data.drug) is not None:
        raise ValidationFailed([Problem("drug", f"{data.drug} is already prescribed")])
    return record(ctx, Prescription, patient_id, data)


def stop(ctx: Context, patient_id: str, drug: str, data: PrescriptionStopIn) -> Prescription:
    prescription = active_prescription(ctx, patient_id, drug)
    if prescription is None:
        raise ValidationFailed([Problem("drug", f"{drug} is not currently prescribed")])
    return writes.amend(
        ctx, Prescription, prescription.fact_id, reason="stopped", stopped_at=data.stopped_at, stop_reason=data.reason
    )


def record_depot(ctx: Context, patient_id: str, data: DepotAdministrationIn) -> DepotAdministration:
    prescription = active_prescription(ctx, patient_id, data.drug)
    if prescription is None or prescription.route != Route.DEPOT:
        raise ValidationFailed([Problem("drug", f"no active depot prescription of {data.drug}")])
    return record(ctx, DepotAdministration, patient_id, data, prescription_fact_id=prescription.fact_id)


def record_adherence(ctx: Context, patient_id: str, data: AdherenceReportIn) -> AdherenceReport:
    return record(ctx, AdherenceReport, patient_id, data)


def prescriptions(ctx: Context, patient_id: str, at: datetime | None = None) -> list[Prescription]:
    stmt = known_at(Prescription, at).where(
        Prescription.patient_id == patient_id, Prescription.entered_in_error.is_(False)
    )
    return list(ctx.session.scalars(stmt.order_by(Prescription.occurred_at)))


def active_prescription(ctx: Context, patient_id: str, drug: str, at: datetime | None = None) -> Prescription | None:
    wanted = drug.strip().lower()
    return next(
        (p for p in prescriptions(ctx, patient_id, at) if p.stopped_at is None and p.drug.lower() == wanted), None
    )
