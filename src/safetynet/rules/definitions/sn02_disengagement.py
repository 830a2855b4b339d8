"""SN02: on an SMI pathway, missed planned contacts or too long without being seen."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field

from safetynet.record.contacts.models import ContactOutcome
from safetynet.record.org.models import Pathway
from safetynet.rules.calendar import add_working_days
from safetynet.rules.facts import PersonFacts
from safetynet.rules.model import Evidence, Finding, Parameters, Rule, RuleKind

MISSED = frozenset({ContactOutcome.DNA, ContactOutcome.NO_ACCESS})


class Params(Parameters):
    consecutive_missed: int = Field(2, ge=1, le=10, description="Planned contacts missed in a row (dna, no access).")
    days_unseen: int = Field(28, ge=7, le=180, description="Days without an attended direct contact.")
    days_unseen_assertive_outreach: int = Field(14, ge=3, le=90, description="The same on assertive outreach.")
    response_working_days: int = Field(2, ge=0, le=10, description="Working days to start the disengagement steps.")


def watch(facts: PersonFacts, params: Params) -> list[Finding]:
    episodes = facts.smi_episodes()
    if not episodes:
        return []
    findings = []
    last = facts.last_attended_direct_contact()
    last_seen = last.occurred_at if last else None
    latest_planned = facts.last_planned_contacts(params.consecutive_missed)
    for episode in episodes:
        opened = []
        evidence = []
        base = max(episode.occurred_at, last_seen) if last_seen else episode.occurred_at
        limit = (
            params.days_unseen_assertive_outreach
            if episode.pathway == Pathway.ASSERTIVE_OUTREACH
            else params.days_unseen
        )
        if facts.at > base + timedelta(days=limit):
            opened.append(base + timedelta(days=limit))
            evidence.append(
                Evidence.of(episode, f"no attended direct contact for more than {limit} days since {base.date()}")
            )
        recent = [c for c in latest_planned if c.occurred_at >= episode.occurred_at]  # those since it began
        if (
            len(recent) == params.consecutive_missed
            and all(c.outcome in MISSED for c in recent)
            and not (last_seen and last_seen > recent[-1].occurred_at)
        ):
            opened.append(max(c.recorded_at for c in recent))
            evidence += [Evidence.of(c, f"planned {c.mode} contact: {c.outcome}") for c in recent]
        if opened:
            since = min(opened)
            findings.append(
                Finding(
                    rule_id=RULE.id,
                    key=episode.fact_id,
                    since=since,
                    due=add_working_days(since, params.response_working_days),
                    summary=(
                        f"Not seen on {facts.directory.team_name(episode.team_id)}: start the disengagement steps "
                        "(contact, home visit, family, GP, partner information, MDT). Do not discharge."
                    ),
                    evidence=tuple(evidence),
                )
            )
    return findings


RULE = Rule(
    id="SN02",
    version=1,
    name="disengagement",
    kind=RuleKind.WATCH,
    title="Disengagement from an SMI pathway",
    explanation=(
        "On an EIP, CMHT or assertive outreach episode: the last two planned contacts were missed (did not attend or "
        "no access), or there has been no attended direct contact (face to face, home visit, video or phone) for "
        "more than 28 days (14 on assertive outreach) since the episode began or the person was last seen. It "
        "closes with an attended direct contact. Non-attendance is a reason to try harder, never to discharge."
    ),
    answers="NHS England letter to ICBs (2024): non-attendance is never a reason to discharge; CQC recommendations.",
    parameters=Params,
    watch=watch,
)
