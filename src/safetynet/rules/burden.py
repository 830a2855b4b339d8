"""Alert burden: how many new tasks each clinician would get per working day, replaying the whole trust day by day.

It answers "is the safety net usable?" on the current database without writing anything: for each day in the
window, every person is evaluated as known at the end of that day, and each finding that was not open the day
before counts as a new task for whoever would own it (the key worker, else the team).
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from safetynet.core.clock import end_of_local_day
from safetynet.record.patients.models import Patient
from safetynet.rules import engine
from safetynet.rules.calendar import is_working_day
from safetynet.rules.facts import PersonFacts, load_histories

UNOWNED = "(team manager: no key worker)"


@dataclass(frozen=True, slots=True)
class Burden:
    start: date
    end: date
    working_days: int
    clinicians: int
    per_clinician_per_day: dict[str, float]  # median, p90, max
    per_rule: dict[str, int]
    new_tasks: int


def owner(facts: PersonFacts) -> str:
    allocations = [a for a in facts.happened("key_workers") if a.ended_at is None]
    return allocations[-1].staff_id if allocations else UNOWNED


def measure(session: Session, end: date, days: int, *, chunk: int = 1000) -> Burden:
    start = end - timedelta(days=days - 1)
    working_days = sum(1 for n in range(days) if is_working_day(start + timedelta(days=n)))
    per_owner: Counter[str] = Counter()
    per_rule: Counter[str] = Counter()
    caseload_holders: set[str] = set()
    ids = list(session.scalars(select(Patient.id).order_by(Patient.id)))
    for offset in range(0, len(ids), chunk):
        for history in load_histories(session, ids[offset : offset + chunk]).values():
            before = end_of_local_day(start - timedelta(days=1))
            seen = {(f.rule_id, f.key) for f in engine.evaluate(history.as_known_at(before)).findings}
            for n in range(days):
                facts = history.as_known_at(end_of_local_day(start + timedelta(days=n)))
                who = owner(facts)
                if who != UNOWNED:
                    caseload_holders.add(who)
                findings = engine.evaluate(facts).findings
                now = {(f.rule_id, f.key) for f in findings}
                for finding in findings:
                    if (finding.rule_id, finding.key) not in seen:
                        per_owner[who] += 1
                        per_rule[finding.rule_id] += 1
                seen = now
    rates = [per_owner[who] / max(working_days, 1) for who in caseload_holders] or [0.0]
    rates.sort()
    return Burden(
        start=start,
        end=end,
        working_days=working_days,
        clinicians=len(caseload_holders),
        per_clinician_per_day={
            "median": round(statistics.median(rates), 2),
            "p90": round(rates[min(len(rates) - 1, int(0.9 * len(rates)))], 2),
            "max": round(max(rates), 2),
        },
        per_rule=dict(sorted(per_rule.items())),
        new_tasks=sum(per_rule.values()),
    )


__all__ = ["Burden", "measure", "owner"]
