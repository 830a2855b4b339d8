"""A request from one team to another needs an answer with a rationale: silence is not an answer."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from safetynet.core.facts import ClinicalFact


class Ask(StrEnum):
    CTO = "cto"
    DEPOT = "depot"
    REVIEW = "review"
    ADMISSION = "admission"
    ASSESSMENT = "assessment"
    OTHER = "other"


class Answer(StrEnum):
    ACCEPTED = "accepted"
    DECLINED = "declined"
    OTHER = "other"


class CrossTeamRequest(ClinicalFact):
    """team_id is the asking team; to_team_id the team that owes the answer."""

    __tablename__ = "cross_team_requests"

    to_team_id: Mapped[str] = mapped_column(String(36), index=True)
    ask: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str | None] = mapped_column(Text, default=None)


class CrossTeamResponse(ClinicalFact):
    __tablename__ = "cross_team_responses"

    request_fact_id: Mapped[str] = mapped_column(String(36), index=True)
    answer: Mapped[str] = mapped_column(String(20))
    rationale: Mapped[str] = mapped_column(Text)
