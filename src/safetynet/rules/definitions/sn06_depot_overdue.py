"""SN06: a depot injection is overdue: more than the interval plus a week since the last dose given."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field

from safetynet.record.medication.models import DepotOutcome, Route
from safetynet.rules.facts import PersonFacts
from safetynet.rules.model import Evidence, Finding, Parameters, Rule, RuleKind


class Params(Parameters):
    grace_days: int = Field(7, ge=0, le=28, description="Days past the interval before a dose counts as overdue.")


def watch(facts: PersonFacts, params: Params) -> list[Finding]:
    findings = []
    doses = facts.happened("depot_administrations")
    for prescription in facts.happened("prescriptions"):
        if prescription.route != Route.DEPOT or prescription.stopped_at is not None or not prescription.interval_days:
            continue
        mine = [d for d in doses if d.prescription_fact_id == prescription.fact_id]
        given = [d for d in mine if d.outcome == DepotOutcome.GIVEN]
        base_fact = given[-1] if given else prescription
        threshold = base_fact.occurred_at + timedelta(days=prescription.interval_days + params.grace_days)
        if facts.at <= threshold:
            continue
        evidence = [Evidence.of(prescription, f"{prescription.drug} every {prescription.interval_days} days")]
        evidence.append(Evidence.of(base_fact, "last dose given" if given else "prescribed, no dose given yet"))
        evidence += [
            Evidence.of(d, "dose refused")
            for d in mine
            if d.outcome == DepotOutcome.REFUSED and d.occurred_at > base_fact.occurred_at
        ]
        findings.append(
            Finding(
                RULE.id,
                prescription.fact_id,
                threshold,
                threshold,
                f"{prescription.drug} is overdue: last given {base_fact.occurred_at.date()} "
                f"(every {prescription.interval_days} days). Find out why and act.",
                tuple(evidence),
            )
        )
    return findings


RULE = Rule(
    id="SN06",
    version=1,
    name="depot-overdue",
    kind=RuleKind.WATCH,
    title="Depot injection overdue",
    explanation=(
        "An active depot prescription whose last dose given (or whose start, if none has been given) is more than "
        "the interval plus 7 days ago. It closes when a dose is given or the prescription is stopped."
    ),
    answers="CQC (2024): monitor medicines in the community; NICE CG178 (depot where hidden non-adherence matters).",
    parameters=Params,
    watch=watch,
)
