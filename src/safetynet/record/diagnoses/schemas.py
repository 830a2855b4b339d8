"""Inputs for diagnoses."""

from __future__ import annotations

from pydantic import Field

from safetynet.record.common import FactIn
from safetynet.record.diagnoses.models import CodeSystem


class DiagnosisIn(FactIn):
    code: str = Field(min_length=2, max_length=20, pattern=r"^[A-Z0-9.]+$")
    system: CodeSystem
    display: str | None = Field(default=None, max_length=200)
