"""Input for setting a zone."""

from __future__ import annotations

from pydantic import Field

from safetynet.record.common import FactIn
from safetynet.record.zoning.models import Zone


class ZoneAssignmentIn(FactIn):
    zone: Zone
    rationale: str = Field(min_length=3, max_length=5000)
    suggested_zone: Zone | None = None
    suggested_reasons: list[str] = Field(default_factory=list)
