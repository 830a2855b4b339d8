"""Inputs for patients. The NHS number is checked by its modulus 11 check digit."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from nhs_number.validate import is_valid as nhs_number_is_valid
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from safetynet.record.patients.models import Sex


def check_nhs_number(value: str) -> str:
    digits = value.replace(" ", "").replace("-", "")
    if len(digits) != 10 or not digits.isdigit():
        raise ValueError("an NHS number is 10 digits")
    if not nhs_number_is_valid(digits):
        raise ValueError("the check digit is wrong (modulus 11)")
    return digits


NhsNumber = Annotated[str, AfterValidator(check_nhs_number)]


class PatientIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    nhs_number: NhsNumber
    name: str = Field(min_length=1, max_length=200)
    born: date
    sex: Sex = Sex.UNKNOWN
    gp_practice: str | None = Field(default=None, pattern=r"^[A-Z][0-9A-Z]{5}$")
