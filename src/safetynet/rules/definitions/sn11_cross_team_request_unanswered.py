"""SN11: a request from one team to another with no answer within 7 days."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field

from safetynet.rules.facts import PersonFacts
from safetynet.rules.model import Evidence, Finding, Parameters, Rule, RuleKind


class Params(Parameters):
    due_days: int = Field(7, ge=1, le=60, description="Days for the receiving team to answer.")


def watch(facts: PersonFacts, params: Params) -> list[Finding]:
    answered = {r.request_fact_id for r in facts.of("cross_team_responses") if (r.rationale or "").strip()}
    team = facts.directory.team_name
    return [
        Finding(
            RULE.id,
            request.fact_id,
            request.recorded_at,
            request.recorded_at + timedelta(days=params.due_days),
            f"{team(request.to_team_id)} has not answered {team(request.team_id)}'s request ({request.ask}): "
            "an answer with a rationale is needed.",
            (Evidence.of(request, f"{team(request.team_id)} asked {team(request.to_team_id)}: {request.ask}"),),
        )
        for request in facts.of("cross_team_requests")
        if request.fact_id not in answered
    ]


RULE = Rule(
    id="SN11",
    version=2,
    name="cross-team-request-unanswered",
    kind=RuleKind.WATCH,
    title="Cross-team request unanswered",
    explanation="A request from one team to another (e.g. consider a CTO or depot) needs an explicit answer with a "
    "rationale from the receiving team within 7 days.",
    answers="NHS England homicide review (2025, as reported): EIP requests for a CTO and depot were never answered.",
    parameters=Params,
    watch=watch,
)
