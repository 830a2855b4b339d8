"""Referrals and episodes of care, the caseload's backbone; key worker allocations with their history."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from safetynet.core.db import UTCDateTime
from safetynet.core.facts import ClinicalFact


class ReferralStatus(StrEnum):
    RECEIVED = "received"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class EpisodeStatus(StrEnum):
    """FHIR EpisodeOfCare.status values that Safetynet uses."""

    ACTIVE = "active"
    FINISHED = "finished"


class DischargeReason(StrEnum):
    RECOVERED = "recovered"
    NON_ATTENDANCE = "non_attendance"
    DISENGAGED = "disengaged"
    MOVED_AWAY = "moved_away"
    TRANSFERRED = "transferred"
    DIED = "died"
    OTHER = "other"


class DischargeDestination(StrEnum):
    GP = "gp"
    OTHER_TEAM = "other_team"
    NONE = "none"


class Referral(ClinicalFact):
    __tablename__ = "referrals"

    status: Mapped[str] = mapped_column(String(20))


class Episode(ClinicalFact):
    """An episode of care with one team. occurred_at is its start; ending it is a new version."""

    __tablename__ = "episodes"

    pathway: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default=EpisodeStatus.ACTIVE)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    discharge_reason: Mapped[str | None] = mapped_column(String(40), default=None)
    discharge_destination: Mapped[str | None] = mapped_column(String(40), default=None)
    override_by_role: Mapped[str | None] = mapped_column(String(40), default=None)
    override_rationale: Mapped[str | None] = mapped_column(Text, default=None)


class KeyWorkerAllocation(ClinicalFact):
    """A named key worker (care coordinator) for an episode, from occurred_at until ended_at."""

    __tablename__ = "key_worker_allocations"

    episode_fact_id: Mapped[str] = mapped_column(String(36), index=True)
    staff_id: Mapped[str] = mapped_column(String(36), index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
