"""Prescriptions (oral and depot, with interval), depot doses given or refused, adherence from any source."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from safetynet.core.db import UTCDateTime
from safetynet.core.facts import ClinicalFact


class Route(StrEnum):
    ORAL = "oral"
    DEPOT = "depot"


class DepotOutcome(StrEnum):
    GIVEN = "given"
    REFUSED = "refused"


class Adherence(StrEnum):
    ADHERENT = "adherent"
    PARTIAL = "partial"
    NON_ADHERENT = "non_adherent"


class AdherenceSource(StrEnum):
    SELF = "self"
    FAMILY = "family"
    STAFF = "staff"
    PHARMACY = "pharmacy"
    GP = "gp"


class Prescription(ClinicalFact):
    """occurred_at is the start; stopping is a new version with stopped_at."""

    __tablename__ = "prescriptions"

    drug: Mapped[str] = mapped_column(String(200), index=True)
    route: Mapped[str] = mapped_column(String(10))
    dose: Mapped[str | None] = mapped_column(String(100), default=None)
    interval_days: Mapped[int | None] = mapped_column(Integer, default=None)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    stop_reason: Mapped[str | None] = mapped_column(Text, default=None)


class DepotAdministration(ClinicalFact):
    __tablename__ = "depot_administrations"

    prescription_fact_id: Mapped[str] = mapped_column(String(36), index=True)
    drug: Mapped[str] = mapped_column(String(200))
    outcome: Mapped[str] = mapped_column(String(10))
    staff_id: Mapped[str | None] = mapped_column(String(36), default=None)


class AdherenceReport(ClinicalFact):
    __tablename__ = "adherence_reports"

    status: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(10))
    detail: Mapped[str | None] = mapped_column(Text, default=None)
