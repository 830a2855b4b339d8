"""SN19: no care plan review for a year on an open episode."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field

from safetynet.rules.facts import PersonFacts, latest
from safetynet.rules.model import Evidence, Finding, Parameters, Rule, RuleKind


class Params(Parameters):
    review_days: int = Field(365, ge=90, le=730, description="Longest gap between care plan reviews.")


def watch(facts: PersonFacts, params: Params) -> list[Finding]:
    episodes = facts.open_episodes()
    if not episodes:
        return []
    review = latest(facts.happened("care_plan_reviews"))
    first = min(episodes, key=lambda e: e.occurred_at)
    base = max(first.occurred_at, review.occurred_at) if review else first.occurred_at
    threshold = base + timedelta(days=params.review_days)
    if facts.at <= threshold:
        return []
    evidence = (
        Evidence.of(review, "last care plan review")
        if review and review.occurred_at >= first.occurred_at
        else Evidence.of(first, "episode start")
    )
    return [
        Finding(
            RULE.id,
            "care-plan",
            threshold,
            threshold,
            f"No care plan review since {base.date()}: review the care plan with the person (and carer).",
            (evidence,),
        )
    ]


RULE = Rule(
    id="SN19",
    version=1,
    name="care-plan-review-due",
    kind=RuleKind.WATCH,
    title="Care plan review due",
    explanation="An open episode with no care plan review for 365 days. Closes with a care plan review.",
    answers="CQC Community Mental Health Survey 2024: many had not had a care review in the last year.",
    parameters=Params,
    watch=watch,
)
