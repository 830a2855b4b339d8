"""Clinical decisions recorded so they can be reconstructed: who took part, what was weighed, and why."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from safetynet.core.facts import ClinicalFact


class DecisionTopic(StrEnum):
    DEPOT = "depot"
    CTO = "cto"
    DISCHARGE = "discharge"
    LEGAL_FRAMEWORK = "legal_framework"
    CAPACITY = "capacity"
    OTHER = "other"


class CapacityOutcome(StrEnum):
    HAS_CAPACITY = "has_capacity"
    LACKS_CAPACITY = "lacks_capacity"


class MdtDecision(ClinicalFact):
    __tablename__ = "mdt_decisions"

    topic: Mapped[str] = mapped_column(String(30), index=True)
    decision: Mapped[str] = mapped_column(Text)
    rationale: Mapped[str] = mapped_column(Text)
    options_considered: Mapped[str | None] = mapped_column(Text, default=None)
    participants: Mapped[list[str]] = mapped_column(JSON, default=list)
    person_view: Mapped[str | None] = mapped_column(Text, default=None)
    family_view: Mapped[str | None] = mapped_column(Text, default=None)


class CapacityAssessment(ClinicalFact):
    __tablename__ = "capacity_assessments"

    decision_about: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(20))
