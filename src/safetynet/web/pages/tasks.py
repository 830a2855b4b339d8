"""Acting on a task: acknowledge (with a rationale), dismiss (with a rationale; the service refuses roles that may
not), snooze (until a day at most 14 days ahead). Each is a plain form (POST, then redirect back) that HTMX enhances
by swapping just the task's card. Bad input: the NHS error summary, the fields kept, nothing written."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ValidationError

from safetynet.core.clock import local_datetime
from safetynet.core.context import Context
from safetynet.core.errors import ValidationFailed
from safetynet.record.patients import service as patients
from safetynet.rules import registry
from safetynet.tasks import service as tasks
from safetynet.tasks.models import Task, TaskStatus
from safetynet.tasks.schemas import AcknowledgeIn, DismissIn, SnoozeIn
from safetynet.web import auth, deps
from safetynet.web.auth import SignedIn, requires
from safetynet.web.templating import render

router = APIRouter(prefix="/tasks", include_in_schema=False)

PURPOSE = "acting on a safety net task"
VERBS = {"acknowledge": "Acknowledge", "snooze": "Snooze", "dismiss": "Dismiss"}


@dataclass(frozen=True, slots=True)
class TaskView:
    """One task as a card shows it: whose, why (rule title and summary), evidence, source, due and what to do."""

    task: Task
    nhs_number: str
    name: str
    rule_title: str
    rule_version: int
    answers: str
    overdue: bool
    act_href: str
    act_text: str

    @property
    def id(self) -> str:
        return self.task.id


def views(ctx: Context, found: list[Task]) -> list[TaskView]:
    people = patients.names(ctx, sorted({t.patient_id for t in found}))
    now = ctx.clock.now()
    out = []
    for task in found:
        nhs, name = people.get(task.patient_id, ("", "?"))
        rule = registry.RULES.get(task.rule_id)
        href, text = f"/people/{nhs}", "Open their record"
        if task.rule_id == "SN01" and task.evidence:
            href, text = f"/people/{nhs}#concern-{task.evidence[0]['fact_id']}", "Record a response to the concern"
        out.append(
            TaskView(
                task=task,
                nhs_number=nhs,
                name=name,
                rule_title=rule.title if rule else task.rule_id,
                rule_version=task.rule_version,
                answers=rule.answers if rule else "",
                overdue=task.due_at < now and task.closed_at is None,
                act_href=href,
                act_text=text,
            )
        )
    return out


def _problems(exc: ValidationFailed | ValidationError) -> dict[str, str]:
    if isinstance(exc, ValidationError):
        out: dict[str, str] = {}
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else "rationale"
            out.setdefault(field, _plain(field, error["msg"]))
        return out
    return {(p.field if p.field in ("rationale", "until") else "rationale"): p.message for p in exc.problems}


def _plain(field: str, message: str) -> str:
    if field == "rationale" and "at least" in message:
        return "Enter a rationale of at least 10 characters: what is being done, or why no action is needed"
    if field == "until":
        return "Enter the day the task should come back, within the next 14 days"
    return message


def _until(value: str) -> datetime | None:
    try:
        return local_datetime(date.fromisoformat(value.strip()))
    except ValueError:
        return None


def _act(
    request: Request, user: SignedIn, task_id: str, verb: str, rationale: str, until: str, next_path: str
) -> Response:
    errors: dict[str, str] = {}
    data: BaseModel | None = None
    try:
        if verb == "snooze":
            moment = _until(until)
            if moment is None:
                errors["until"] = "Enter the day the task should come back, for example 2026-11-30"
            data = SnoozeIn(until=moment or deps.clock(request).now(), rationale=rationale)
        elif verb == "dismiss":
            data = DismissIn(rationale=rationale)
        else:
            data = AcknowledgeIn(rationale=rationale)
    except ValidationError as exc:
        errors = _problems(exc) | errors
    if not errors:
        try:
            with deps.unit_of_work(request, user.actor(PURPOSE)) as ctx:
                getattr(tasks, verb)(ctx, task_id, data)
        except ValidationFailed as exc:
            errors = _problems(exc)
    htmx = bool(request.headers.get("HX-Request"))
    if not errors and not htmx:
        return RedirectResponse(f"{auth.safe_next(next_path)}#task-{task_id}", status_code=303)
    with deps.unit_of_work(request, user.actor(PURPOSE)) as ctx:
        (view,) = views(ctx, [tasks.get(ctx, task_id)])
    values: dict[str, Any] = {
        "t": view,
        "errors": errors,
        "verb": verb,
        "form": {"rationale": rationale, "until": until},
        "next": auth.safe_next(next_path),
        "done": None if errors else verb,
    }
    if htmx:
        return render(request, "partials/task.html", values, status=422 if errors else 200)
    return render(request, "task_action.html", values, status=422)


@router.post("/{task_id}/acknowledge")
def acknowledge(
    request: Request,
    task_id: str,
    user: Annotated[SignedIn, requires("task.acknowledge")],
    rationale: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    return _act(request, user, task_id, "acknowledge", rationale, "", next)


@router.post("/{task_id}/dismiss")
def dismiss(
    request: Request,
    task_id: str,
    user: Annotated[SignedIn, requires("task.dismiss")],
    rationale: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    return _act(request, user, task_id, "dismiss", rationale, "", next)


@router.post("/{task_id}/snooze")
def snooze(
    request: Request,
    task_id: str,
    user: Annotated[SignedIn, requires("task.snooze")],
    rationale: Annotated[str, Form()] = "",
    until: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    return _act(request, user, task_id, "snooze", rationale, until, next)


__all__ = ["VERBS", "TaskStatus", "TaskView", "router", "views"]
