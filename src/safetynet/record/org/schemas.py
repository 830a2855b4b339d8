"""Inputs for organisations, teams and staff."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from safetynet.core.context import Role
from safetynet.record.org.models import Pathway


class OrganisationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ods_code: str = Field(min_length=3, max_length=10, pattern=r"^[A-Z0-9]+$")
    name: str = Field(min_length=1, max_length=200)


class TeamIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    pathway: Pathway


class StaffIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    role: Role
    team: str | None = None
