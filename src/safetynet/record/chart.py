"""The whole record of one person, as known at a moment: what ``patient show`` and the person summary display."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select

from safetynet.audit import service as audit
from safetynet.core.context import Context
from safetynet.core.facts import FACT_COLUMNS, ClinicalFact, known_at
from safetynet.record.org.models import Staff, Team
from safetynet.record.patients import service as patients
from safetynet.record.patients.models import Patient, PatientDetails
from safetynet.record.registry import FACT_MODELS, REFERENCE_MODELS


@dataclass(frozen=True, slots=True)
class Chart:
    patient: Patient
    details: PatientDetails
    as_known_at: datetime | None
    sections: dict[str, list[ClinicalFact]]
    team_names: dict[str, str]
    staff_names: dict[str, str]

    @property
    def fact_count(self) -> int:
        return sum(len(facts) for facts in self.sections.values())


def chart(ctx: Context, nhs_number: str, at: datetime | None = None, *, kinds: Collection[str] | None = None) -> Chart:
    """Read everything known about a person at ``at`` (now if None). The read itself is audited.

    ``kinds`` (keys of ``FACT_MODELS``) reads only those sections, for a page that shows only them: a long record's
    hundreds of contacts and notes are then not read to be thrown away. The details are always read."""
    if kinds is not None and (unknown := set(kinds) - FACT_MODELS.keys()):
        raise KeyError(f"no section {sorted(unknown)} in FACT_MODELS")
    patient = patients.get(ctx, nhs_number, at)
    sections: dict[str, list[ClinicalFact]] = {}
    for kind, model in FACT_MODELS.items():
        if kinds is not None and kind != "details" and kind not in kinds:
            continue
        stmt = known_at(model, at).where(model.patient_id == patient.id).order_by(model.occurred_at, model.id)
        sections[kind] = list(ctx.session.scalars(stmt))
    details = sections.pop("details")[-1]
    assert isinstance(details, PatientDetails)
    audit.record_read(
        ctx, entity="chart", patient_id=patient.id, detail=f"as known at {at.isoformat()}" if at else None
    )
    return Chart(
        patient=patient,
        details=details,
        as_known_at=at,
        sections=sections,
        team_names=dict(ctx.session.execute(select(Team.id, Team.name)).tuples().all()),
        staff_names=dict(ctx.session.execute(select(Staff.id, Staff.name)).tuples().all()),
    )


def fact_as_dict(fact: ClinicalFact, chart: Chart | None = None) -> dict[str, Any]:
    """A fact as plain JSON-able data, with team and staff names resolved where a chart is given."""
    data: dict[str, Any] = {name: _plain(getattr(fact, name)) for name in FACT_COLUMNS if name != "patient_id"}
    data.update({name: _plain(value) for name, value in fact.clinical_fields().items()})
    if chart is not None:
        if fact.team_id:
            data["team"] = chart.team_names.get(fact.team_id)
        for key in ("staff_id", "recorded_by_id", "ward_id", "to_team_id"):
            value = data.get(key)
            if value:
                data[key.removesuffix("_id")] = chart.staff_names.get(value) or chart.team_names.get(value)
    return data


def chart_as_dict(chart: Chart) -> dict[str, Any]:
    d = chart.details
    return {
        "nhs_number": chart.patient.nhs_number,
        "name": d.name,
        "born": d.born.isoformat(),
        "sex": d.sex,
        "gp_practice": d.gp_practice,
        "first_known": chart.patient.recorded_at.isoformat(),
        "as_known_at": chart.as_known_at.isoformat() if chart.as_known_at else None,
        "fact_count": chart.fact_count,
        "sections": {kind: [fact_as_dict(f, chart) for f in facts] for kind, facts in chart.sections.items()},
    }


def stats(ctx: Context) -> dict[str, dict[str, int]]:
    """Row counts per table; for clinical facts also how many distinct facts (versions folded)."""
    out: dict[str, dict[str, int]] = {}
    for reference in REFERENCE_MODELS:
        out[reference.__tablename__] = {"rows": ctx.session.scalar(select(func.count()).select_from(reference)) or 0}
    for model in FACT_MODELS.values():
        rows, facts = ctx.session.execute(
            select(func.count(), func.count(func.distinct(model.fact_id))).select_from(model)
        ).one()
        out[model.__tablename__] = {"rows": rows, "facts": facts}
    return dict(sorted(out.items()))


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value
