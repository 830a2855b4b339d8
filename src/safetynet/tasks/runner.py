"""The safety net's side effects: findings become tasks (idempotently), cleared findings close their tasks, and
rules that fail become operational alerts. Evaluation itself is the pure engine's; this only reconciles."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from safetynet.core.context import Actor, Context, Role
from safetynet.record.org.models import Staff
from safetynet.rules import engine
from safetynet.rules.facts import Directory, History, PersonFacts, load_histories, load_span, trust_people
from safetynet.rules.model import Finding, Mode, Parameters
from safetynet.rules.registry import RULES, WATCH_RULES
from safetynet.tasks import service
from safetynet.tasks.models import OperationalAlert, Task, TaskStatus

SAFETY_NET = Actor(name="Safety net", role=Role.SYSTEM, purpose="safety net evaluation")


@dataclass
class Reconciled:
    opened: list[Task] = field(default_factory=list)
    closed: list[Task] = field(default_factory=list)
    failures: list[engine.RuleFailure] = field(default_factory=list)


Settings = dict[str, tuple[Mode, Parameters]]


def reconcile(
    ctx: Context,
    history: History,
    at: datetime | None = None,
    *,
    settings: Settings | None = None,
    live_tasks: list[Task] | None = None,
) -> Reconciled:
    """Bring one person's tasks in line with the findings open as known at ``at`` (now if None). A caller going
    through many people passes the rule ``settings`` and each person's ``live_tasks``, read once for all of them."""
    at = at or ctx.clock.now()
    settings = settings if settings is not None else service.rule_settings(ctx)
    rules = [r for r in WATCH_RULES if settings[r.id][0] is not Mode.OFF]
    facts = history.as_known_at(at)
    evaluation = engine.evaluate(facts, rules, {rule_id: params for rule_id, (_, params) in settings.items()})
    result = Reconciled(failures=evaluation.failures)
    for failure in evaluation.failures:
        ctx.session.add(
            OperationalAlert(at=at, rule_id=failure.rule_id, patient_id=history.patient_id, error=failure.error)
        )
    failed = {f.rule_id for f in evaluation.failures}
    active = {r.id for r in rules}
    tasks = live_tasks if live_tasks is not None else service.live_tasks(ctx, history.patient_id)
    live = {(t.rule_id, t.finding_key): t for t in tasks}
    for finding in evaluation.findings:
        if (finding.rule_id, finding.key) not in live:
            monitor = settings[finding.rule_id][0] is Mode.MONITOR
            result.opened.append(_open(ctx, facts, finding, monitor=monitor))
    current = {(f.rule_id, f.key) for f in evaluation.findings}
    for key, task in live.items():
        # A rule that failed tells us nothing about whether its findings cleared: leave its tasks alone.
        if key not in current and task.rule_id not in failed:
            task.status = TaskStatus.CLOSED
            task.closed_at = at
            task.close_reason = "the condition cleared" if task.rule_id in active else "the rule was switched off"
            service.log(ctx, task, "closed", detail=task.close_reason)
            result.closed.append(task)
    ctx.session.flush()
    return result


def reconcile_people(ctx: Context, patient_ids: list[str], at: datetime | None = None) -> Reconciled:
    """Incremental evaluation: just the people a unit of work wrote about. Acts as the safety net itself."""
    ctx = ctx.as_actor(SAFETY_NET)
    total = Reconciled()
    for history in load_histories(ctx.session, patient_ids).values():
        one = reconcile(ctx, history, at)
        total.opened += one.opened
        total.closed += one.closed
        total.failures += one.failures
    return total


