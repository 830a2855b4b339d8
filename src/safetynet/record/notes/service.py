"""Recording free-text clinical notes."""

from __future__ import annotations

from safetynet.core.context import Context
from safetynet.record.common import record
from safetynet.record.notes.models import ClinicalNote
from safetynet.record.notes.schemas import ClinicalNoteIn


def record_note(ctx: Context, patient_id: str, data: ClinicalNoteIn) -> ClinicalNote:
    return record(ctx, ClinicalNote, patient_id, data)
