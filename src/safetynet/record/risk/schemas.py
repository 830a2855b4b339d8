"""Inputs for risk events and risk assessments."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from safetynet.record.common import FactIn
from safetynet.record.risk.models import FactorStatus, Harm, RiskCategory, RiskSource


class RiskEventIn(FactIn):
    category: RiskCategory
    harm: Harm
    source: RiskSource
    description: str = Field(min_length=1, max_length=20_000)


class RiskAssessmentIn(FactIn):
    factors: dict[RiskCategory, FactorStatus]
    rationale: str | None = Field(default=None, max_length=20_000)
    formulation: str | None = Field(default=None, max_length=20_000)
    triggers: str | None = None
    relapse_signature: str | None = None
    protective_factors: str | None = None
    safety_plan: bool = False
    safety_plan_detail: str | None = None
    next_review: date | None = None
    second_reviewer_id: str | None = None
