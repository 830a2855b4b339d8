"""Acting on tasks (acknowledge, dismiss, snooze), worklists, and rule settings. Services never commit."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select

from safetynet.audit import service as audit
from safetynet.core.context import Context, Role
from safetynet.core.errors import NotFound, Problem, ValidationFailed
from safetynet.record.org.models import Staff
from safetynet.rules import registry
from safetynet.rules.model import Mode, Parameters
from safetynet.tasks.models import RuleSetting, Task, TaskEvent, TaskStatus
from safetynet.tasks.schemas import AcknowledgeIn, DismissIn, RuleSettingIn, SnoozeIn

MAX_SNOOZE = timedelta(days=14)
# Who may dismiss a finding as needing no action: clinicians accountable for the person's care.
MAY_DISMISS = frozenset({Role.KEY_WORKER, Role.CONSULTANT, Role.TEAM_MANAGER, Role.SAFETY_LEAD})
SETTINGS_ROLES = frozenset({Role.SAFETY_LEAD, Role.ADMINISTRATOR})


HELD = (TaskStatus.OPEN, TaskStatus.ACKNOWLEDGED, TaskStatus.SNOOZED)  # someone holds these: asked to act, now or later


def held_by(ctx: Context, patient_id: str) -> bool:
    """Is an open safety-net task about this person with the acting member of staff, or with their team? Asked to
    act, they may open the record to act (``access.decide``: ``Basis.OPEN_TASK``) even once the person has left
    their caseload, as after a discharge to the GP with its follow-up (SN09, SN12)."""
    staff_id = ctx.actor.staff_id
    if staff_id is None:
        return False
    member = ctx.session.get(Staff, staff_id)
    teams = [member.team_id] if member is not None and member.active and member.team_id else []
    rows = ctx.session.execute(
        select(Task.owner_staff_id, Task.team_id, Task.status).where(
            Task.patient_id == patient_id, Task.closed_at.is_(None)
        )
    )
    # Filtered here, not in SQL: SQLite would choose the status index and read every live task in the trust.
    return any(status in HELD and (owner == staff_id or team in teams) for owner, team, status in rows)


def get(ctx: Context, task_id: str) -> Task:
    task = ctx.session.get(Task, task_id)
    if task is None:
        raise NotFound(f"no task {task_id}")
    return task


def log(ctx: Context, task: Task, action: str, *, rationale: str | None = None, detail: str | None = None) -> None:
    """The task's own history: who did what, when and why."""
    ctx.session.add(
        TaskEvent(
            task_id=task.id,
            at=ctx.clock.now(),
            action=action,
            actor_name=ctx.actor.name,
            actor_role=str(ctx.actor.role),
            actor_staff_id=ctx.actor.staff_id,
            rationale=rationale,
            detail=detail,
        )
    )
    audit.record(
        ctx,
        action=f"task_{action}",
        entity="tasks",
        entity_id=task.id,
        patient_id=task.patient_id,
        detail=rationale or detail,
    )


def acknowledge(ctx: Context, task_id: str, data: AcknowledgeIn) -> Task:
    task = _live(ctx, task_id, TaskStatus.OPEN, TaskStatus.SNOOZED, TaskStatus.ACKNOWLEDGED)
    task.status = TaskStatus.ACKNOWLEDGED
    task.snoozed_until = None
    log(ctx, task, "acknowledged", rationale=data.rationale)
    return task


def dismiss(ctx: Context, task_id: str, data: DismissIn) -> Task:
    if ctx.actor.role not in MAY_DISMISS:
        raise ValidationFailed([Problem("role", f"a {ctx.actor.role} cannot dismiss a safety finding")])
    task = _live(ctx, task_id, TaskStatus.OPEN, TaskStatus.SNOOZED, TaskStatus.ACKNOWLEDGED)
    task.status = TaskStatus.DISMISSED
    log(ctx, task, "dismissed", rationale=data.rationale, detail=f"dismissed by a {ctx.actor.role}")
    return task


def snooze(ctx: Context, task_id: str, data: SnoozeIn) -> Task:
    now = ctx.clock.now()
    if not now < data.until <= now + MAX_SNOOZE:
        raise ValidationFailed([Problem("until", f"a snooze must end in the future and within {MAX_SNOOZE.days} days")])
    task = _live(ctx, task_id, TaskStatus.OPEN, TaskStatus.ACKNOWLEDGED, TaskStatus.SNOOZED)
    task.status = TaskStatus.SNOOZED
    task.snoozed_until = data.until
    log(ctx, task, "snoozed", rationale=data.rationale, detail=f"until {data.until.isoformat()}")
    return task


