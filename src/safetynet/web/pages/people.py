"""The person summary (``/people/{nhs_number}``) and recording a response to a family concern there.

Everything on the page comes from one read of the record (``record.chart``, audited with its purpose) and the
person's live tasks; nothing here queries the record on its own."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from safetynet.core.clock import LONDON
from safetynet.core.context import Context
from safetynet.core.errors import ValidationFailed
from safetynet.core.facts import ClinicalFact
from safetynet.record.carers import service as carers
from safetynet.record.carers.schemas import FamilyConcernResponseIn
from safetynet.record.chart import Chart, chart
from safetynet.record.legal.models import LEGAL_STATUS_CODES
from safetynet.record.patients import service as patients
from safetynet.tasks import service as tasks
from safetynet.web import deps
from safetynet.web.auth import SignedIn, requires
from safetynet.web.charts import depot_chart
from safetynet.web.pages.tasks import views
from safetynet.web.templating import render

router = APIRouter(prefix="/people", include_in_schema=False)

PURPOSE = "direct care: person summary"
# The sections of the record the summary shows (the banner's, then the page's): only these are read.
SECTIONS = (
    "episodes",
    "key_workers",
    "admissions",
    "legal_status_changes",
    "ctos",
    "zones",
    "risk_events",
    "risk_assessments",
    "prescriptions",
    "depot_administrations",
    "carers",
    "family_concerns",
    "family_concern_responses",
    "partner_information",
    "cross_team_requests",
    "cross_team_responses",
    "mdt_decisions",
    "capacity_assessments",
)


def _live(facts: list[ClinicalFact]) -> list[Any]:
    return [f for f in facts if not f.entered_in_error]


def age(born: date, now: datetime) -> int:
    today = now.astimezone(LONDON).date()
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


@dataclass(frozen=True, slots=True)
class Banner:
    name: str
    nhs_number: str
    born: date
    age: int
    key_worker: str
    team: str
    legal_status: str
    cto: str
    zone: str


def banner(c: Chart, now: datetime) -> Banner:
    s = c.sections
    open_episodes = [e for e in _live(s["episodes"]) if e.status == "active" and e.ended_at is None]
    episode_ids = {e.fact_id for e in open_episodes}
    allocations = [a for a in _live(s["key_workers"]) if a.ended_at is None and a.episode_fact_id in episode_ids]
    teams = [c.team_names.get(e.team_id or "", "?") for e in open_episodes]
    legal = "Informal / community"
    for admission in _live(s["admissions"]):
        if admission.discharged_at is None:
            code = admission.legal_status
            for change in _live(s["legal_status_changes"]):
                if change.admission_fact_id == admission.fact_id:
                    code = change.legal_status
            legal = f"Inpatient: {LEGAL_STATUS_CODES.get(code, code)}"
    ctos = [cto for cto in _live(s["ctos"]) if cto.ended_at is None]
    cto = "No"
    if ctos:
        expires = f", expires {ctos[-1].expires_at:%d %b %Y}" if ctos[-1].expires_at else ""
        cto = f"Yes, since {ctos[-1].occurred_at.astimezone(LONDON):%d %b %Y}{expires}"
    zones = _live(s["zones"])
    return Banner(
        name=c.details.name,
        nhs_number=c.patient.nhs_number,
        born=c.details.born,
        age=age(c.details.born, now),
        key_worker=", ".join(c.staff_names.get(a.staff_id, "?") for a in allocations) or "None allocated",
        team=", ".join(teams) or "Not open to a team",
        legal_status=legal,
        cto=cto,
        zone=zones[-1].zone if zones else "Not set",
    )


def summary(ctx: Context, nhs_number: str) -> dict[str, Any]:
    """Everything the person page shows, from one chart read (of the sections it shows) and the person's live
    tasks."""
    c = chart(ctx, nhs_number, kinds=SECTIONS)
    now = ctx.clock.now()
    s = c.sections
    responses: dict[str, list[Any]] = {}
    for response in _live(s["family_concern_responses"]):
        responses.setdefault(response.concern_fact_id, []).append(response)
    answers: dict[str, list[Any]] = {}
    for answer in _live(s["cross_team_responses"]):
        answers.setdefault(answer.request_fact_id, []).append(answer)
    assessments = _live(s["risk_assessments"])
    prescriptions = _live(s["prescriptions"])
    return {
        "chart": c,
        "banner": banner(c, now),
        "risk_events": sorted(s["risk_events"], key=lambda f: f.occurred_at, reverse=True),
        "assessment": assessments[-1] if assessments else None,
        "tasks": views(ctx, tasks.live_tasks(ctx, c.patient.id)),
        "prescriptions": [p for p in prescriptions if p.stopped_at is None],
        "depot": depot_chart(prescriptions, _live(s["depot_administrations"]), now),
        "carers": _live(s["carers"]),
        "concerns": sorted(_live(s["family_concerns"]), key=lambda f: f.occurred_at, reverse=True),
        "responses": responses,
        "partner_information": sorted(_live(s["partner_information"]), key=lambda f: f.occurred_at, reverse=True),
        "requests": sorted(_live(s["cross_team_requests"]), key=lambda f: f.occurred_at, reverse=True),
        "answers": answers,
        "decisions": sorted(
            _live(s["mdt_decisions"]) + _live(s["capacity_assessments"]), key=lambda f: f.occurred_at, reverse=True
        ),
        "staff": c.staff_names,
        "teams": c.team_names,
        "now": now,
    }


@router.get("/{nhs_number}")
def person(nhs_number: str, request: Request, user: Annotated[SignedIn, requires("person.view")]) -> Response:
    with deps.unit_of_work(request, user.actor(PURPOSE)) as ctx:
        values = summary(ctx, nhs_number)
    return render(request, "person.html", values | {"next": f"/people/{values['banner'].nhs_number}"})


@router.post("/{nhs_number}/family-concerns/{concern_id}/response")
def respond_to_concern(
    nhs_number: str,
    concern_id: str,
    request: Request,
    user: Annotated[SignedIn, requires("family_concern.respond")],
    text: Annotated[str, Form()] = "",
) -> Response:
    """Record the team's response to a family concern (its SN01 task closes when the unit of work commits)."""
    errors: dict[str, str] = {}
    if not text.strip():
        errors["text"] = "Enter the response: who was contacted, what was said and what happens next"
    if not errors:
        try:
            with deps.unit_of_work(request, user.actor("direct care: responding to a family concern")) as ctx:
                patient = patients.get(ctx, nhs_number)
                carers.respond_to_concern(
                    ctx,
                    patient.id,
                    FamilyConcernResponseIn(
                        occurred_at=ctx.clock.now(), team_id=user.team_id, concern_fact_id=concern_id, text=text
                    ),
                )
        except ValidationError as exc:
            errors["text"] = "; ".join(e["msg"] for e in exc.errors())
        except ValidationFailed as exc:
            errors["text"] = "; ".join(p.message for p in exc.problems)
    htmx = bool(request.headers.get("HX-Request"))
    if not errors and not htmx:
        return RedirectResponse(f"/people/{nhs_number}#concern-{concern_id}", status_code=303)
    with deps.unit_of_work(request, user.actor(PURPOSE)) as ctx:
        values = summary(ctx, nhs_number)
    values |= {
        "errors": errors,
        "error_concern": concern_id if errors else None,
        "form": {"text": text},
        "next": f"/people/{nhs_number}",
        "recorded": None if errors else concern_id,
    }
    if htmx:
        concern = next((c for c in values["concerns"] if c.fact_id == concern_id), None)
        return render(
            request, "partials/concern_swap.html", values | {"concern": concern}, status=422 if errors else 200
        )
    return render(request, "person.html", values, status=422)
