"""What every clinical fact's input shares, and the one generic way to turn an input into a fact."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from safetynet.core.context import Context
from safetynet.core.facts import ClinicalFact
from safetynet.record import writes

F = TypeVar("F", bound=ClinicalFact)


class FactIn(BaseModel):
    """When it happened, which team it belongs to, and an optional free-text note."""

    model_config = ConfigDict(extra="forbid", use_enum_values=True)

    occurred_at: AwareDatetime
    team_id: str | None = None
    note: str | None = Field(default=None, max_length=20_000)


def record(ctx: Context, model: type[F], patient_id: str, data: FactIn, **extra: Any) -> F:
    """Add ``data`` as a new fact of ``model``: its fields map one to one onto the model's columns."""
    fields = data.model_dump(exclude={"occurred_at"}) | extra
    return writes.add(ctx, model, patient_id=patient_id, occurred_at=data.occurred_at, **fields)
