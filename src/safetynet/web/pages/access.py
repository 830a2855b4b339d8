"""Break-glass in the web app, its review, and a person's access log.

- ``/people/{nhs_number}/break-glass`` (GET, POST): a clinician refused a person's record for want of a relationship
  states a reason and chooses how long (``access.break_glass``: at least 20 characters, at most a shift); the grant
  and its audit event are written by ``record.relationships.break_glass``, and the record opens until it expires.
- ``/access/break-glass`` and ``POST /access/break-glass/{grant_id}/review``: the safety lead's review queue
  (``record.relationships.review_queue``), each grant with the reads and writes made under it, and its review.
- ``/people/{nhs_number}/access-log``: the person's own access log (``audit.access_log``, the service behind
  ``safetynet audit access-log``) for the safety lead; opening it is itself recorded."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from safetynet.access import break_glass as grants
from safetynet.access.grants import ReviewOutcome
from safetynet.audit import service as audit
from safetynet.core.errors import Problem, ValidationFailed
from safetynet.record import relationships
from safetynet.record.patients import service as patients
from safetynet.web import auth, deps
from safetynet.web.auth import SignedIn, requires
from safetynet.web.templating import render

router = APIRouter(include_in_schema=False)

# The choices offered: a short look to a whole shift (access.break_glass.MAX_MINUTES).
DURATIONS = ((30, "30 minutes"), (60, "1 hour"), (240, "4 hours"), (grants.MAX_MINUTES, "8 hours (a shift)"))
REVIEW_PURPOSE = "break-glass review"
ACCESS_LOG_PURPOSE = "access log review by the safety lead"


def _break_glass_page(
    request: Request, nhs_number: str, next_path: str, form: dict[str, str], errors: dict[str, str], status: int
) -> Response:
    return render(
        request,
        "access/break_glass.html",
        {
            "nhs_number": nhs_number,
            "next": next_path,
            "form": form,
            "errors": errors,
            "durations": DURATIONS,
            "min_reason": grants.MIN_REASON,
        },
        status=status,
    )


def _next_for(nhs_number: str, given: str | None) -> str:
    """Back to the page that was refused, if it was on this site; the person's summary otherwise."""
    path = auth.safe_next(given)
    return path if path != "/" else f"/people/{nhs_number}"


@router.get("/people/{nhs_number}/break-glass")
def break_glass_form(
    nhs_number: str, request: Request, user: Annotated[SignedIn, requires("break_glass.open")], next: str = ""
) -> Response:
    with deps.unit_of_work(request, user.actor("break-glass access")) as ctx:
        patient = patients.get(ctx, nhs_number)  # 404 for nobody; nothing of the record is shown
    form = {"reason": "", "minutes": str(grants.DEFAULT_MINUTES)}
    return _break_glass_page(request, patient.nhs_number, _next_for(patient.nhs_number, next), form, {}, 200)


@router.post("/people/{nhs_number}/break-glass")
def break_glass(
    nhs_number: str,
    request: Request,
    user: Annotated[SignedIn, requires("break_glass.open")],
    reason: Annotated[str, Form()] = "",
    minutes: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    """Open the grant (audited, queued for review) and go back to the record; bad input: the error summary."""
    form = {"reason": reason, "minutes": minutes}
    errors: dict[str, str] = {}
    if len(reason.strip()) < grants.MIN_REASON:
        errors["reason"] = f"Enter why you need this record now, in at least {grants.MIN_REASON} characters"
    allowed = {str(m) for m, _ in DURATIONS}
    if minutes not in allowed:
        errors["minutes"] = "Choose how long you need access for"
    target = _next_for(nhs_number, next)
    if not errors:
        try:
            with deps.unit_of_work(request, user.actor("break-glass access")) as ctx:
                patient = patients.get(ctx, nhs_number)
                relationships.break_glass(ctx, patient.id, reason, int(minutes))
        except ValidationFailed as exc:
            errors = {(p.field if p.field in ("reason", "minutes") else "reason"): p.message for p in exc.problems}
    if errors:
        return _break_glass_page(request, nhs_number, target, form, errors, 422)
    return RedirectResponse(target, status_code=303)


def _queue_values(request: Request, user: SignedIn) -> dict[str, Any]:
    with deps.unit_of_work(request, user.actor(REVIEW_PURPOSE)) as ctx:
        items = relationships.review_queue(ctx)
        people = patients.names(ctx, sorted({i.patient_id for i in items}))
    return {"items": items, "people": people, "errors": {}, "form": {}, "error_grant": None}


@router.get("/access/break-glass")
def review_queue(request: Request, user: Annotated[SignedIn, requires("break_glass.review")]) -> Response:
    values = _queue_values(request, user) | {"reviewed": request.query_params.get("reviewed") == "1"}
    return render(request, "access/review_queue.html", values)


@router.post("/access/break-glass/{grant_id}/review")
def review(
    grant_id: str,
    request: Request,
    user: Annotated[SignedIn, requires("break_glass.review")],
    outcome: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    """Review one grant: appropriate, or inappropriate and followed up; once, and never one's own."""
    errors: dict[str, str] = {}
    if outcome not in {o.value for o in ReviewOutcome}:
        errors["outcome"] = "Choose whether this access was appropriate"
    if not note.strip():
        errors["note"] = "Enter what the review found"
    if not errors:
        try:
            with deps.unit_of_work(request, user.actor(REVIEW_PURPOSE)) as ctx:
                grants.review(ctx, grant_id, ReviewOutcome(outcome), note)
                audit.record(
                    ctx, action="break_glass_review", entity="break_glass_reviews", entity_id=grant_id, detail=note
                )
        except ValidationFailed as exc:
            errors = {_review_field(p): p.message for p in exc.problems}
    if errors:
        values = _queue_values(request, user) | {
            "errors": {k: v[0].upper() + v[1:] for k, v in errors.items()},
            "form": {"outcome": outcome, "note": note},
            "error_grant": grant_id,
            "reviewed": False,
        }
        return render(request, "access/review_queue.html", values, status=422)
    return RedirectResponse("/access/break-glass?reviewed=1", status_code=303)


def _review_field(problem: Problem) -> str:
    return problem.field if problem.field in ("outcome", "note") else "note"


@router.get("/people/{nhs_number}/access-log")
def access_log(nhs_number: str, request: Request, user: Annotated[SignedIn, requires("audit.read")]) -> Response:
    """The person's access log for the safety lead (R27); reading it is recorded in it."""
    with deps.unit_of_work(request, user.actor(ACCESS_LOG_PURPOSE)) as ctx:
        patient = patients.get(ctx, nhs_number)
        entries = audit.access_log(ctx, patient.id)
    return render(request, "access/access_log.html", {"nhs_number": patient.nhs_number, "entries": entries})
