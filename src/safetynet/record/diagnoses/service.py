"""Recording diagnoses."""

from __future__ import annotations

from safetynet.core.context import Context
from safetynet.record.common import record
from safetynet.record.diagnoses.models import Diagnosis
from safetynet.record.diagnoses.schemas import DiagnosisIn


def record_diagnosis(ctx: Context, patient_id: str, data: DiagnosisIn) -> Diagnosis:
    return record(ctx, Diagnosis, patient_id, data)
