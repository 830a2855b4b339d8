"""SN05: a risk review is due: none for six months, or none within a week of a trigger."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import Field

from safetynet.record.medication.models import Adherence, DepotOutcome
from safetynet.record.partners.models import JUSTICE_AGENCIES
from safetynet.rules.facts import Fact, PersonFacts, latest
from safetynet.rules.model import Evidence, Finding, Parameters, Rule, RuleKind


class Params(Parameters):
    review_days: int = Field(182, ge=30, le=366, description="Longest gap between risk assessments.")
    trigger_days: int = Field(7, ge=1, le=28, description="Days after a trigger to reassess.")


def _triggers(facts: PersonFacts) -> list[tuple[datetime, datetime, Fact, str]]:
    """(happened, recorded, fact, why) for every change that calls for a fresh look at risk."""
    found = []
    for a in facts.happened("admissions"):
        found.append((a.occurred_at, a.first_recorded_at, a, "admission"))
        if a.discharged_at is not None and a.discharged_at <= facts.at:
            found.append((a.discharged_at, a.recorded_at, a, "inpatient discharge"))
    for p in facts.happened("partner_information"):
        if p.agency in JUSTICE_AGENCIES:
            found.append((p.occurred_at, p.recorded_at, p, f"{p.agency} information: {p.kind}"))
    for e in facts.risk_history():
        found.append((e.occurred_at, e.recorded_at, e, f"new risk event: {e.category}"))
    for c in facts.happened("family_concerns"):
        found.append((c.occurred_at, c.recorded_at, c, "family concern"))
    for d in facts.happened("depot_administrations"):
        if d.outcome == DepotOutcome.REFUSED:
            found.append((d.occurred_at, d.recorded_at, d, "depot refused"))
    for r in facts.happened("adherence_reports"):
        if r.status in (Adherence.NON_ADHERENT, Adherence.PARTIAL):
            found.append((r.occurred_at, r.recorded_at, r, f"adherence report: {r.status}"))
    return found


def watch(facts: PersonFacts, params: Params) -> list[Finding]:
    episodes = facts.open_episodes()
    admissions = [a for a in facts.happened("admissions") if a.discharged_at is None]
    if not episodes and not admissions:
        return []
    assessments = facts.happened("risk_assessments")
    last = latest(assessments)
    first_care = min(episodes + admissions, key=lambda f: f.occurred_at)
    care_began = first_care.occurred_at
    base = max(last.occurred_at, care_began) if last else care_began
    findings = []
    window = timedelta(days=params.trigger_days)
    threshold = base + timedelta(days=params.review_days)
    if facts.at > threshold:
        since_what = (
            Evidence.of(last, "last risk assessment")
            if last and last.occurred_at >= care_began
            else Evidence.of(first_care, "care began")
        )
        findings.append(
            Finding(
                RULE.id,
                "periodic",
                threshold,
                threshold,
                f"No risk assessment for more than {params.review_days} days: review risk.",
                (since_what,),
            )
        )
    overdue = sorted(
        (
            t
            for t in _triggers(facts)
            if facts.at > t[1] + window
            and not any(a.occurred_at >= t[0] and a.recorded_at >= t[1] for a in assessments)
        ),
        key=lambda t: t[1],
    )
    if overdue:
        since = overdue[0][1] + window
        findings.append(
            Finding(
                RULE.id,
                "trigger",
                since,
                since,
                f"No risk review within {params.trigger_days} days of a change ({overdue[0][3]}): review risk.",
                tuple(Evidence.of(fact, why) for _, _, fact, why in overdue),
            )
        )
    return findings


RULE = Rule(
    id="SN05",
    version=1,
    name="risk-review-due",
    kind=RuleKind.WATCH,
    title="Risk review due",
    explanation=(
        "For someone on an open episode or in hospital: no risk assessment for 182 days, or a trigger (admission, "
        "inpatient discharge, police or court information, a new risk event, a family concern, a depot refused, a "
        "non-adherence report) with no assessment within 7 days of the trigger being recorded. It opens when the "
        "week has passed and closes with an assessment dated after the trigger."
    ),
    answers="DHSC, Best practice in managing risk (2007, updated): review after any significant change.",
    parameters=Params,
    watch=watch,
)
