"""SN17: detention under section 2 for someone detained before under section 3 (or 37) needs a legal review."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field

from safetynet.record.decisions.models import DecisionTopic
from safetynet.rules.facts import PersonFacts, latest
from safetynet.rules.model import Evidence, Finding, Parameters, Rule, RuleKind

SECTION_2 = "02"
TREATMENT = frozenset({"03", "09", "10"})  # s3, s37 with s41, s37


class Params(Parameters):
    decision_days: int = Field(7, ge=1, le=28, description="Days to record the MDT decision on the legal framework.")


def watch(facts: PersonFacts, params: Params) -> list[Finding]:
    admissions = facts.happened("admissions")
    admission = latest(admissions)
    if admission is None:
        return []
    changes = facts.happened("legal_status_changes")
    statuses = {admission.legal_status} | {c.legal_status for c in changes if c.admission_fact_id == admission.fact_id}
    if SECTION_2 not in statuses:
        return []
    earlier = [a for a in admissions if a.occurred_at < admission.occurred_at]
    earlier_ids = {a.fact_id for a in earlier}
    treated = [a for a in earlier if a.legal_status in TREATMENT]
    treated += [c for c in changes if c.admission_fact_id in earlier_ids and c.legal_status in TREATMENT]
    if not treated:
        return []
    if any(
        d.topic == DecisionTopic.LEGAL_FRAMEWORK and d.occurred_at >= admission.occurred_at
        for d in facts.happened("mdt_decisions")
    ):
        return []
    # Open from when the section 2 and the earlier detention were both known (either may be recorded late).
    section_2_known = (
        admission.first_recorded_at
        if admission.legal_status == SECTION_2
        else min(
            c.first_recorded_at
            for c in changes
            if c.admission_fact_id == admission.fact_id and c.legal_status == SECTION_2
        )
    )
    since = max(admission.first_recorded_at, section_2_known, min(t.first_recorded_at for t in treated))
    return [
        Finding(
            RULE.id,
            admission.fact_id,
            since,
            since + timedelta(days=params.decision_days),
            "Detained under section 2 after earlier detention under section 3: the MDT must decide on the legal "
            "framework (section 3 keeps a CTO and section 117 aftercare open) and record why.",
            (
                Evidence.of(admission, "admission under section 2"),
                *(Evidence.of(t, f"earlier detention (legal status {t.legal_status})") for t in treated),
            ),
        )
    ]


RULE = Rule(
    id="SN17",
    version=2,
    name="section-2-after-section-3",
    kind=RuleKind.WATCH,
    title="Section 2 after an earlier section 3",
    explanation="An admission under section 2 for someone with an earlier admission under section 3 (or 37), and no "
    "MDT decision on the legal framework within 7 days.",
    answers="CQC (2024) on the Mental Health Act: the last admission under s2 closed off a CTO and s117 aftercare.",
    parameters=Params,
    watch=watch,
)
