"""SN03 (gate): no discharge for non-attendance, nor any discharge while disengagement (SN02) is open."""

from __future__ import annotations

from safetynet.core.context import Role
from safetynet.record.episodes.models import DischargeReason
from safetynet.rules.definitions import sn02_disengagement
from safetynet.rules.facts import PersonFacts
from safetynet.rules.model import DischargeAttempt, Evidence, GateDecision, Parameters, Rule, RuleKind

NON_ATTENDANCE = frozenset({DischargeReason.NON_ATTENDANCE, DischargeReason.DISENGAGED})
SENIORS = frozenset({Role.CONSULTANT, Role.TEAM_MANAGER})


class Params(Parameters):
    """No parameters: the rule is the national expectation."""


def gate(facts: PersonFacts, attempt: DischargeAttempt, params: Params) -> GateDecision | None:
    reasons = []
    evidence: tuple[Evidence, ...] = ()
    if attempt.kind == "episode" and attempt.reason in NON_ATTENDANCE:
        reasons.append(f"the reason given is {attempt.reason}: non-attendance is never a reason to discharge")
    open_disengagement = sn02_disengagement.watch(facts, sn02_disengagement.Params())
    if open_disengagement:
        reasons.append("disengagement (SN02) is open: follow the disengagement steps instead")
        evidence = tuple(e for f in open_disengagement for e in f.evidence)
    if not reasons:
        return None
    overridden = attempt.override_by if attempt.has_override and attempt.override_by in SENIORS else None
    return GateDecision(
        RULE.id, blocks=overridden is None, reason="; ".join(reasons), evidence=evidence, overridden_by=overridden
    )


RULE = Rule(
    id="SN03",
    version=1,
    name="discharge-for-non-attendance",
    kind=RuleKind.GATE,
    title="Discharge for non-attendance",
    explanation=(
        "Blocks a discharge whose reason is non-attendance or disengagement, and any discharge while disengagement "
        "(SN02) is open. A consultant or team manager may override with a written rationale, which is recorded."
    ),
    answers="NHS England letter to ICBs (2024): non-attendance is never a reason to discharge, in practice.",
    parameters=Params,
    gate=gate,
    overridable_by=SENIORS,
)
