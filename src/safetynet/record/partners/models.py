"""Information from partner agencies, with when it was received and the information-sharing decision."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Boolean, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from safetynet.core.facts import ClinicalFact


class Agency(StrEnum):
    POLICE = "police"
    COURT = "court"
    PROBATION = "probation"
    GP = "gp"
    SOCIAL_CARE = "social_care"
    HOUSING = "housing"
    OTHER = "other"


class PartnerInfoKind(StrEnum):
    ARREST = "arrest"
    CHARGE = "charge"
    WARRANT = "warrant"
    INCIDENT = "incident"
    COURT_DATE = "court_date"
    LIAISON_DIVERSION = "liaison_diversion"
    NO_CONTACT = "no_contact"
    PRESCRIPTION_NOT_COLLECTED = "prescription_not_collected"
    OTHER = "other"


class SharingDecision(StrEnum):
    PENDING = "pending"
    SHARED = "shared"
    NOT_SHARED = "not_shared"


JUSTICE_AGENCIES = frozenset({Agency.POLICE, Agency.COURT, Agency.PROBATION})


class PartnerInformation(ClinicalFact):
    __tablename__ = "partner_information"

    agency: Mapped[str] = mapped_column(String(20), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    violence: Mapped[bool] = mapped_column(Boolean, default=False)
    weapon: Mapped[bool] = mapped_column(Boolean, default=False)
    detail: Mapped[str] = mapped_column(Text)
    sharing_decision: Mapped[str] = mapped_column(String(20), default=SharingDecision.PENDING)
    lawful_basis: Mapped[str | None] = mapped_column(Text, default=None)
