"""SN09: after discharge from an inpatient bed, an attended direct contact within 72 hours."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field

from safetynet.rules.facts import PersonFacts, latest
from safetynet.rules.model import Evidence, Finding, Parameters, Rule, RuleKind


class Params(Parameters):
    due_hours: int = Field(72, ge=24, le=168, description="Hours from discharge to follow-up (MHS78/79/80).")


def watch(facts: PersonFacts, params: Params) -> list[Finding]:
    admission = latest(facts.happened("admissions"))
    if admission is None or admission.discharged_at is None or admission.discharged_at > facts.at:
        return []
    seen = facts.last_attended_direct_contact()
    if seen is not None and seen.occurred_at >= admission.discharged_at:
        return []
    learnt = max(admission.recorded_at, admission.discharged_at)
    return [
        Finding(
            RULE.id,
            admission.fact_id,
            learnt,
            learnt + timedelta(hours=params.due_hours),
            f"Discharged from {facts.directory.team_name(admission.ward_id)} on {admission.discharged_at.date()}: "
            f"see them within {params.due_hours} hours.",
            (Evidence.of(admission, f"inpatient discharge on {admission.discharged_at.date()}"),),
        )
    ]


RULE = Rule(
    id="SN09",
    version=1,
    name="follow-up-72h",
    kind=RuleKind.WATCH,
    title="Follow-up within 72 hours of discharge",
    explanation=(
        "After discharge from an inpatient bed, an attended direct contact is due within 72 hours of the discharge "
        "being recorded. It closes with an attended direct contact after the discharge."
    ),
    answers="NHS Standard Contract 72-hour follow-up (MHSDS MHS78/79/80, ambition 80%); NICE NG53 / QS159.",
    parameters=Params,
    watch=watch,
)
