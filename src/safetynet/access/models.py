"""Local accounts and their signed-in sessions.

An account belongs to one staff member, whose role (in ``staff.role``) is what the account may do: changing a
member of staff's role changes their access at their next request. Partners and families sign in the same way
(their directory entry in ``staff`` has their role and no team); their account says what else they are: a GP
practice user's or a police liaison officer's ``organisation`` (the practice's ODS code, the force), a registered
carer's person (``carer_patient_id``) and carer record (``carer_fact_id``). Passwords are stored only as argon2id
hashes; session tokens only as keyed hashes, so a copy of the database signs nobody in. Sessions are working state, not
clinical facts: signing out deletes the row. Lockout and single sign-on (issue 7) add their own columns."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from safetynet.core.db import Base, UTCDateTime


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff.id"), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_signed_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # Partners and families only (docs/security.md, "Partner and family channels"):
    organisation: Mapped[str | None] = mapped_column(String(200), default=None)  # ODS code or police force
    carer_patient_id: Mapped[str | None] = mapped_column(ForeignKey("patients.id"), default=None)
    carer_fact_id: Mapped[str | None] = mapped_column(String(36), default=None)  # their ``carers`` fact


class AccountSession(Base):
    """One signed-in browser. ``token_hash`` is HMAC-SHA256 of the cookie's token under the server's secret key."""

    __tablename__ = "account_sessions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)  # the absolute end, whatever the use
