"""The Mental Health Act across admissions. Legal status codes are England's (NHS Data Dictionary, UK Core)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from safetynet.core.db import UTCDateTime
from safetynet.core.facts import ClinicalFact

LEGAL_STATUS_CODES: dict[str, str] = {
    "01": "Informal",
    "02": "Section 2",
    "03": "Section 3",
    "04": "Section 4",
    "05": "Section 5(2)",
    "06": "Section 5(4)",
    "07": "Section 35",
    "08": "Section 36",
    "09": "Section 37 with section 41 restrictions",
    "10": "Section 37",
    "12": "Section 38",
    "13": "Section 44",
    "14": "Section 46",
    "15": "Section 47 with section 49 restrictions",
    "16": "Section 47",
    "17": "Section 48 with section 49 restrictions",
    "18": "Section 48",
    "19": "Section 135",
    "20": "Section 136",
    "31": "Criminal Procedure (Insanity) Act",
    "32": "Other acts",
    "35": "Guardianship (section 7)",
    "36": "Guardianship (section 37)",
    "37": "Section 45A",
    "38": "Section 45A (limitation direction ended)",
    "98": "Not applicable",
    "99": "Not known",
}

# Detention in hospital under a section (or another act): not informal, not guardianship (35, 36, which are in the
# community), not "not applicable" or "not known". Guardianship was counted as detention in version 1 of SN12.
DETENTION_CODES = frozenset(LEGAL_STATUS_CODES) - {"01", "35", "36", "98", "99"}


class Admission(ClinicalFact):
    """An inpatient stay. occurred_at is admission; discharge is a new version with discharged_at."""

    __tablename__ = "admissions"

    ward_id: Mapped[str] = mapped_column(String(36), index=True)
    legal_status: Mapped[str] = mapped_column(String(2))
    discharged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    crisis_team_accepted: Mapped[bool | None] = mapped_column(Boolean, default=None)
    carer_informed: Mapped[bool | None] = mapped_column(Boolean, default=None)


class LegalStatusChange(ClinicalFact):
    __tablename__ = "legal_status_changes"

    admission_fact_id: Mapped[str | None] = mapped_column(String(36), index=True)
    legal_status: Mapped[str] = mapped_column(String(2))


class CommunityTreatmentOrder(ClinicalFact):
    """A CTO (s17A). MHSDS records CTOs apart from legal status: start, expiry, end, recalls."""

    __tablename__ = "community_treatment_orders"

    expires_at: Mapped[date | None] = mapped_column(Date, default=None)
    conditions: Mapped[str | None] = mapped_column(Text, default=None)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    end_reason: Mapped[str | None] = mapped_column(Text, default=None)


class CtoRecall(ClinicalFact):
    __tablename__ = "cto_recalls"

    cto_fact_id: Mapped[str] = mapped_column(String(36), index=True)
    reason: Mapped[str | None] = mapped_column(Text, default=None)
