"""The FHIR import ledger: what each imported resource version became, so that importing the same data again
changes nothing and an interrupted import, run again, carries on where it stopped. Append-only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from safetynet.core.db import Base, UTCDateTime
from safetynet.core.facts import AppendOnly


class FhirImportLedger(AppendOnly, Base):
    __tablename__ = "fhir_import_ledger"
    __table_args__ = (
        UniqueConstraint("resource_type", "resource_id", "version_id", "content_hash"),
        Index("ix_fhir_import_ledger_resource", "resource_id", "resource_type"),
        {"info": {"append_only": True}},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    resource_type: Mapped[str] = mapped_column(String(40))
    resource_id: Mapped[str] = mapped_column(String(64))
    version_id: Mapped[str] = mapped_column(String(64))  # meta.versionId as sent ("" when none)
    content_hash: Mapped[str] = mapped_column(String(32))  # BLAKE2b-128 of the resource as sent
    record_table: Mapped[str] = mapped_column(String(60))  # what it became: a fact table, patients, teams, staff
    record_id: Mapped[str] = mapped_column(String(36))  # the fact_id (or the row's id)
    record_version: Mapped[int] = mapped_column(Integer)  # the fact's version it became (1 for reference data)
    source: Mapped[str] = mapped_column(String(500))  # file and line, or the request
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())  # when Safetynet received it (the clock)
