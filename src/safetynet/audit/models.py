"""The audit trail. The hash chain and its verification arrive with the security work; the table is ready."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from safetynet.core.db import Base, UTCDateTime
from safetynet.core.facts import AppendOnly


class AuditEvent(AppendOnly, Base):
    __tablename__ = "audit_events"
    __table_args__ = {"info": {"append_only": True}}  # noqa: RUF012 (SQLAlchemy reads it once)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor_name: Mapped[str] = mapped_column(String(200))
    actor_role: Mapped[str] = mapped_column(String(40))
    actor_staff_id: Mapped[str | None] = mapped_column(String(36), index=True)
    action: Mapped[str] = mapped_column(String(40))  # create | amend | enter_in_error | read | load
    entity: Mapped[str] = mapped_column(String(80))
    entity_id: Mapped[str | None] = mapped_column(String(36))
    patient_id: Mapped[str | None] = mapped_column(String(36), index=True)
    purpose: Mapped[str] = mapped_column(Text)
    detail: Mapped[str | None] = mapped_column(Text)
