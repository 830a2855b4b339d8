"""Inputs for care plan reviews and GP handover letters."""

from __future__ import annotations

from pydantic import field_validator

from safetynet.record.careplans.models import GpLetterSection
from safetynet.record.common import FactIn


class CarePlanReviewIn(FactIn):
    crisis_plan: bool = False
    shared_with_carer: bool = False
    summary: str | None = None


class GpHandoverLetterIn(FactIn):
    sections: list[GpLetterSection]
    body: str | None = None

    @field_validator("sections")
    @classmethod
    def no_repeats(cls, value: list[GpLetterSection]) -> list[GpLetterSection]:
        if len(set(value)) != len(value):
            raise ValueError("a section is listed twice")
        return value
