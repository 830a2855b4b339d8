"""Inputs for admissions, legal status and CTOs."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict

from safetynet.record.common import FactIn
from safetynet.record.legal.models import LEGAL_STATUS_CODES


def check_legal_status(code: str) -> str:
    code = code.strip().zfill(2)
    if code not in LEGAL_STATUS_CODES:
        raise ValueError(f"{code!r} is not an England Mental Health Act legal status code")
    return code


LegalStatusCode = Annotated[str, AfterValidator(check_legal_status)]


class AdmissionIn(FactIn):
    ward_id: str
    legal_status: LegalStatusCode


class InpatientDischargeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    discharged_at: AwareDatetime
    crisis_team_accepted: bool | None = None
    carer_informed: bool | None = None


class LegalStatusChangeIn(FactIn):
    legal_status: LegalStatusCode


class CtoIn(FactIn):
    expires_at: date | None = None
    conditions: str | None = None


class CtoEndIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ended_at: AwareDatetime
    reason: str | None = None


class CtoRecallIn(FactIn):
    reason: str | None = None
