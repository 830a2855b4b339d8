"""Diagnoses as coded facts."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from safetynet.core.facts import ClinicalFact


class CodeSystem(StrEnum):
    ICD10 = "icd10"
    SNOMED = "snomed"


CODE_SYSTEM_URIS = {
    CodeSystem.ICD10: "http://hl7.org/fhir/sid/icd-10",
    CodeSystem.SNOMED: "http://snomed.info/sct",
}


class Diagnosis(ClinicalFact):
    __tablename__ = "diagnoses"

    code: Mapped[str] = mapped_column(String(20))
    system: Mapped[str] = mapped_column(String(10))
    display: Mapped[str | None] = mapped_column(String(200), default=None)
