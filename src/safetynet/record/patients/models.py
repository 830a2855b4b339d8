"""A person known to the service. Identity is fixed; details (name, GP) change as new versions."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, String
from sqlalchemy.orm import Mapped, mapped_column

from safetynet.core.db import Base, UTCDateTime
from safetynet.core.facts import AppendOnly, ClinicalFact


class Sex(StrEnum):
    MALE = "male"
    FEMALE = "female"
    OTHER = "other"
    UNKNOWN = "unknown"


class Patient(AppendOnly, Base):
    """The one record per person: keyed by NHS number, first known at ``recorded_at``."""

    __tablename__ = "patients"
    __table_args__ = {"info": {"append_only": True}}  # noqa: RUF012 (SQLAlchemy reads it once)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    nhs_number: Mapped[str] = mapped_column(String(10), unique=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class PatientDetails(ClinicalFact):
    """Demographics as a fact: a change of name or GP is a new version, the old one still readable."""

    __tablename__ = "patient_details"

    name: Mapped[str] = mapped_column(String(200))
    born: Mapped[date] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(10))
    gp_practice: Mapped[str | None] = mapped_column(String(10))
