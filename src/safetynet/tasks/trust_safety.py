"""The trust safety view for safety leads (issue 4, item 9; R12): is the safety net working across the trust?

Open findings by rule and team, overdue tasks, the alert burden (open tasks per clinician), rules in monitor mode
and operational alerts (rules that failed). Every figure is one aggregate query over the tasks of the whole trust,
so the view costs the same for 1,000 people as for 100,000. It reads no one's record: people appear by NHS number
only, in the list of the most overdue tasks, linking to their record (where opening it is audited).
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import case, func, select

from safetynet.core.context import Context
from safetynet.record.org.models import Staff, Team
from safetynet.record.patients.models import Patient
from safetynet.rules.model import Mode
from safetynet.rules.registry import RULES
from safetynet.tasks import service as tasks
from safetynet.tasks.models import OperationalAlert, RuleSetting, Task, TaskStatus
from safetynet.tasks.team_board import asking

OLDEST_OVERDUE = 20
BURDEN_TOP = 10
ALERT_ROWS = 50
NO_TEAM = "No team"


@dataclass(frozen=True, slots=True)
class RuleLine:
    rule_id: str
    title: str
    mode: str
    open: int
    overdue: int
    teams: list[tuple[str, int]]  # team name, open findings there (most first)


@dataclass(frozen=True, slots=True)
class TeamLine:
    team_id: str | None
    team: str
    open: int
    overdue: int


@dataclass(frozen=True, slots=True)
class OverdueLine:
    task_id: str
    nhs_number: str
    rule_id: str
    team: str
    owner: str
    due_at: datetime
    days_overdue: int
    escalation_level: int


@dataclass(frozen=True, slots=True)
class ClinicianLoad:
    name: str
    role: str
    team: str
    open: int


@dataclass(frozen=True, slots=True)
class Burden:
    """Open tasks per clinician holding any: how much the safety net asks of each person."""

    clinicians: int
    median: float
    p90: int
    most: int
    busiest: list[ClinicianLoad]


@dataclass(frozen=True, slots=True)
class MonitorRule:
    rule_id: str
    title: str
    since: datetime | None
    by: str | None
    rationale: str | None
    recorded: int  # live findings recorded in monitor mode (tasks nobody was asked to act on)


@dataclass(frozen=True, slots=True)
class Alert:
    at: datetime
    rule_id: str
    nhs_number: str | None
    error: str


@dataclass
class TrustSafety:
    at: datetime
    open: int = 0
    overdue: int = 0
    rules: list[RuleLine] = field(default_factory=list)
    teams: list[TeamLine] = field(default_factory=list)
    overdue_by_level: dict[int, int] = field(default_factory=dict)
    oldest_overdue: list[OverdueLine] = field(default_factory=list)
    burden: Burden | None = None
    monitor: list[MonitorRule] = field(default_factory=list)
    switched_off: list[str] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    alerts_total: int = 0
    alerts_by_rule: dict[str, int] = field(default_factory=dict)


def view(ctx: Context) -> TrustSafety:
    """The trust safety view as known now."""
    now = ctx.clock.now()
    made = TrustSafety(at=now)
    teams = dict(ctx.session.execute(select(Team.id, Team.name)).tuples().all())
    settings = tasks.rule_settings(ctx)
    _findings(ctx, made, teams, settings, now)
    _overdue(ctx, made, teams, now)
    made.burden = _burden(ctx, teams, now)
    _monitor(ctx, made, settings)
    _alerts(ctx, made)
    return made


def _findings(
    ctx: Context, made: TrustSafety, teams: dict[str, str], settings: Mapping[str, tuple[Mode, object]], now: datetime
) -> None:
    overdue = func.sum(case((Task.due_at < now, 1), else_=0))
    stmt = (
        select(Task.rule_id, Task.team_id, func.count(), overdue)
        .where(asking(now))
        .group_by(Task.rule_id, Task.team_id)
    )
    per_rule: dict[str, list[tuple[str, int, int]]] = defaultdict(list)
    per_team: dict[str | None, list[int]] = defaultdict(lambda: [0, 0])
    for rule_id, team_id, count, late in ctx.session.execute(stmt):
        per_rule[rule_id].append((teams.get(team_id or "", NO_TEAM), int(count), int(late or 0)))
        per_team[team_id][0] += int(count)
        per_team[team_id][1] += int(late or 0)
    made.rules = [
        RuleLine(
            rule_id=rule_id,
            title=RULES[rule_id].title if rule_id in RULES else rule_id,
            mode=str(settings[rule_id][0]) if rule_id in settings else "unknown",
            open=sum(n for _, n, _ in lines),
            overdue=sum(late for _, _, late in lines),
            teams=sorted(((team, n) for team, n, _ in lines), key=lambda tn: (-tn[1], tn[0])),
        )
        for rule_id, lines in sorted(per_rule.items())
    ]
    made.teams = sorted(
        (TeamLine(tid, teams.get(tid or "", NO_TEAM), n, late) for tid, (n, late) in per_team.items()),
        key=lambda t: (-t.open, t.team),
    )
    made.open = sum(r.open for r in made.rules)
    made.overdue = sum(r.overdue for r in made.rules)


def _overdue(ctx: Context, made: TrustSafety, teams: dict[str, str], now: datetime) -> None:
    late = (asking(now), Task.due_at < now)
    made.overdue_by_level = {
        int(level): int(n)
        for level, n in ctx.session.execute(
            select(Task.escalation_level, func.count()).where(*late).group_by(Task.escalation_level)
        )
    }
    oldest = ctx.session.execute(
        select(Task.id, Task.patient_id, Task.rule_id, Task.team_id, Task.owner_staff_id, Task.owner_role)
        .add_columns(Task.due_at, Task.escalation_level)
        .where(*late)
        .order_by(Task.due_at, Task.id)
        .limit(OLDEST_OVERDUE)
    ).all()
    numbers = dict(
        ctx.session.execute(select(Patient.id, Patient.nhs_number).where(Patient.id.in_({r[1] for r in oldest})))
        .tuples()
        .all()
    )
    owners = dict(
        ctx.session.execute(select(Staff.id, Staff.name).where(Staff.id.in_({r[4] for r in oldest if r[4]})))
        .tuples()
        .all()
    )
    made.oldest_overdue = [
        OverdueLine(
            task_id=task_id,
            nhs_number=numbers.get(patient_id, ""),
            rule_id=rule_id,
            team=teams.get(team_id or "", NO_TEAM),
            owner=owners.get(owner_id or "", f"no one ({owner_role.replace('_', ' ')})"),
            due_at=due_at,
            days_overdue=(now - due_at).days,
            escalation_level=level,
        )
        for task_id, patient_id, rule_id, team_id, owner_id, owner_role, due_at, level in oldest
    ]


def _burden(ctx: Context, teams: dict[str, str], now: datetime) -> Burden:
    counts = ctx.session.execute(
        select(Task.owner_staff_id, func.count())
        .where(asking(now), Task.owner_staff_id.is_not(None))
        .group_by(Task.owner_staff_id)
    ).all()
    loads = sorted((int(n) for _, n in counts), reverse=True)
    if not loads:
        return Burden(0, 0.0, 0, 0, [])
    top = sorted(counts, key=lambda row: (-int(row[1]), str(row[0])))[:BURDEN_TOP]
    staff = {
        sid: (name, str(role).replace("_", " "), teams.get(team_id or "", NO_TEAM))
        for sid, name, role, team_id in ctx.session.execute(
            select(Staff.id, Staff.name, Staff.role, Staff.team_id).where(Staff.id.in_([sid for sid, _ in top]))
        )
    }
    ascending = sorted(loads)
    return Burden(
        clinicians=len(loads),
        median=float(statistics.median(ascending)),
        p90=ascending[min(len(ascending) - 1, int(0.9 * len(ascending)))],
        most=ascending[-1],
        busiest=[ClinicianLoad(*staff.get(sid, ("?", "?", NO_TEAM)), int(n)) for sid, n in top],
    )


def _monitor(ctx: Context, made: TrustSafety, settings: Mapping[str, tuple[Mode, object]]) -> None:
    stored = {s.rule_id: s for s in ctx.session.scalars(select(RuleSetting))}
    recorded = Counter(
        dict(
            ctx.session.execute(
                select(Task.rule_id, func.count())
                .where(Task.status == TaskStatus.MONITOR, Task.closed_at.is_(None))
                .group_by(Task.rule_id)
            )
            .tuples()
            .all()
        )
    )
    for rule_id, (mode, _) in sorted(settings.items()):
        setting = stored.get(rule_id)
        if mode is Mode.MONITOR:
            made.monitor.append(
                MonitorRule(
                    rule_id=rule_id,
                    title=RULES[rule_id].title,
                    since=setting.updated_at if setting else None,
                    by=setting.updated_by if setting else None,
                    rationale=setting.rationale if setting else None,
                    recorded=recorded[rule_id],
                )
            )
        elif mode is Mode.OFF:
            made.switched_off.append(f"{rule_id} {RULES[rule_id].title}")


def _alerts(ctx: Context, made: TrustSafety) -> None:
    unacknowledged = OperationalAlert.acknowledged_at.is_(None)
    made.alerts_by_rule = dict(
        ctx.session.execute(
            select(OperationalAlert.rule_id, func.count())
            .where(unacknowledged)
            .group_by(OperationalAlert.rule_id)
            .order_by(OperationalAlert.rule_id)
        )
        .tuples()
        .all()
    )
    made.alerts_total = sum(made.alerts_by_rule.values())
    rows = ctx.session.scalars(
        select(OperationalAlert).where(unacknowledged).order_by(OperationalAlert.at.desc()).limit(ALERT_ROWS)
    ).all()
    numbers = dict(
        ctx.session.execute(
            select(Patient.id, Patient.nhs_number).where(Patient.id.in_({a.patient_id for a in rows if a.patient_id}))
        )
        .tuples()
        .all()
    )
    made.alerts = [Alert(a.at, a.rule_id, numbers.get(a.patient_id or ""), a.error) for a in rows]


__all__ = [
    "Alert",
    "Burden",
    "ClinicianLoad",
    "MonitorRule",
    "OverdueLine",
    "RuleLine",
    "TeamLine",
    "TrustSafety",
    "view",
]
