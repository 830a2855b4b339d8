"""Recording contacts (attended or not) and booked appointments."""

from __future__ import annotations

from datetime import datetime

from safetynet.core.context import Context
from safetynet.core.errors import Problem, ValidationFailed
from safetynet.core.facts import known_at
from safetynet.record import writes
from safetynet.record.common import record
from safetynet.record.contacts.models import ATTEND_OR_DNA_CODE, Appointment, Contact, ContactOutcome
from safetynet.record.contacts.schemas import AppointmentIn, ContactIn


def record_contact(ctx: Context, patient_id: str, data: ContactIn) -> Contact:
    return record(ctx, Contact, patient_id, data, attend_or_dna_code=ATTEND_OR_DNA_CODE[data.outcome])


def correct_outcome(ctx: Context, fact_id: str, outcome: ContactOutcome, *, reason: str) -> Contact:
    """A contact's outcome was recorded wrongly: a new version, with its MHSDS code worked out again."""
    return writes.amend(
        ctx, Contact, fact_id, reason=reason, outcome=str(outcome), attend_or_dna_code=ATTEND_OR_DNA_CODE[outcome]
    )


def book_appointment(ctx: Context, patient_id: str, data: AppointmentIn) -> Appointment:
    if data.due_at < data.occurred_at:
        raise ValidationFailed([Problem("due_at", "an appointment cannot be booked for before it was booked")])
    return record(ctx, Appointment, patient_id, data)


def contacts(ctx: Context, patient_id: str, at: datetime | None = None) -> list[Contact]:
    stmt = known_at(Contact, at).where(Contact.patient_id == patient_id, Contact.entered_in_error.is_(False))
    return list(ctx.session.scalars(stmt.order_by(Contact.occurred_at)))
