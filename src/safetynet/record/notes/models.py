"""Free-text clinical notes (the note body lives in the shared ``note`` column of every fact)."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from safetynet.core.facts import ClinicalFact


class ClinicalNote(ClinicalFact):
    __tablename__ = "clinical_notes"

    title: Mapped[str | None] = mapped_column(String(200), default=None)
