"""Contacts and appointments. Outcomes map to the MHSDS AttendOrDNACode, stored for indicators."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from safetynet.core.db import UTCDateTime
from safetynet.core.facts import ClinicalFact


class ContactOutcome(StrEnum):
    ATTENDED = "attended"
    DNA = "dna"
    NO_ACCESS = "no_access"
    CANCELLED_BY_PATIENT = "cancelled_by_patient"
    CANCELLED_BY_PROVIDER = "cancelled_by_provider"
    LATE_NOT_SEEN = "late_not_seen"


class ContactMode(StrEnum):
    FACE_TO_FACE = "face_to_face"
    HOME_VISIT = "home_visit"
    PHONE = "phone"
    VIDEO = "video"
    TEXT = "text"


# MHSDS AttendOrDNACode. A home visit with no answer ("no access") is, for the person, a missed appointment
# without warning, so it counts with DNAs (code 3); measures count 5 and 6 as attended.
ATTEND_OR_DNA_CODE: dict[str, str] = {
    ContactOutcome.ATTENDED: "5",
    ContactOutcome.DNA: "3",
    ContactOutcome.NO_ACCESS: "3",
    ContactOutcome.CANCELLED_BY_PATIENT: "2",
    ContactOutcome.CANCELLED_BY_PROVIDER: "4",
    ContactOutcome.LATE_NOT_SEEN: "7",
}

DIRECT_MODES = frozenset({ContactMode.FACE_TO_FACE, ContactMode.HOME_VISIT, ContactMode.VIDEO, ContactMode.PHONE})


class Contact(ClinicalFact):
    __tablename__ = "contacts"
    # The rules batch chooses each person's few contacts that answer the rules from these columns alone
    # (``rules.facts.batch_summary``): with them in the person index it never visits the contacts' rows to choose.
    __patient_index_includes__ = ("recorded_at", "version", "entered_in_error", "outcome", "mode", "planned")

    staff_id: Mapped[str | None] = mapped_column(String(36), default=None, index=True)
    outcome: Mapped[str] = mapped_column(String(30))
    mode: Mapped[str] = mapped_column(String(20))
    planned: Mapped[bool] = mapped_column(Boolean, default=True)
    attend_or_dna_code: Mapped[str] = mapped_column(String(1))


class Appointment(ClinicalFact):
    """A booked appointment; occurred_at is when it was booked, due_at when it is for."""

    __tablename__ = "appointments"

    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    mode: Mapped[str] = mapped_column(String(20))
    staff_id: Mapped[str | None] = mapped_column(String(36), default=None)
