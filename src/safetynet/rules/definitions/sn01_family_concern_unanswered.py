"""SN01: a family or carer concern with no recorded response by the end of the next working day."""

from __future__ import annotations

from safetynet.rules.calendar import end_of_next_working_day
from safetynet.rules.facts import PersonFacts
from safetynet.rules.model import Evidence, Finding, Parameters, Rule, RuleKind


class Params(Parameters):
    """The deadline is fixed by the rulebook: the end of the next working day after the concern was recorded."""


def watch(facts: PersonFacts, params: Params) -> list[Finding]:
    answered = {r.concern_fact_id for r in facts.of("family_concern_responses")}
    return [
        Finding(
            rule_id=RULE.id,
            key=concern.fact_id,
            since=concern.recorded_at,
            due=end_of_next_working_day(concern.recorded_at),
            summary=f"A concern from {concern.raised_by} has no recorded response: call them back and record it.",
            evidence=(Evidence.of(concern, f"{concern.raised_by} by {concern.channel}: {concern.text[:120]}"),),
        )
        for concern in facts.of("family_concerns")
        if concern.fact_id not in answered
    ]


RULE = Rule(
    id="SN01",
    version=1,
    name="family-concern-unanswered",
    kind=RuleKind.WATCH,
    title="Family concern unanswered",
    explanation=(
        "Every contact from a family member or carer is a concern that needs a recorded response, due by the end "
        "of the next working day after it was recorded. It closes when a response to that concern is recorded."
    ),
    answers='CQC timeline (2024): a family concern was "recorded but no contact attempted"; three days later a police '
    "incident and a detention.",
    parameters=Params,
    watch=watch,
)
