"""SN18: someone accepted onto a waiting list and neither seen nor checked on for four weeks."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field

from safetynet.record.episodes.models import ReferralStatus
from safetynet.rules.facts import Fact, PersonFacts
from safetynet.rules.model import Evidence, Finding, Parameters, Rule, RuleKind


class Params(Parameters):
    wait_days: int = Field(28, ge=7, le=120, description="Days waiting before monitoring is due.")
    check_in_days: int = Field(28, ge=7, le=120, description="Longest gap between check-ins while waiting.")


def watch(facts: PersonFacts, params: Params) -> list[Finding]:
    findings = []
    last = facts.last_attended_direct_contact()
    last_seen = last.occurred_at if last else None
    monitoring: list[Fact] | None = None  # the latest check-in and safety plans, found only for someone waiting
    for referral in facts.happened("referrals"):
        if referral.status != ReferralStatus.ACCEPTED or (last_seen and last_seen >= referral.occurred_at):
            continue
        if monitoring is None:  # only the latest of the check-ins counts (the latest monitoring sets the clock)
            check_in = facts.last_attended_contact()
            monitoring = [check_in] if check_in else []
            monitoring += [a for a in facts.happened("risk_assessments") if a.safety_plan]
        monitored = [f.occurred_at for f in monitoring if f.occurred_at >= referral.occurred_at]
        base = max([referral.occurred_at + timedelta(days=params.wait_days - params.check_in_days), *monitored])
        threshold = max(
            base + timedelta(days=params.check_in_days), referral.occurred_at + timedelta(days=params.wait_days)
        )
        if facts.at > threshold:
            team = facts.directory.team_name(referral.team_id)
            findings.append(
                Finding(
                    RULE.id,
                    referral.fact_id,
                    threshold,
                    threshold,
                    f"Waiting for {team} since {referral.occurred_at.date()} with no check-in or safety plan: "
                    "contact them and agree a safety plan while they wait.",
                    (Evidence.of(referral, f"referral accepted by {team}"),),
                )
            )
    return findings


RULE = Rule(
    id="SN18",
    version=1,
    name="waiting-unmonitored",
    kind=RuleKind.WATCH,
    title="Waiting and not monitored",
    explanation="An accepted referral with no attended direct contact for more than 28 days and no safety plan or "
    "check-in contact (any attended contact) in the last 28 days. Closes with a check-in, a safety plan or the "
    "first attended direct contact.",
    answers="CQC (March 2024): people were not monitored while they waited.",
    parameters=Params,
    watch=watch,
)
