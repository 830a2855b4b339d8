"""Access beyond a legitimate relationship, and information shared with partners. All append-only.

- ``break_glass_grants``: a clinician with no relationship to a person opened their record anyway, saying why; the
  grant lasts a short time, and the safety lead reviews every one (``break_glass_reviews``).
- ``partner_shares``: what was shared with a partner (a GP practice, a police liaison officer), under which lawful
  basis, and exactly which items: the partner's view shows these items and nothing else."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from safetynet.core.db import Base, UTCDateTime
from safetynet.core.facts import AppendOnly


class ReviewOutcome(StrEnum):
    APPROPRIATE = "appropriate"
    INAPPROPRIATE = "inappropriate"  # followed up under the trust's information governance policy


class LawfulBasis(StrEnum):
    """Why sharing is lawful. A share needs one Article 6 basis and one Article 9 condition (health data)."""

    ART_6_1_C = "uk_gdpr_6_1_c"  # legal obligation
    ART_6_1_D = "uk_gdpr_6_1_d"  # vital interests
    ART_6_1_E = "uk_gdpr_6_1_e"  # public task
    ART_9_2_C = "uk_gdpr_9_2_c"  # vital interests, where consent cannot be given
    ART_9_2_G = "uk_gdpr_9_2_g"  # substantial public interest (DPA 2018 Schedule 1, e.g. safeguarding)
    ART_9_2_H = "uk_gdpr_9_2_h"  # health or social care
    CDA_S115 = "crime_and_disorder_act_s115"  # power to share with the police for crime and disorder purposes


ARTICLE_6 = frozenset({LawfulBasis.ART_6_1_C, LawfulBasis.ART_6_1_D, LawfulBasis.ART_6_1_E})
ARTICLE_9 = frozenset({LawfulBasis.ART_9_2_C, LawfulBasis.ART_9_2_G, LawfulBasis.ART_9_2_H})


class SharedItem(StrEnum):
    """The kinds of item that can be shared: a share names each one, with the exact text that went."""

    IDENTITY = "identity"  # name, date of birth, NHS number
    KEY_WORKER_CONTACT = "key_worker_contact"
    RISK_SUMMARY = "risk_summary"
    CRISIS_PLAN = "crisis_plan"
    LEGAL_STATUS = "legal_status"
    MEDICATION = "medication"
    DISCHARGE_SUMMARY = "discharge_summary"
    CONTACT_HISTORY = "contact_history"


class BreakGlassGrant(AppendOnly, Base):
    __tablename__ = "break_glass_grants"
    __table_args__ = {"info": {"append_only": True}}  # noqa: RUF012 (SQLAlchemy reads it once)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff.id"), index=True)
    actor_name: Mapped[str] = mapped_column(String(200))
    actor_role: Mapped[str] = mapped_column(String(40))
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class BreakGlassReview(AppendOnly, Base):
    __tablename__ = "break_glass_reviews"
    __table_args__ = {"info": {"append_only": True}}  # noqa: RUF012 (SQLAlchemy reads it once)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    grant_id: Mapped[str] = mapped_column(ForeignKey("break_glass_grants.id"), unique=True)
    reviewed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reviewer_staff_id: Mapped[str | None] = mapped_column(ForeignKey("staff.id"))
    reviewer_name: Mapped[str] = mapped_column(String(200))
    outcome: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text)


class PartnerShare(AppendOnly, Base):
    __tablename__ = "partner_shares"
    __table_args__ = {"info": {"append_only": True}}  # noqa: RUF012 (SQLAlchemy reads it once)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    recipient_role: Mapped[str] = mapped_column(String(40))  # gp_partner | police_liaison
    recipient_organisation: Mapped[str] = mapped_column(String(200), index=True)
    shared_at: Mapped[datetime] = mapped_column(UTCDateTime())
    shared_by_staff_id: Mapped[str | None] = mapped_column(ForeignKey("staff.id"))
    shared_by_name: Mapped[str] = mapped_column(String(200))
    shared_by_role: Mapped[str] = mapped_column(String(40))
    lawful_basis: Mapped[str] = mapped_column(Text)  # LawfulBasis values, comma-separated, sorted
    purpose: Mapped[str] = mapped_column(Text)
    items: Mapped[str] = mapped_column(Text)  # JSON: [{"kind": SharedItem, "text": exactly what was shared}]
