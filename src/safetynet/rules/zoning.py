"""The suggested zone for a person, with its reasons. It suggests; a clinician decides (R18).

Red: a finding that is overdue on a rule where delay is dangerous (family concern, disengagement, depot, police
information, post-discharge follow-up or signal), or anything overdue by more than a week. Amber: any open
finding. Green: none. No risk score is involved: the reasons are the findings themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from safetynet.record.zoning.models import Zone
from safetynet.rules.facts import PersonFacts
from safetynet.rules.model import Finding

URGENT_RULES = frozenset({"SN01", "SN02", "SN06", "SN08", "SN09", "SN12"})


def suggest(facts: PersonFacts, findings: list[Finding]) -> tuple[Zone, list[str]]:
    return suggest_at(facts.at, findings)


def suggest_at(at: datetime, findings: Sequence[Finding]) -> tuple[Zone, list[str]]:
    """The suggestion at ``at`` from open findings alone (the team board gives it the findings its tasks hold)."""
    if not findings:
        return Zone.GREEN, ["no open findings"]
    reasons = []
    red = False
    for finding in findings:
        overdue = at > finding.due
        if overdue and (finding.rule_id in URGENT_RULES or at - finding.due > timedelta(days=7)):
            red = True
        reasons.append(f"{finding.rule_id}{' overdue' if overdue else ''}: {finding.summary}")
    return (Zone.RED if red else Zone.AMBER), reasons
