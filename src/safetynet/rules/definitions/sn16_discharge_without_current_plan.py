"""SN16 (gate): no discharge without a current safety plan, nor to the GP without a full handover letter."""

from __future__ import annotations

from datetime import UTC, timedelta

from pydantic import Field

from safetynet.record.careplans.models import GpLetterSection
from safetynet.record.episodes.models import DischargeDestination
from safetynet.rules.facts import PersonFacts, latest
from safetynet.rules.model import DischargeAttempt, Evidence, GateDecision, Parameters, Rule, RuleKind


class Params(Parameters):
    plan_days: int = Field(14, ge=1, le=90, description="How recent the assessment with a safety plan must be.")


def gate(facts: PersonFacts, attempt: DischargeAttempt, params: Params) -> GateDecision | None:
    reasons = []
    evidence = []
    recent = attempt.at.astimezone(UTC) - timedelta(days=params.plan_days)  # elapsed days, whatever zone `at` is in
    plans = [a for a in facts.happened("risk_assessments") if a.safety_plan and a.occurred_at >= recent]
    if not plans:
        reasons.append(f"no risk assessment with a safety plan in the last {params.plan_days} days")
    if attempt.kind == "episode" and attempt.destination == DischargeDestination.GP:
        episode_start = min((e.occurred_at for e in facts.open_episodes()), default=None)
        letters = [g for g in facts.happened("gp_letters") if episode_start is None or g.occurred_at >= episode_start]
        letter = latest(letters)
        missing = [s.value for s in GpLetterSection if letter is None or s not in letter.sections]
        if letter is None:
            reasons.append("no GP handover letter")
        elif missing:
            reasons.append(f"the GP handover letter lacks: {', '.join(missing)}")
            evidence.append(Evidence.of(letter, f"GP letter with {', '.join(letter.sections)}"))
    if not reasons:
        return None
    return GateDecision(RULE.id, blocks=True, reason="; ".join(reasons), evidence=tuple(evidence))


RULE = Rule(
    id="SN16",
    version=2,
    name="discharge-without-current-plan",
    kind=RuleKind.GATE,
    title="Discharge without a current plan",
    explanation=(
        "Blocks a discharge without a risk assessment with a safety plan in the last 14 days; and a discharge to the "
        "GP without a GP handover letter holding all six sections (violence history, non-adherence, relapse "
        "signature, legal history, what to do if concerned, route back)."
    ),
    answers="CQC (2024) discharge findings; NICE QS159 (care plan shared within 24 hours of discharge).",
    parameters=Params,
    gate=gate,
)
