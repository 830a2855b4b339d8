"""The disengagement workflow (SN02): what a team does instead of discharging someone who has stopped attending.

Each step is done either because the record shows it (a phone call, a home visit, an MDT decision after the task
opened) or because a clinician recorded it on the task with a note. Contacting the family is offered only where
a carer has consent to share (R6).
"""

from __future__ import annotations

from dataclasses import dataclass

from safetynet.audit import service as audit
from safetynet.core.context import Context
from safetynet.core.errors import Problem, ValidationFailed
from safetynet.record.contacts.models import ContactMode
from safetynet.record.partners.models import Agency
from safetynet.rules.facts import PersonFacts, load_history
from safetynet.tasks import service as tasks
from safetynet.tasks.models import Task, TaskEvent

STEPS: dict[str, str] = {
    "contact": "Try to make contact (phone, text or video)",
    "home_visit": "Home visit",
    "family": "Contact the family or carer",
    "gp": "Contact the GP",
    "partners": "Check partner information (police, housing, social care)",
    "mdt": "MDT review of the plan",
}


@dataclass(frozen=True, slots=True)
class Step:
    id: str
    title: str
    done: bool
    how: str  # what showed it was done, or why it does not apply


def plan(ctx: Context, task_id: str) -> list[Step]:
    task = _disengagement_task(ctx, task_id)
    facts = load_history(ctx.session, task.patient_id).as_known_at(ctx.clock.now())
    audit.record_read(ctx, entity="disengagement_steps", patient_id=task.patient_id)
    recorded = {e.detail: e for e in tasks.history(ctx, task.id) if e.action == "step"}
    return [_step(step_id, facts, task, recorded.get(step_id)) for step_id in STEPS]


def record_step(ctx: Context, task_id: str, step_id: str, note: str) -> None:
    task = _disengagement_task(ctx, task_id)
    problems = []
    if step_id not in STEPS:
        problems.append(Problem("step", f"no step {step_id!r}; steps are {', '.join(STEPS)}"))
    if len(note.strip()) < 5:
        problems.append(Problem("note", "say what was done"))
    if problems:
        raise ValidationFailed(problems)
    tasks.log(ctx, task, "step", rationale=note.strip(), detail=step_id)


def _step(step_id: str, facts: PersonFacts, task: Task, recorded: TaskEvent | None) -> Step:
    title = STEPS[step_id]
    if recorded is not None:
        return Step(step_id, title, True, f"recorded by {recorded.actor_name}: {recorded.rationale}")
    after = [c for c in facts.happened("contacts") if c.occurred_at > task.finding_since]
    if step_id == "contact":
        tried = [c for c in after if c.mode in (ContactMode.PHONE, ContactMode.TEXT, ContactMode.VIDEO)]
        if tried:
            return Step(
                step_id, title, True, f"{tried[-1].mode} contact {tried[-1].outcome} on {tried[-1].occurred_at.date()}"
            )
    if step_id == "home_visit":
        visits = [c for c in after if c.mode == ContactMode.HOME_VISIT]
        if visits:
            return Step(step_id, title, True, f"home visit ({visits[-1].outcome}) on {visits[-1].occurred_at.date()}")
    if step_id == "family" and not any(c.consent_to_share for c in facts.happened("carers")):
        return Step(step_id, title, True, "not applicable: no carer with consent to share is registered")
    if step_id == "gp":
        gp = [
            p
            for p in facts.happened("partner_information")
            if p.agency == Agency.GP and p.recorded_at >= task.finding_since
        ]
        if gp:
            return Step(step_id, title, True, f"GP information received {gp[-1].recorded_at.date()}")
    if step_id == "mdt":
        decisions = [d for d in facts.happened("mdt_decisions") if d.occurred_at >= task.finding_since]
        if decisions:
            return Step(
                step_id, title, True, f"MDT decision on {decisions[-1].topic} on {decisions[-1].occurred_at.date()}"
            )
    return Step(step_id, title, False, "not yet done")


def _disengagement_task(ctx: Context, task_id: str) -> Task:
    task = tasks.get(ctx, task_id)
    if task.rule_id != "SN02":
        raise ValidationFailed([Problem("task", "the disengagement steps belong to a disengagement (SN02) task")])
    return task
