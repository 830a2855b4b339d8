"""Inputs for MDT decisions and capacity assessments."""

from __future__ import annotations

from pydantic import Field

from safetynet.record.common import FactIn
from safetynet.record.decisions.models import CapacityOutcome, DecisionTopic


class MdtDecisionIn(FactIn):
    topic: DecisionTopic
    decision: str = Field(min_length=1, max_length=20_000)
    rationale: str = Field(min_length=1, max_length=20_000)
    options_considered: str | None = None
    participants: list[str] = Field(default_factory=list)
    person_view: str | None = None
    family_view: str | None = None


class CapacityAssessmentIn(FactIn):
    decision_about: str = Field(min_length=1, max_length=2000)
    outcome: CapacityOutcome
