"""Recording MDT decisions and capacity assessments."""

from __future__ import annotations

from safetynet.core.context import Context
from safetynet.record.common import record
from safetynet.record.decisions.models import CapacityAssessment, MdtDecision
from safetynet.record.decisions.schemas import CapacityAssessmentIn, MdtDecisionIn


def record_decision(ctx: Context, patient_id: str, data: MdtDecisionIn) -> MdtDecision:
    return record(ctx, MdtDecision, patient_id, data)


def record_capacity(ctx: Context, patient_id: str, data: CapacityAssessmentIn) -> CapacityAssessment:
    return record(ctx, CapacityAssessment, patient_id, data)
