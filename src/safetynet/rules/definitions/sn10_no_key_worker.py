"""SN10: an open episode without a named key worker for more than a week."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field

from safetynet.rules.facts import PersonFacts
from safetynet.rules.model import Evidence, Finding, Parameters, Rule, RuleKind


class Params(Parameters):
    grace_days: int = Field(7, ge=0, le=60, description="Days an episode may be unallocated.")


def watch(facts: PersonFacts, params: Params) -> list[Finding]:
    findings = []
    allocations = facts.happened("key_workers")
    for episode in facts.open_episodes():
        mine = [a for a in allocations if a.episode_fact_id == episode.fact_id]
        if any(a.ended_at is None or a.ended_at > facts.at for a in mine):
            continue
        ended = [a.ended_at for a in mine if a.ended_at is not None]
        base = max([episode.occurred_at, *ended])
        threshold = base + timedelta(days=params.grace_days)
        if facts.at > threshold:
            team = facts.directory.team_name(episode.team_id)
            findings.append(
                Finding(
                    RULE.id,
                    episode.fact_id,
                    threshold,
                    threshold,
                    f"No named key worker on {team} since {base.date()}: allocate one.",
                    (Evidence.of(episode, f"episode with {team} open since {episode.occurred_at.date()}"),),
                )
            )
    return findings


RULE = Rule(
    id="SN10",
    version=1,
    name="no-key-worker",
    kind=RuleKind.WATCH,
    title="No key worker",
    explanation="An open, active episode without a named key worker for more than 7 days. Closes when one is named.",
    answers="CQC (March 2024): many people had no allocated care coordinator.",
    parameters=Params,
    watch=watch,
)
