"""Inputs for prescriptions, depot administrations and adherence reports."""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from safetynet.record.common import FactIn
from safetynet.record.medication.models import Adherence, AdherenceSource, DepotOutcome, Route


class PrescriptionIn(FactIn):
    drug: str = Field(min_length=1, max_length=200)
    route: Route
    dose: str | None = Field(default=None, max_length=100)
    interval_days: int | None = Field(default=None, ge=1, le=366)

    @model_validator(mode="after")
    def depot_has_interval(self) -> PrescriptionIn:
        if self.route == Route.DEPOT and self.interval_days is None:
            raise ValueError("a depot prescription needs interval_days")
        return self


class PrescriptionStopIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    stopped_at: AwareDatetime
    reason: str | None = None


class DepotAdministrationIn(FactIn):
    drug: str = Field(min_length=1, max_length=200)
    outcome: DepotOutcome
    staff_id: str | None = None


class AdherenceReportIn(FactIn):
    status: Adherence
    source: AdherenceSource
    detail: str | None = None