def history(ctx: Context, task_id: str) -> list[TaskEvent]:
    return list(ctx.session.scalars(select(TaskEvent).where(TaskEvent.task_id == task_id).order_by(TaskEvent.id)))


def worklist(ctx: Context, staff_id: str) -> list[Task]:
    """A person's tasks to act on now: open or acknowledged, and snoozed ones whose snooze has run out."""
    now = ctx.clock.now()
    tasks = ctx.session.scalars(
        select(Task)
        .where(Task.owner_staff_id == staff_id, Task.closed_at.is_(None))
        .where(Task.status.in_([TaskStatus.OPEN, TaskStatus.ACKNOWLEDGED, TaskStatus.SNOOZED]))
        .order_by(Task.due_at)
    )
    return [t for t in tasks if t.status != TaskStatus.SNOOZED or (t.snoozed_until and t.snoozed_until <= now)]


def live_tasks(ctx: Context, patient_id: str) -> list[Task]:
    stmt = select(Task).where(Task.patient_id == patient_id, Task.closed_at.is_(None)).order_by(Task.created_at)
    return list(ctx.session.scalars(stmt))


def rule_settings(ctx: Context) -> dict[str, tuple[Mode, Parameters]]:
    """Each rule's mode and parameters here: stored settings over the rulebook's defaults."""
    stored = {s.rule_id: s for s in ctx.session.scalars(select(RuleSetting))}
    out: dict[str, tuple[Mode, Parameters]] = {}
    for rule in registry.RULES.values():
        setting = stored.get(rule.id)
        if setting is None:
            out[rule.id] = (Mode.ACTIVE, rule.defaults())
        else:
            out[rule.id] = (Mode(setting.mode), rule.parameters.model_validate(setting.parameters))
    return out


def set_rule(ctx: Context, rule_id: str, data: RuleSettingIn) -> RuleSetting:
    """Change a rule's mode or parameters; values are validated by the rule's own parameter model."""
    if ctx.actor.role not in SETTINGS_ROLES:
        raise ValidationFailed([Problem("role", "only a safety lead or an administrator may change a rule")])
    rule = registry.get(rule_id)
    try:
        params = rule.parameters.model_validate(data.parameters)
    except ValidationError as exc:
        raise ValidationFailed(
            Problem(f"parameters.{'.'.join(str(p) for p in e['loc'])}", e["msg"]) for e in exc.errors()
        ) from None
    setting = ctx.session.get(RuleSetting, rule.id) or RuleSetting(rule_id=rule.id)
    setting.mode = str(data.mode)
    setting.parameters = params.model_dump(mode="json")
    setting.updated_at = ctx.clock.now()
    setting.updated_by = ctx.actor.name
    setting.rationale = data.rationale
    ctx.session.add(setting)
    audit.record(
        ctx,
        action="rule_setting",
        entity="rule_settings",
        entity_id=rule.id,
        detail=f"{data.mode} {setting.parameters}: {data.rationale}",
    )
    return setting


def _live(ctx: Context, task_id: str, *allowed: TaskStatus) -> Task:
    task = get(ctx, task_id)
    if task.closed_at is not None or task.status not in allowed:
        raise ValidationFailed([Problem("task", f"this task is {task.status}; that cannot be done to it now")])
    return task


def as_json(task: Task) -> dict[str, Any]:
    return {
        "id": task.id,
        "rule": task.rule_id,
        "status": task.status,
        "summary": task.summary,
        "due": task.due_at.isoformat(),
        "owner_role": task.owner_role,
        "escalation_level": task.escalation_level,
        "evidence": task.evidence,
    }


def open_counts(ctx: Context, patient_ids: list[str]) -> dict[str, int]:
    """How many open findings (live tasks someone is asked to act on) each of these people has."""
    if not patient_ids:
        return {}
    # The status is sifted here, not in SQL: given ``status IN (...)``, SQLite reads the status index (every live
    # task in the trust) rather than the patient index (a few rows a person).
    asking = {TaskStatus.OPEN, TaskStatus.ACKNOWLEDGED, TaskStatus.SNOOZED}
    stmt = select(Task.patient_id, Task.status).where(Task.patient_id.in_(patient_ids), Task.closed_at.is_(None))
    return dict(Counter(patient_id for patient_id, status in ctx.session.execute(stmt) if status in asking))
