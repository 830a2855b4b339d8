"""Reference data about the service itself. Not clinical facts, but never deleted either: staff leave, teams close."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from safetynet.core.db import Base, UTCDateTime


class Pathway(StrEnum):
    EIP = "eip"
    CMHT = "cmht"
    ASSERTIVE_OUTREACH = "assertive_outreach"
    CRISIS = "crisis"
    INPATIENT = "inpatient"
    LIAISON = "liaison"


SMI_PATHWAYS = frozenset({Pathway.EIP, Pathway.CMHT, Pathway.ASSERTIVE_OUTREACH})


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    ods_code: Mapped[str] = mapped_column(String(10), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Team(Base):
    """A community team or an inpatient ward (a ward is a team on the inpatient pathway)."""

    __tablename__ = "teams"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    pathway: Mapped[str] = mapped_column(String(40))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Staff(Base):
    __tablename__ = "staff"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    role: Mapped[str] = mapped_column(String(40))
    team_id: Mapped[str | None] = mapped_column(ForeignKey("teams.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
