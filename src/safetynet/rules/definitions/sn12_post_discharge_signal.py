"""SN12: after discharge to the GP, a signal of relapse for someone with a history that warrants a fast route back."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field

from safetynet.record.decisions.models import DecisionTopic
from safetynet.record.episodes.models import DischargeDestination, EpisodeStatus
from safetynet.record.legal.models import DETENTION_CODES
from safetynet.record.partners.models import Agency, PartnerInfoKind
from safetynet.record.risk.models import RiskCategory
from safetynet.rules.calendar import add_working_days
from safetynet.rules.facts import PersonFacts
from safetynet.rules.model import Evidence, Finding, Parameters, Rule, RuleKind

SERIOUS_HISTORY = frozenset(
    {RiskCategory.VIOLENCE_TO_OTHERS, RiskCategory.WEAPON, RiskCategory.THREATS, RiskCategory.SUICIDE_ATTEMPT}
)
SIGNAL_KINDS = frozenset({PartnerInfoKind.NO_CONTACT, PartnerInfoKind.PRESCRIPTION_NOT_COLLECTED})


class Params(Parameters):
    months: int = Field(12, ge=1, le=36, description="How long after discharge the safety net stays.")
    response_working_days: int = Field(2, ge=0, le=10, description="Working days to act on a signal.")


def watch(facts: PersonFacts, params: Params) -> list[Finding]:
    # The window bounds when a signal may arrive; a finding it opened stays open until re-referral or a decision.
    window = timedelta(days=round(params.months * 30.44))
    discharges = [
        e
        for e in facts.of("episodes")
        if e.status == EpisodeStatus.FINISHED
        and e.discharge_destination == DischargeDestination.GP
        and e.ended_at is not None
        and e.ended_at <= facts.at
    ]
    if not discharges:
        return []
    detained = [a for a in facts.happened("admissions") if a.legal_status in DETENTION_CODES]
    serious = [e for e in facts.risk_history() if e.category in SERIOUS_HISTORY]
    if not detained and not serious:
        return []
    discharge = discharges[-1]
    signals = [
        p
        for p in facts.happened("partner_information")
        if discharge.ended_at <= p.recorded_at <= discharge.ended_at + window
        and (p.kind in SIGNAL_KINDS or p.agency == Agency.POLICE)
    ]
    findings = []
    for signal in signals:
        back = any(e.occurred_at > discharge.ended_at for e in facts.happened("episodes"))
        reviewed = any(
            d.topic == DecisionTopic.DISCHARGE and d.recorded_at >= signal.recorded_at
            for d in facts.happened("mdt_decisions")
        )
        if back or reviewed:
            continue
        history = [Evidence.of(e, f"risk history: {e.category}") for e in serious[-3:]]
        history += [Evidence.of(a, f"past detention (legal status {a.legal_status})") for a in detained[-2:]]
        findings.append(
            Finding(
                RULE.id,
                signal.fact_id,
                signal.recorded_at,
                add_working_days(signal.recorded_at, params.response_working_days),
                f"Since discharge to the GP on {discharge.ended_at.date()}: {signal.agency} reports {signal.kind}. "
                "Use the fast route back: re-refer, or record an MDT decision with its rationale.",
                (
                    Evidence.of(signal, f"{signal.agency}: {signal.kind}"),
                    Evidence.of(discharge, "discharged to GP"),
                    *history,
                ),
            )
        )
    return findings


RULE = Rule(
    id="SN12",
    version=3,
    name="post-discharge-signal",
    kind=RuleKind.WATCH,
    title="Signal after discharge to the GP",
    explanation=(
        "Within 12 months of discharge to the GP, for someone with a risk history of violence, weapons, threats or "
        "a suicide attempt, or any past detention: a report of no GP contact, prescriptions not collected, or any "
        "police information. It closes with a re-referral (a new episode) or an MDT decision on discharge."
    ),
    answers="CQC (2024): discharged to the GP for not attending; about nine months with no contact with any service.",
    parameters=Params,
    watch=watch,
)
