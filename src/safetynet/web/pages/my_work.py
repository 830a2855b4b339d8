"""My work (``/``): the signed-in clinician's tasks, most urgent first, and the people they are key worker for."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select

from safetynet.record import caseload
from safetynet.record.org import service as org
from safetynet.record.patients.models import Patient
from safetynet.record.zoning import service as zoning
from safetynet.tasks import service as tasks
from safetynet.web import deps
from safetynet.web.auth import SignedIn, requires
from safetynet.web.pages.tasks import views
from safetynet.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/")
def my_work(request: Request, user: Annotated[SignedIn, requires("work.view")]) -> Response:
    with deps.unit_of_work(request, user.actor("direct care: my work")) as ctx:
        now = ctx.clock.now()
        worklist = views(ctx, tasks.worklist(ctx, user.staff_id))
        entries = caseload.key_worker_caseload(ctx, org.get_staff(ctx, user.staff_id))
        ids = dict(
            ctx.session.execute(
                select(Patient.nhs_number, Patient.id).where(Patient.nhs_number.in_([e.nhs_number for e in entries]))
            )
            .tuples()
            .all()
        )
        zones = zoning.current_zones(ctx, list(ids.values()))
        counts = tasks.open_counts(ctx, list(ids.values()))
    people = [
        {
            "entry": e,
            "zone": zones.get(ids.get(e.nhs_number, "")),
            "open": counts.get(ids.get(e.nhs_number, ""), 0),
        }
        for e in entries
    ]
    return render(
        request,
        "my_work.html",
        {
            "tasks": worklist,
            "overdue": sum(1 for t in worklist if t.overdue),
            "people": people,
            "now": now,
            "next": "/",
        },
    )
