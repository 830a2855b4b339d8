"""Replay and batch: what the rules would have shown, day by day for one person or at one moment for everyone,
using only what had been recorded by then."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from safetynet.core.clock import end_of_local_day
from safetynet.record.patients.models import Patient
from safetynet.rules import engine
from safetynet.rules.facts import History, load_histories
from safetynet.rules.model import Finding


@dataclass
class Episode:
    """One stretch during which a finding was open, as replay saw it day by day."""

    rule_id: str
    key: str
    first_open: date
    last_open: date
    since: datetime
    due: datetime
    summary: str
    closed_on: date | None = None

    @property
    def days_open(self) -> int:
        return (self.last_open - self.first_open).days + 1


@dataclass
class Replay:
    days: list[tuple[date, list[Finding]]]
    episodes: list[Episode]


def replay(history: History, start: date, end: date) -> Replay:
    """Evaluate every watch rule at the end of each day from ``start`` to ``end``, as known at that moment."""
    days: list[tuple[date, list[Finding]]] = []
    open_now: dict[tuple[str, str], Episode] = {}
    episodes: list[Episode] = []
    day = start
    while day <= end:
        findings = engine.evaluate(history.as_known_at(end_of_local_day(day))).findings
        days.append((day, findings))
        keys = set()
        for finding in findings:
            key = (finding.rule_id, finding.key)
            keys.add(key)
            if key in open_now:
                open_now[key].last_open = day
            else:
                episode = Episode(finding.rule_id, finding.key, day, day, finding.since, finding.due, finding.summary)
                open_now[key] = episode
                episodes.append(episode)
        for key in list(open_now):
            if key not in keys:
                open_now.pop(key).closed_on = day
        day += timedelta(days=1)
    return Replay(days, episodes)


def batch(session: Session, at: datetime, *, chunk: int = 2000) -> Iterator[tuple[History, engine.Evaluation]]:
    """Every person's evaluation as known at ``at``, reading the trust in chunks of people to bound memory."""
    ids = list(session.scalars(select(Patient.id).where(Patient.recorded_at <= at).order_by(Patient.id)))
    for offset in range(0, len(ids), chunk):
        for history in load_histories(session, ids[offset : offset + chunk]).values():
            yield history, engine.evaluate(history.as_known_at(at))
