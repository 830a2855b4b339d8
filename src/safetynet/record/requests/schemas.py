"""Inputs for cross-team requests and responses."""

from __future__ import annotations

from pydantic import Field

from safetynet.record.common import FactIn
from safetynet.record.requests.models import Answer, Ask


class CrossTeamRequestIn(FactIn):
    team_id: str
    to_team_id: str
    ask: Ask
    detail: str | None = Field(default=None, max_length=20_000)


class CrossTeamResponseIn(FactIn):
    request_fact_id: str
    answer: Answer
    rationale: str = Field(min_length=1, max_length=20_000)
