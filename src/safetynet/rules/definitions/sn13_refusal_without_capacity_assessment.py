"""SN13: repeated refusal of treatment with no assessment of capacity to decide about it."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field

from safetynet.record.medication.models import Adherence, DepotOutcome
from safetynet.rules.facts import PersonFacts
from safetynet.rules.model import Evidence, Finding, Parameters, Rule, RuleKind


class Params(Parameters):
    window_days: int = Field(90, ge=14, le=365, description="Refusals this close together call for an assessment.")
    refusals: int = Field(3, ge=2, le=10, description="Refusals that call for a capacity assessment.")
    response_days: int = Field(14, ge=1, le=60, description="Days to assess capacity.")
    stays_open_days: int = Field(
        365, ge=90, le=1825, description="How long after the last refusal an unanswered cluster stays a live task."
    )


def watch(facts: PersonFacts, params: Params) -> list[Finding]:
    refusals = [d for d in facts.happened("depot_administrations") if d.outcome == DepotOutcome.REFUSED]
    refusals += [r for r in facts.happened("adherence_reports") if r.status == Adherence.NON_ADHERENT]
    refusals.sort(key=lambda r: r.occurred_at)
    window = timedelta(days=params.window_days)
    # The first cluster (``refusals`` refusals within the window of one another) that no capacity assessment has
    # answered since its first refusal. It does not lapse as the window slides on (version 2).
    assessed = [c.occurred_at for c in facts.happened("capacity_assessments")]
    cluster = None
    for end in range(params.refusals - 1, len(refusals)):
        first = refusals[end - params.refusals + 1]
        if refusals[end].occurred_at - first.occurred_at > window:
            continue
        if any(when >= first.occurred_at for when in assessed):
            continue
        cluster = refusals[end - params.refusals + 1 :]
        break
    if cluster is None:
        return []
    if facts.at - cluster[-1].occurred_at > timedelta(days=params.stays_open_days):
        return []
    since = max(r.recorded_at for r in cluster[: params.refusals])
    return [
        Finding(
            RULE.id,
            "capacity",
            since,
            since + timedelta(days=params.response_days),
            f"{len(cluster)} refusals of treatment since {cluster[0].occurred_at.date()} and no capacity assessment: "
            "assess capacity to decide about treatment.",
            tuple(
                Evidence.of(r, "depot refused" if r.table == "depot_administrations" else "non-adherence report")
                for r in cluster
            ),
        )
    ]


RULE = Rule(
    id="SN13",
    version=2,
    name="refusal-without-capacity-assessment",
    kind=RuleKind.WATCH,
    title="Refusals without a capacity assessment",
    explanation="Three or more refusals (depot refused, non-adherence reports) within 90 days of one another and no "
    "capacity assessment since the first of them. It closes only with a capacity assessment (it does not lapse as "
    "the refusals age), and stops being a live task a year after the last refusal; replay still shows it.",
    answers="NHS England homicide review (2025, as reported): capacity to decide about treatment was not assessed.",
    parameters=Params,
    watch=watch,
)
