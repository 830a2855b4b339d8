"""Escalation of overdue tasks: key worker -> team manager -> consultant (or the safety lead where there is none).

Each step is an atomic conditional UPDATE (only if the task is still at the level we read), so two schedulers
running at once cannot escalate a task twice.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from safetynet.core.context import Context, Role
from safetynet.rules.calendar import add_working_days
from safetynet.tasks import service
from safetynet.tasks.models import Task, TaskStatus
from safetynet.tasks.runner import _first_staff

LADDER = ((1, Role.TEAM_MANAGER), (2, Role.CONSULTANT))
ESCALATABLE = (TaskStatus.OPEN, TaskStatus.ACKNOWLEDGED, TaskStatus.SNOOZED)


def next_step_due(task: Task) -> datetime:
    """Level 0 escalates when the task is overdue; each later level one working day after the one before."""
    return add_working_days(task.due_at, task.escalation_level)


def escalate(ctx: Context) -> list[Task]:
    now = ctx.clock.now()
    escalated = []
    candidates = ctx.session.scalars(
        select(Task).where(
            Task.closed_at.is_(None),
            Task.status.in_(ESCALATABLE),
            Task.escalation_level < len(LADDER),
            Task.due_at < now,
        )
    )
    for task in list(candidates):
        if task.status == TaskStatus.SNOOZED and task.snoozed_until and task.snoozed_until > now:
            continue
        if now <= next_step_due(task):
            continue
        level, role = LADDER[task.escalation_level]
        owner = _first_staff(ctx, role, task.team_id) if task.team_id else None
        if owner is None:  # nobody in that role on the team: the trust's safety lead holds it
            role, owner = Role.SAFETY_LEAD, _first_staff(ctx, Role.SAFETY_LEAD, None)
        claimed = ctx.session.execute(
            update(Task)
            .where(Task.id == task.id, Task.escalation_level == level - 1, Task.closed_at.is_(None))
            .values(escalation_level=level, owner_staff_id=owner, owner_role=str(role))
            .execution_options(synchronize_session="fetch")
        )
        if claimed.rowcount == 1:  # type: ignore[attr-defined]
            service.log(ctx, task, "escalated", detail=f"overdue since {task.due_at.isoformat()}: now with the {role}")
            escalated.append(task)
    return escalated
