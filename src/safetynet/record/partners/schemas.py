"""Inputs for partner information."""

from __future__ import annotations

from pydantic import Field

from safetynet.record.common import FactIn
from safetynet.record.partners.models import Agency, PartnerInfoKind, SharingDecision


class PartnerInformationIn(FactIn):
    agency: Agency
    kind: PartnerInfoKind
    violence: bool = False
    weapon: bool = False
    detail: str = Field(min_length=1, max_length=20_000)
    sharing_decision: SharingDecision = SharingDecision.PENDING
    lawful_basis: str | None = Field(default=None, max_length=1000)
