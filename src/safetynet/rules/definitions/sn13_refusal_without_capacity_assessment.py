"""SN13: repeated refusal of treatment with no assessment of capacity to decide about it."""

from __future__ import annotations

from datetime import UTC, timedelta

from pydantic import Field

from safetynet.record.medication.models import Adherence, DepotOutcome
from safetynet.rules.facts import PersonFacts
from safetynet.rules.model import Evidence, Finding, Parameters, Rule, RuleKind


class Params(Parameters):
    window_days: int = Field(90, ge=14, le=365, description="Window in which refusals are counted.")
    refusals: int = Field(3, ge=2, le=10, description="Refusals that call for a capacity assessment.")
    response_days: int = Field(14, ge=1, le=60, description="Days to assess capacity.")


def watch(facts: PersonFacts, params: Params) -> list[Finding]:
    start = facts.at.astimezone(UTC) - timedelta(days=params.window_days)  # elapsed days, whatever zone `at` is in
    refusals = [d for d in facts.happened("depot_administrations") if d.outcome == DepotOutcome.REFUSED]
    refusals += [r for r in facts.happened("adherence_reports") if r.status == Adherence.NON_ADHERENT]
    refusals = sorted((r for r in refusals if r.occurred_at >= start), key=lambda r: r.occurred_at)
    if len(refusals) < params.refusals:
        return []
    if any(c.occurred_at >= start for c in facts.happened("capacity_assessments")):
        return []
    since = max(r.recorded_at for r in refusals[: params.refusals])
    return [
        Finding(
            RULE.id,
            "capacity",
            since,
            since + timedelta(days=params.response_days),
            f"{len(refusals)} refusals of treatment in {params.window_days} days and no capacity assessment: assess "
            "capacity to decide about treatment.",
            tuple(
                Evidence.of(r, "depot refused" if r.table == "depot_administrations" else "non-adherence report")
                for r in refusals
            ),
        )
    ]


RULE = Rule(
    id="SN13",
    version=1,
    name="refusal-without-capacity-assessment",
    kind=RuleKind.WATCH,
    title="Refusals without a capacity assessment",
    explanation="Three or more refusals (depot refused, non-adherence reports) within 90 days and no capacity "
    "assessment in that window. Closes with a capacity assessment.",
    answers="NHS England homicide review (2025, as reported): capacity to decide about treatment was not assessed.",
    parameters=Params,
    watch=watch,
)
