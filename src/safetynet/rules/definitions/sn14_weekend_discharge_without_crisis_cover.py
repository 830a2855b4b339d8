"""SN14 (gate): an inpatient discharge on a Friday, weekend or bank holiday needs the crisis team's acceptance."""

from __future__ import annotations

from safetynet.core.clock import LONDON
from safetynet.rules.calendar import is_weekend_or_holiday_discharge
from safetynet.rules.facts import PersonFacts
from safetynet.rules.model import DischargeAttempt, GateDecision, Parameters, Rule, RuleKind


class Params(Parameters):
    """No parameters."""


def gate(facts: PersonFacts, attempt: DischargeAttempt, params: Params) -> GateDecision | None:
    if attempt.kind != "inpatient" or not is_weekend_or_holiday_discharge(attempt.at) or attempt.crisis_team_accepted:
        return None
    day = attempt.at.astimezone(LONDON).strftime("%A")
    return GateDecision(
        RULE.id, blocks=True, reason=f"a {day} discharge needs the crisis team to accept the person first"
    )


RULE = Rule(
    id="SN14",
    version=1,
    name="weekend-discharge-without-crisis-cover",
    kind=RuleKind.GATE,
    title="Friday or weekend discharge without crisis cover",
    explanation="Blocks an inpatient discharge on a Friday, Saturday, Sunday or bank holiday unless the crisis team "
    "has accepted the person.",
    answers="CQC timeline (2024): a Friday discharge the crisis team could not take.",
    parameters=Params,
    gate=gate,
)
