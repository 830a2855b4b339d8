"""SN07: repeated admissions each preceded by non-adherence, and no MDT decision on both depot and CTO."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field

from safetynet.record.decisions.models import DecisionTopic
from safetynet.record.medication.models import Adherence, DepotOutcome
from safetynet.record.risk.models import RiskCategory
from safetynet.rules.facts import Fact, PersonFacts
from safetynet.rules.model import Evidence, Finding, Parameters, Rule, RuleKind


class Params(Parameters):
    window_days: int = Field(730, ge=180, le=1825, description="Window in which admissions count (24 months).")
    lookback_days: int = Field(90, ge=7, le=365, description="How long before an admission non-adherence counts.")
    admissions: int = Field(2, ge=2, le=10, description="Admissions preceded by non-adherence that make a cycle.")
    response_days: int = Field(14, ge=1, le=60, description="Days to hold the MDT decision.")


def _non_adherence_signals(facts: PersonFacts) -> list[Fact]:
    signals = [
        r for r in facts.happened("adherence_reports") if r.status in (Adherence.NON_ADHERENT, Adherence.PARTIAL)
    ]
    signals += [d for d in facts.happened("depot_administrations") if d.outcome == DepotOutcome.REFUSED]
    signals += [e for e in facts.risk_history() if e.category == RiskCategory.NON_ADHERENCE]
    return signals


def watch(facts: PersonFacts, params: Params) -> list[Finding]:
    admissions = facts.happened("admissions")
    signals = _non_adherence_signals(facts)
    lookback = timedelta(days=params.lookback_days)
    qualifying = [
        (a, [s for s in signals if a.occurred_at - lookback <= s.occurred_at <= a.occurred_at]) for a in admissions
    ]
    qualifying = [(a, s) for a, s in qualifying if s]
    cycle = qualifying[-params.admissions :]
    # The cycle is the latest admissions preceded by non-adherence, within the window of one another. It stays
    # open until the decisions are recorded (version 2: it no longer lapses as the first admission ages), and
    # stops being a live task a window's length after the latest admission.
    if len(cycle) < params.admissions or cycle[-1][0].occurred_at - cycle[0][0].occurred_at > timedelta(
        days=params.window_days
    ):
        return []
    if facts.at - admissions[-1].occurred_at > timedelta(days=params.window_days):
        return []
    latest_admission = admissions[-1]
    topics = {d.topic for d in facts.happened("mdt_decisions") if d.occurred_at >= latest_admission.occurred_at}
    if {DecisionTopic.DEPOT, DecisionTopic.CTO} <= topics:
        return []
    # Open from when the latest admission and enough of the cycle were known (a signal may be recorded late).
    known = sorted(max(a.first_recorded_at, min(s.first_recorded_at for s in pre)) for a, pre in cycle)
    since = max(latest_admission.first_recorded_at, known[params.admissions - 1])
    evidence = []
    for admission, preceding in cycle:
        evidence.append(Evidence.of(admission, f"admission under legal status {admission.legal_status}"))
        evidence += [Evidence.of(s, "non-adherence before it") for s in preceding]
    missing = sorted({DecisionTopic.DEPOT, DecisionTopic.CTO} - topics)
    return [
        Finding(
            RULE.id,
            latest_admission.fact_id,
            since,
            since + timedelta(days=params.response_days),
            f"{len(cycle)} admissions in {params.window_days // 365} years each followed stopping medication: the MDT "
            f"must decide on {' and '.join(missing)} (and the legal framework and capacity), and record why.",
            tuple(evidence),
        )
    ]


RULE = Rule(
    id="SN07",
    version=2,
    name="relapse-cycle",
    kind=RuleKind.WATCH,
    title="Relapse cycle without depot and CTO decisions",
    explanation=(
        "Two or more admissions within 24 months, each preceded within 90 days by a non-adherence signal (a "
        "non-adherence or partial adherence report, a depot refused, a non-adherence risk event), and no MDT "
        "decision on both depot and CTO recorded since the latest admission. It does not lapse as the first admission "
        "ages: it closes with both decisions, and stops being a live task 24 months after the latest admission."
    ),
    answers="CQC (2024) discharge findings: each admission judged on its own; homicide review: CTO and depot "
    "requests set aside.",
    parameters=Params,
    watch=watch,
)
