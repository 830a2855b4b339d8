"""SN08: police, court or probation information that needs a risk review within 72 hours of arriving."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field

from safetynet.record.partners.models import JUSTICE_AGENCIES, PartnerInfoKind
from safetynet.rules.facts import Fact, PersonFacts
from safetynet.rules.model import Evidence, Finding, Parameters, Rule, RuleKind

SIGNIFICANT = frozenset(
    {
        PartnerInfoKind.ARREST,
        PartnerInfoKind.CHARGE,
        PartnerInfoKind.WARRANT,
        PartnerInfoKind.INCIDENT,
        PartnerInfoKind.COURT_DATE,
        PartnerInfoKind.LIAISON_DIVERSION,
    }
)


class Params(Parameters):
    due_hours: int = Field(72, ge=1, le=336, description="Hours from receipt to a risk review.")


def describe(info: Fact) -> str:
    flags = [word for word, flag in (("violence", info.violence), ("weapon", info.weapon)) if flag]
    extra = f" ({', '.join(flags)})" if flags else ""
    return f"{info.agency} {info.kind}{extra}"


def watch(facts: PersonFacts, params: Params) -> list[Finding]:
    assessments = facts.happened("risk_assessments")
    return [
        Finding(
            RULE.id,
            info.fact_id,
            info.recorded_at,
            info.recorded_at + timedelta(hours=params.due_hours),
            f"New {describe(info)} information: review risk and record what it changes.",
            (Evidence.of(info, describe(info)),),
        )
        for info in facts.of("partner_information")
        if info.agency in JUSTICE_AGENCIES
        and (info.kind in SIGNIFICANT or info.violence or info.weapon)
        and not any(a.recorded_at >= info.recorded_at for a in assessments)
    ]


RULE = Rule(
    id="SN08",
    version=1,
    name="partner-intelligence-review",
    kind=RuleKind.WATCH,
    title="Police or court information to review",
    explanation=(
        "Police, court or probation information (arrest, charge, warrant, incident, court date, liaison and "
        "diversion, or any involving violence or a weapon) needs a risk assessment recorded after it, due 72 hours "
        "after it was received. Information recorded late is invisible before it arrived."
    ),
    answers="CQC (2024): a warrant for arrest went to an inbox nobody read; information was not shared.",
    parameters=Params,
    watch=watch,
)
