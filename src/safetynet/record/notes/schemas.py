"""Inputs for clinical notes."""

from __future__ import annotations

from pydantic import Field

from safetynet.record.common import FactIn


class ClinicalNoteIn(FactIn):
    note: str = Field(min_length=1, max_length=100_000)
    title: str | None = Field(default=None, max_length=200)
