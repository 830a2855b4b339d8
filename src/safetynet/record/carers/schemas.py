"""Inputs for carers, family concerns and responses."""

from __future__ import annotations

from pydantic import Field

from safetynet.record.carers.models import Channel
from safetynet.record.common import FactIn


class CarerIn(FactIn):
    name: str = Field(min_length=1, max_length=200)
    relationship: str = Field(min_length=1, max_length=100)
    consent_to_share: bool
    consent_scope: str | None = None
    involvement_preferences: str | None = None


class FamilyConcernIn(FactIn):
    raised_by: str = Field(min_length=1, max_length=200)
    channel: Channel
    text: str = Field(min_length=1, max_length=20_000)


class FamilyConcernResponseIn(FactIn):
    concern_fact_id: str
    text: str = Field(min_length=1, max_length=20_000)
