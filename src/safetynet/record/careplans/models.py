"""Care plan reviews and the GP handover letter with its six sections (NICE QS159; CQC discharge findings)."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import JSON, Boolean, Text
from sqlalchemy.orm import Mapped, mapped_column

from safetynet.core.facts import ClinicalFact


class GpLetterSection(StrEnum):
    VIOLENCE_HISTORY = "violence_history"
    NON_ADHERENCE = "non_adherence"
    RELAPSE_SIGNATURE = "relapse_signature"
    LEGAL_HISTORY = "legal_history"
    WHAT_TO_DO = "what_to_do"
    ROUTE_BACK = "route_back"


class CarePlanReview(ClinicalFact):
    __tablename__ = "care_plan_reviews"

    crisis_plan: Mapped[bool] = mapped_column(Boolean, default=False)
    shared_with_carer: Mapped[bool] = mapped_column(Boolean, default=False)
    summary: Mapped[str | None] = mapped_column(Text, default=None)


class GpHandoverLetter(ClinicalFact):
    __tablename__ = "gp_handover_letters"

    sections: Mapped[list[str]] = mapped_column(JSON)
    body: Mapped[str | None] = mapped_column(Text, default=None)
