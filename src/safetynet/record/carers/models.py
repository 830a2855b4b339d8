"""Carers, and every contact from a family member as a concern that needs a recorded response."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Boolean, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from safetynet.core.facts import ClinicalFact


class Channel(StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    IN_PERSON = "in_person"
    LETTER = "letter"
    ONLINE = "online"  # the family channel: a registered carer signed in to Safetynet


class Carer(ClinicalFact):
    __tablename__ = "carers"

    name: Mapped[str] = mapped_column(String(200))
    relationship: Mapped[str] = mapped_column(String(100))
    consent_to_share: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_scope: Mapped[str | None] = mapped_column(Text, default=None)
    involvement_preferences: Mapped[str | None] = mapped_column(Text, default=None)


class FamilyConcern(ClinicalFact):
    __tablename__ = "family_concerns"

    raised_by: Mapped[str] = mapped_column(String(200))
    carer_fact_id: Mapped[str | None] = mapped_column(String(36), default=None)
    channel: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)


class FamilyConcernResponse(ClinicalFact):
    __tablename__ = "family_concern_responses"

    concern_fact_id: Mapped[str] = mapped_column(String(36), index=True)
    text: Mapped[str] = mapped_column(Text)
