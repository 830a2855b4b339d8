"""The structured GP handover letter, drafted from the record for a clinician to check, edit and send.

Six sections, each from what the record holds (CQC discharge findings; NICE QS159): violence history,
non-adherence, relapse signature, legal history, what to do if concerned, and the route back.
"""

from __future__ import annotations

from datetime import datetime

from safetynet.audit import service as audit
from safetynet.core.context import Context
from safetynet.record.careplans.models import GpLetterSection
from safetynet.record.legal.models import LEGAL_STATUS_CODES
from safetynet.record.medication.models import Adherence, DepotOutcome
from safetynet.record.risk.models import RiskCategory
from safetynet.rules.facts import PersonFacts, latest, load_history

VIOLENCE = (RiskCategory.VIOLENCE_TO_OTHERS, RiskCategory.WEAPON, RiskCategory.THREATS)


def draft(ctx: Context, patient_id: str, at: datetime | None = None) -> dict[GpLetterSection, str]:
    facts = load_history(ctx.session, patient_id).as_known_at(at or ctx.clock.now())
    audit.record_read(ctx, entity="gp_letter_draft", patient_id=patient_id)
    return {
        GpLetterSection.VIOLENCE_HISTORY: _violence(facts),
        GpLetterSection.NON_ADHERENCE: _non_adherence(facts),
        GpLetterSection.RELAPSE_SIGNATURE: _relapse_signature(facts),
        GpLetterSection.LEGAL_HISTORY: _legal(facts),
        GpLetterSection.WHAT_TO_DO: _what_to_do(facts),
        GpLetterSection.ROUTE_BACK: _route_back(facts),
    }


def _violence(facts: PersonFacts) -> str:
    events = [e for e in facts.risk_history() if e.category in VIOLENCE]
    if not events:
        return "No violence, weapons or threats are recorded in the risk history."
    lines = [
        f"- {e.occurred_at.date()}: {e.category.replace('_', ' ')} ({e.harm} harm, source {e.source}): {e.description}"
        for e in events
    ]
    return "Risk history (never deleted; events entered in error are left out):\n" + "\n".join(lines)


def _non_adherence(facts: PersonFacts) -> str:
    lines = [
        f"- {r.occurred_at.date()}: {r.status.replace('_', ' ')} (reported by {r.source})"
        for r in facts.happened("adherence_reports")
        if r.status != Adherence.ADHERENT
    ]
    lines += [
        f"- {d.occurred_at.date()}: {d.drug} depot refused"
        for d in facts.happened("depot_administrations")
        if d.outcome == DepotOutcome.REFUSED
    ]
    if not lines:
        return "No non-adherence is recorded."
    return "Non-adherence recorded:\n" + "\n".join(sorted(lines))


def _relapse_signature(facts: PersonFacts) -> str:
    assessment = latest(a for a in facts.happened("risk_assessments") if a.relapse_signature or a.formulation)
    if assessment is None:
        return "No relapse signature is recorded: ask the team before relying on this letter."
    parts = [
        f"Relapse signature: {assessment.relapse_signature}" if assessment.relapse_signature else "",
        f"Formulation ({assessment.occurred_at.date()}): {assessment.formulation}" if assessment.formulation else "",
    ]
    return "\n".join(p for p in parts if p)


def _legal(facts: PersonFacts) -> str:
    lines = [
        f"- Admitted {a.occurred_at.date()} under {LEGAL_STATUS_CODES.get(a.legal_status, a.legal_status)}"
        + (f", discharged {a.discharged_at.date()}" if a.discharged_at else "")
        for a in facts.happened("admissions")
    ]
    lines += [
        f"- CTO from {c.occurred_at.date()}" + (f" to {c.ended_at.date()}" if c.ended_at else " (in force)")
        for c in facts.happened("ctos")
    ]
    return "Mental Health Act history:\n" + "\n".join(lines) if lines else "No admissions or CTOs are recorded."


def _what_to_do(facts: PersonFacts) -> str:
    return (
        "If you are concerned (missed prescriptions, no contact, early signs above, or any police contact), call the "
        "team the same day; out of hours, the crisis team. Do not wait for a routine referral."
    )


def _route_back(facts: PersonFacts) -> str:
    teams = sorted({facts.directory.team_name(e.team_id) for e in facts.of("episodes")})
    return (
        f"Fast route back for 12 months: re-refer directly to {', '.join(teams) or 'the team'} by phone; "
        "the referral is accepted without a new assessment of eligibility."
    )
