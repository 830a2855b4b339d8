"""Inputs for referrals, episodes and key worker allocation."""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from safetynet.core.context import Role
from safetynet.record.common import FactIn
from safetynet.record.episodes.models import DischargeDestination, DischargeReason, ReferralStatus


class ReferralIn(FactIn):
    team_id: str
    status: ReferralStatus = ReferralStatus.ACCEPTED


class EpisodeIn(FactIn):
    team_id: str


class EpisodeEndIn(BaseModel):
    model_config = ConfigDict(extra="forbid", use_enum_values=True)
    ended_at: AwareDatetime
    reason: DischargeReason
    destination: DischargeDestination
    override_by_role: Role | None = None
    override_rationale: str | None = Field(default=None, max_length=5000)


class KeyWorkerIn(FactIn):
    episode_fact_id: str
    staff_id: str
