"""Risk events and assessments. No score, no low / medium / high: categories, evidence and a plan (NICE NG225)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from sqlalchemy import JSON, Boolean, Date, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from safetynet.core.facts import ClinicalFact


class RiskCategory(StrEnum):
    VIOLENCE_TO_OTHERS = "violence_to_others"
    WEAPON = "weapon"
    THREATS = "threats"
    SELF_HARM = "self_harm"
    SUICIDE_ATTEMPT = "suicide_attempt"
    SELF_NEGLECT = "self_neglect"
    EXPLOITATION = "exploitation"
    NON_ADHERENCE = "non_adherence"
    SUBSTANCE_MISUSE = "substance_misuse"
    ABSCONDING = "absconding"


class Harm(StrEnum):
    NONE = "none"
    MINOR = "minor"
    SERIOUS = "serious"


class RiskSource(StrEnum):
    RECORD = "record"
    POLICE = "police"
    FAMILY = "family"
    GP = "gp"
    SELF = "self"
    OTHER = "other"


class FactorStatus(StrEnum):
    PRESENT = "present"
    ABSENT = "absent"
    NOT_ASSESSED = "not_assessed"


class RiskEvent(ClinicalFact):
    """Something that happened. Permanent: a mistake is marked entered in error, never removed."""

    __tablename__ = "risk_events"

    category: Mapped[str] = mapped_column(String(30), index=True)
    harm: Mapped[str] = mapped_column(String(10))
    source: Mapped[str] = mapped_column(String(10))
    description: Mapped[str] = mapped_column(Text)


class RiskAssessment(ClinicalFact):
    """A structured assessment: each category present / absent / not assessed, a formulation and a safety plan."""

    __tablename__ = "risk_assessments"

    factors: Mapped[dict[str, str]] = mapped_column(JSON)
    rationale: Mapped[str | None] = mapped_column(Text, default=None)
    formulation: Mapped[str | None] = mapped_column(Text, default=None)
    triggers: Mapped[str | None] = mapped_column(Text, default=None)
    relapse_signature: Mapped[str | None] = mapped_column(Text, default=None)
    protective_factors: Mapped[str | None] = mapped_column(Text, default=None)
    safety_plan: Mapped[bool] = mapped_column(Boolean, default=False)
    safety_plan_detail: Mapped[str | None] = mapped_column(Text, default=None)
    next_review: Mapped[date | None] = mapped_column(Date, default=None)
    second_reviewer_id: Mapped[str | None] = mapped_column(String(36), default=None)
