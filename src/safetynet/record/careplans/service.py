"""Recording care plan reviews and GP handover letters."""

from __future__ import annotations

from safetynet.core.context import Context
from safetynet.record.careplans.models import CarePlanReview, GpHandoverLetter
from safetynet.record.careplans.schemas import CarePlanReviewIn, GpHandoverLetterIn
from safetynet.record.common import record


def record_review(ctx: Context, patient_id: str, data: CarePlanReviewIn) -> CarePlanReview:
    return record(ctx, CarePlanReview, patient_id, data)


def record_gp_letter(ctx: Context, patient_id: str, data: GpHandoverLetterIn) -> GpHandoverLetter:
    return record(ctx, GpHandoverLetter, patient_id, data)
