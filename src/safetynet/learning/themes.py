"""Trust-level learning: the missed-opportunity analysis across everyone, aggregated by rule and by team, with every
dismissed task and its rationale (which rules were open longest, where tasks were dismissed, which teams)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import select

from safetynet.audit import service as audit
from safetynet.core.clock import end_of_local_day, iso_utc, local_datetime
from safetynet.core.context import Context
from safetynet.learning import missed as analysis
from safetynet.learning.chronology import settings
from safetynet.record.patients.models import Patient
from safetynet.rules.facts import load_histories

CHUNK = 500  # people read at once


@dataclass
class Tally:
    opened: int = 0
    missed: int = 0
    days_open: float = 0.0
    longest_days: float = 0.0
    dismissed: int = 0

    def add(self, period: analysis.OpenPeriod) -> None:
        days = period.duration.total_seconds() / 86400
        self.opened += 1
        self.missed += period.missed
        self.days_open += days
        self.longest_days = max(self.longest_days, days)
        self.dismissed += period.dismissal is not None


@dataclass(frozen=True, slots=True)
class Dismissal:
    rule_id: str
    team: str
    at: datetime
    role: str
    rationale: str | None


@dataclass
class Themes:
    start: date
    end: date
    people: int = 0  # people with at least one finding open in the period
    opportunities: int = 0
    missed: int = 0
    rules: dict[str, Tally] = field(default_factory=dict)
    teams: dict[str, Tally] = field(default_factory=dict)
    dismissals: list[Dismissal] = field(default_factory=list)


def gather(ctx: Context, start: date, end: date) -> Themes:
    """Every person's missed opportunities from ``start`` to ``end`` (London days), as known at each moment."""
    period_start = local_datetime(start, time(0, 0))
    period_end = min(end_of_local_day(end), ctx.clock.now())
    found = Themes(start, end)
    if period_end <= period_start:
        return found
    how = settings(ctx)
    ids = list(ctx.session.scalars(select(Patient.id).where(Patient.recorded_at <= period_end).order_by(Patient.id)))
    teams: dict[str, str] = {}
    for offset in range(0, len(ids), CHUNK):
        chunk = ids[offset : offset + CHUNK]
        histories = load_histories(ctx.session, chunk)
        trails: dict[str, list[analysis.TaskTrail]] = {}
        for trail in analysis.load_tasks(ctx.session, chunk, ctx.clock.now()):
            trails.setdefault(trail.patient_id, []).append(trail)
        for patient_id, history in histories.items():
            teams = {team_id: info.name for team_id, info in history.directory.teams.items()}
            result = analysis.analyse(history, period_start, period_end, tasks=trails.get(patient_id, []), **how)
            if not result.periods:
                continue
            audit.record_read(ctx, entity="missed_opportunities", patient_id=patient_id, detail=f"{start} to {end}")
            found.people += 1
            for period in result.periods:
                team = teams.get(period.team_id or "", "no team")
                found.opportunities += 1
                found.missed += period.missed
                found.rules.setdefault(period.rule_id, Tally()).add(period)
                found.teams.setdefault(team, Tally()).add(period)
                step = period.dismissal
                if step is not None:
                    found.dismissals.append(Dismissal(period.rule_id, team, step.at, step.actor_role, step.rationale))
    return found


def as_json(themes: Themes) -> dict[str, Any]:
    def tally(t: Tally) -> dict[str, Any]:
        return {
            "opened": t.opened,
            "missed": t.missed,
            "days_open": round(t.days_open, 1),
            "longest_days": round(t.longest_days, 1),
            "dismissed": t.dismissed,
        }

    return {
        "from": themes.start.isoformat(),
        "to": themes.end.isoformat(),
        "people": themes.people,
        "opportunities": themes.opportunities,
        "missed": themes.missed,
        "rules": [
            {"rule": rule_id} | tally(t)
            for rule_id, t in sorted(themes.rules.items(), key=lambda kv: (-kv[1].days_open, kv[0]))
        ],
        "teams": [
            {"team": team} | tally(t) for team, t in sorted(themes.teams.items(), key=lambda kv: (-kv[1].missed, kv[0]))
        ],
        "dismissals": [
            {"rule": d.rule_id, "team": d.team, "at": iso_utc(d.at), "role": d.role, "rationale": d.rationale}
            for d in sorted(themes.dismissals, key=lambda d: d.at)
        ],
    }