def reconcile_trust(ctx: Context, at: datetime | None = None, *, chunk: int = 2000) -> Reconciled:
    """Batch evaluation with its side effects: every person known at ``at`` (now if None), reconciled as the
    incremental safety net would have done. Read like ``rules.replay.batch``, a slice of people at a time (one range
    of patient ids per query, with their live tasks), which bounds memory. Idempotent: run again, it changes
    nothing. For records written in bulk (``safetynet synth``), which raise no tasks of their own."""
    ctx = ctx.as_actor(SAFETY_NET)
    at = at or ctx.clock.now()
    settings = service.rule_settings(ctx)
    directory = Directory.load(ctx.session)
    people = trust_people(ctx.session, at)
    total = Reconciled()
    for offset in range(0, len(people), chunk):
        part = people[offset : offset + chunk]
        live: dict[str, list[Task]] = {}
        for task in ctx.session.scalars(
            select(Task)
            .where(Task.patient_id.between(part[0][0], part[-1][0]), Task.closed_at.is_(None))
            .order_by(Task.created_at)
        ):
            live.setdefault(task.patient_id, []).append(task)
        for history in load_span(ctx.session, directory, part).values():
            one = reconcile(ctx, history, at, settings=settings, live_tasks=live.get(history.patient_id, []))
            total.opened += one.opened
            total.closed += one.closed
            total.failures += one.failures
    return total


def reconcile_touched(ctx: Context) -> Reconciled:
    """Incremental evaluation for a unit of work (a command, a request, an import): before it commits, bring the
    tasks of everyone it wrote about up to date, so that a write and the safety net's answer to it land together."""
    from safetynet.record.writes import touched

    people = sorted(touched(ctx))
    return reconcile_people(ctx, people) if people else Reconciled()


def _open(ctx: Context, facts: PersonFacts, finding: Finding, *, monitor: bool) -> Task:
    owner_id, role, team_id = _owner(ctx, facts)
    task = Task(
        id=ctx.ids.new_id(),
        patient_id=facts.patient_id,
        rule_id=finding.rule_id,
        rule_version=RULES[finding.rule_id].version,
        finding_key=finding.key,
        summary=finding.summary,
        evidence=[_evidence(e) for e in finding.evidence],
        finding_since=finding.since,
        created_at=ctx.clock.now(),
        due_at=finding.due,
        status=TaskStatus.MONITOR if monitor else TaskStatus.OPEN,
        team_id=team_id,
        owner_staff_id=None if monitor else owner_id,
        owner_role=str(role),
        escalation_level=0,
    )
    ctx.session.add(task)
    service.log(ctx, task, "opened", detail="monitor mode: recorded, no one asked to act" if monitor else None)
    return task


def _owner(ctx: Context, facts: PersonFacts) -> tuple[str | None, Role, str | None]:
    """The key worker of the person's most recent open episode; else that team's manager; else the safety lead."""
    episodes = facts.open_episodes()
    allocations = [a for a in facts.happened("key_workers") if a.ended_at is None]
    for episode in reversed(episodes):
        for allocation in reversed(allocations):
            if allocation.episode_fact_id == episode.fact_id:
                return allocation.staff_id, Role.KEY_WORKER, episode.team_id
    team_id = episodes[-1].team_id if episodes else None
    if team_id:
        manager = _first_staff(ctx, Role.TEAM_MANAGER, team_id)
        if manager:
            return manager, Role.TEAM_MANAGER, team_id
    return _first_staff(ctx, Role.SAFETY_LEAD, None), Role.SAFETY_LEAD, team_id


def _first_staff(ctx: Context, role: Role, team_id: str | None) -> str | None:
    stmt = select(Staff.id).where(Staff.role == role, Staff.active.is_(True))
    if team_id is not None:
        stmt = stmt.where(Staff.team_id == team_id)
    return ctx.session.scalars(stmt.order_by(Staff.name)).first()


def _evidence(e: Any) -> dict[str, Any]:
    return {
        "kind": e.kind,
        "fact_id": e.fact_id,
        "occurred_at": e.occurred_at.isoformat(),
        "recorded_at": e.recorded_at.isoformat(),
        "text": e.text,
    }
