"""SN04: an assessment marks absent (or leaves out) a risk the history holds, with no written rationale."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field

from safetynet.record.risk.history import dropped_categories
from safetynet.rules.facts import PersonFacts, latest
from safetynet.rules.model import Evidence, Finding, Parameters, Rule, RuleKind


class Params(Parameters):
    response_days: int = Field(7, ge=1, le=60, description="Days to add a rationale and a second reviewer.")


def watch(facts: PersonFacts, params: Params) -> list[Finding]:
    assessment = latest(facts.happened("risk_assessments"))
    if assessment is None or (assessment.rationale or "").strip():
        return []
    history = [e for e in facts.risk_history() if e.occurred_at <= assessment.occurred_at]
    dropped = list(dropped_categories(history, assessment.factors, assessment.occurred_at))  # R17, shared with the form
    if not dropped:
        return []
    evidence = [Evidence.of(assessment, f"assessment marks {', '.join(dropped)} absent or not assessed")]
    evidence += [
        Evidence.of(e, f"{e.category} ({e.harm} harm, source {e.source})") for e in history if e.category in dropped
    ]
    # Open from when both were known: a risk event recorded after the assessment starts the clock when it arrives.
    since = max(assessment.recorded_at, min(e.first_recorded_at for e in history if e.category in dropped))
    return [
        Finding(
            rule_id=RULE.id,
            key=assessment.fact_id,
            since=since,
            due=since + timedelta(days=params.response_days),
            summary=(
                f"The latest risk assessment drops {', '.join(c.replace('_', ' ') for c in dropped)} that the risk "
                "history holds: write the rationale and ask a second reviewer."
            ),
            evidence=tuple(evidence),
        )
    ]


RULE = Rule(
    id="SN04",
    version=2,
    name="risk-downgraded",
    kind=RuleKind.WATCH,
    title="Risk history dropped from an assessment",
    explanation=(
        "The latest risk assessment marks a category absent or not assessed (or leaves it out) while the risk "
        "history holds an event of that category from before the assessment, and gives no rationale. It closes when "
        "a later assessment marks the category present or gives a rationale."
    ),
    answers="CQC (2024): eight risk assessments minimised violence; current risk rated low the day before a "
    "discharge while the same form recorded a high historic risk of violence.",
    parameters=Params,
    watch=watch,
)
