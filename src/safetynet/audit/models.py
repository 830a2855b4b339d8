"""The audit trail: one append-only row per read or write, each a link in a hash chain (``audit.chain``).

``seq`` is the event's place in the chain (1, 2, 3 ...), ``prev_hash`` the hash of the event before it (the genesis
hash for the first), ``event_hash`` the SHA-256 of this event's canonical serialisation, which covers ``seq`` and
``prev_hash``. ``audit_chain_head`` is one row holding the last link: appends take it in turn, and verification
compares it with the last event, so events cut off the end are noticed too."""

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
    action: Mapped[str] = mapped_column(String(40))  # create | amend | enter_in_error | read | load | ...
    entity: Mapped[str] = mapped_column(String(80))
    entity_id: Mapped[str | None] = mapped_column(String(36))
    patient_id: Mapped[str | None] = mapped_column(String(36), index=True)
    purpose: Mapped[str] = mapped_column(Text)
    detail: Mapped[str | None] = mapped_column(Text)
    # The hash chain: set when the event is flushed (audit.chain), never by callers. NULL only for a row written
    # round the chain, which verification reports.
    seq: Mapped[int | None] = mapped_column(Integer, unique=True, index=True, default=None)
    prev_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    event_hash: Mapped[str | None] = mapped_column(String(64), default=None)


class AuditChainHead(Base):
    """The last link of the chain (always the row with id 1): its sequence number and hash."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    event_hash: Mapped[str] = mapped_column(String(64))
