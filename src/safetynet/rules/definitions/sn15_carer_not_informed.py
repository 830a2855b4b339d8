"""SN15 (gate): a carer with consent to share must be told of a discharge."""

from __future__ import annotations

from safetynet.rules.facts import PersonFacts
from safetynet.rules.model import DischargeAttempt, Evidence, GateDecision, Parameters, Rule, RuleKind


class Params(Parameters):
    """No parameters."""


def gate(facts: PersonFacts, attempt: DischargeAttempt, params: Params) -> GateDecision | None:
    carers = [c for c in facts.happened("carers") if c.consent_to_share]
    if not carers or attempt.carer_informed:
        return None
    names = ", ".join(f"{c.name} ({c.relationship})" for c in carers)
    return GateDecision(
        RULE.id,
        blocks=True,
        reason=f"{names} may be told and has not been told of this discharge",
        evidence=tuple(Evidence.of(c, f"carer {c.name}, consent to share") for c in carers),
    )


RULE = Rule(
    id="SN15",
    version=1,
    name="carer-not-informed",
    kind=RuleKind.GATE,
    title="Carer not informed of discharge",
    explanation="Blocks a discharge while a registered carer with consent to share has not been informed.",
    answers="CQC timeline (2024): the family was not told of a Friday discharge.",
    parameters=Params,
    gate=gate,
)
