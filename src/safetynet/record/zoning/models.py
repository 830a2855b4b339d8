"""A zone is a clinician's judgement, recorded with why; the suggestion is kept beside it, never in its place."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from safetynet.core.facts import ClinicalFact


class Zone(StrEnum):
    RED = "red"  # needs action today: discussed at every huddle
    AMBER = "amber"  # needs closer watch this week
    GREEN = "green"  # stable on the current plan


class ZoneAssignment(ClinicalFact):
    __tablename__ = "zone_assignments"

    zone: Mapped[str] = mapped_column(String(10))
    rationale: Mapped[str] = mapped_column(Text)
    suggested_zone: Mapped[str | None] = mapped_column(String(10), default=None)
    suggested_reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
