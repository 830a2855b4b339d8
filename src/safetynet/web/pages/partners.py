"""The partner channels (``/partners``): a GP practice's and a police liaison officer's pages.

- ``GET /partners``: what the partner may see. A practice: handover letters addressed to it (its registered
  patients only) and what was shared with it. A police force: only what was shared with it.
- ``GET /partners/report`` and ``POST /partners/report``: a practice reports "no contact" or "prescriptions not
  collected" about a registered patient; a police liaison officer submits intelligence about a person identified
  by NHS number or by name and date of birth. Either becomes partner information for the team, with the lawful
  basis it was shared under; the safety net (SN08, SN12) sees it when the request commits.

``requires`` checks the role only (these actions' scopes are *shared* and *tell*); the person and organisation are
checked here, through ``record.channels`` and ``access.decide``. Refused submissions are audited and write nothing
else; bad input comes back with the NHS error summary, fields kept, nothing written."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from safetynet.access.decide import AccessDenied
from safetynet.access.grants import LawfulBasis
from safetynet.core.clock import LONDON
from safetynet.core.context import Role
from safetynet.core.errors import ValidationFailed
from safetynet.record import channels
from safetynet.record.partners.models import PartnerInfoKind
from safetynet.web import deps
from safetynet.web.auth import SignedIn, requires
from safetynet.web.templating import render

router = APIRouter(prefix="/partners", include_in_schema=False)

NAV = ({"text": "Shared with you", "href": "/partners"}, {"text": "Tell the team", "href": "/partners/report"})
REFERENCE = re.compile(r"^PI-[0-9A-F]{4}-[0-9A-F]{4}$")
MAX_DETAIL = 4000
GP_KIND_LABELS = {
    PartnerInfoKind.NO_CONTACT: "No contact: the patient has not been in touch or has not attended",
    PartnerInfoKind.PRESCRIPTION_NOT_COLLECTED: "Prescriptions not collected",
}
POLICE_KIND_LABELS = {
    PartnerInfoKind.WARRANT: "Warrant",
    PartnerInfoKind.ARREST: "Arrest",
    PartnerInfoKind.INCIDENT: "Incident",
    PartnerInfoKind.CHARGE: "Charge",
    PartnerInfoKind.COURT_DATE: "Court date",
}
BASIS_LABELS = {
    LawfulBasis.CDA_S115: "Crime and Disorder Act 1998, section 115",
    LawfulBasis.ART_6_1_C: "UK GDPR Article 6(1)(c): legal obligation",
    LawfulBasis.ART_6_1_D: "UK GDPR Article 6(1)(d): vital interests",
    LawfulBasis.ART_6_1_E: "UK GDPR Article 6(1)(e): public task",
    LawfulBasis.ART_9_2_C: "UK GDPR Article 9(2)(c): vital interests",
    LawfulBasis.ART_9_2_G: "UK GDPR Article 9(2)(g): substantial public interest (safeguarding)",
    LawfulBasis.ART_9_2_H: "UK GDPR Article 9(2)(h): health or social care",
}
POLICE_BASIS_LABELS = {basis: BASIS_LABELS[basis] for basis in channels.POLICE_BASES}
ITEM_LABELS = {
    "identity": "Identity",
    "key_worker_contact": "Key worker contact",
    "risk_summary": "Risk summary",
    "crisis_plan": "Crisis plan",
    "legal_status": "Legal status",
    "medication": "Medication",
    "discharge_summary": "Discharge summary",
    "contact_history": "Contact history",
}


def _channel(user: SignedIn) -> str:
    return "gp" if user.role is Role.GP_PARTNER else "police"


def _nav(request: Request) -> list[dict[str, Any]]:
    return [item | {"current": request.url.path == item["href"]} for item in NAV]


def _refused(request: Request, exc: AccessDenied) -> Response:
    message = f"{str(exc).capitalize()}. If you think this is wrong, contact the trust's information governance team."
    values = {"title": "You do not have access to this", "message": message, "nav": _nav(request), "home": "/partners"}
    return render(request, "refused.html", values, status=403)


@router.get("")
def partner_home(request: Request, user: Annotated[SignedIn, requires("partner.view")], received: str = "") -> Response:
    """What was sent or shared with the partner's organisation, and nothing else."""
    purpose = f"{_channel(user)} partner channel: what was shared with us"
    try:
        with deps.unit_of_work(request, user.actor(purpose)) as ctx:
            link = channels.link(ctx, user.account_id)
            letters = channels.practice_letters(ctx, link.organisation) if user.role is Role.GP_PARTNER else []
            shared = channels.shared_with(ctx, link.organisation)
    except AccessDenied as exc:
        return _refused(request, exc)
    return render(
        request,
        "partners/home.html",
        {
            "channel": _channel(user),
            "organisation": link.organisation,
            "letters": letters,
            "shared": shared,
            "received": received if REFERENCE.match(received) else None,
            "item_labels": ITEM_LABELS,
            "basis_labels": {str(k): v for k, v in BASIS_LABELS.items()},
            "nav": _nav(request),
            "home": "/partners",
        },
    )


def _form_page(request: Request, user: SignedIn, form: dict[str, Any], errors: dict[str, str], status: int) -> Response:
    return render(
        request,
        "partners/report.html",
        {
            "channel": _channel(user),
            "form": form,
            "errors": errors,
            "gp_kinds": GP_KIND_LABELS,
            "police_kinds": POLICE_KIND_LABELS,
            "bases": POLICE_BASIS_LABELS,
            "gp_bases": [BASIS_LABELS[b] for b in channels.GP_BASIS],
            "max_detail": MAX_DETAIL,
            "nav": _nav(request),
            "home": "/partners",
        },
        status=status,
    )


@router.get("/report")
def report_form(request: Request, user: Annotated[SignedIn, requires("partner.submit")]) -> Response:
    """The form to tell the team something (the practice's or the police's version)."""
    return _form_page(request, user, {"lawful_basis": []}, {}, 200)


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return None


def _clock(value: str) -> time | None:
    try:
        return time.fromisoformat(value.strip()) if value.strip() else time(0, 0)
    except ValueError:
        return None


def _common_errors(form: dict[str, Any], now: datetime, errors: dict[str, str]) -> datetime | None:
    """When it happened (not in the future) and what: checked before anything is read or written."""
    day = _day(form["occurred_on"])
    at = _clock(form.get("occurred_time", ""))
    moment = None
    if day is None:
        errors["occurred_on"] = "Enter the date it happened, for example 2021-04-04"
    elif at is None:
        errors["occurred_time"] = "Enter the time as hours and minutes, for example 22:10, or leave it empty"
    else:
        moment = datetime.combine(day, at, tzinfo=LONDON)
        if moment > now:
            errors["occurred_on"] = "The date it happened must be today or in the past"
            moment = None
    detail = form["detail"].strip()
    if not detail:
        errors["detail"] = "Enter what happened and what the team should know"
    elif len(detail) > MAX_DETAIL:
        errors["detail"] = f"Enter at most {MAX_DETAIL} characters"
    return moment


@router.post("/report")
def report(
    request: Request,
    user: Annotated[SignedIn, requires("partner.submit")],
    nhs_number: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    born: Annotated[str, Form()] = "",
    kind: Annotated[str, Form()] = "",
    occurred_on: Annotated[str, Form()] = "",
    occurred_time: Annotated[str, Form()] = "",
    detail: Annotated[str, Form()] = "",
    violence: Annotated[str, Form()] = "",
    weapon: Annotated[str, Form()] = "",
    lawful_basis: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """A practice's report or the police's intelligence: the error summary on bad input (nothing written), a refusal
    for a person the sender may not tell about or who cannot be matched (audited), else received with a reference."""
    gp = user.role is Role.GP_PARTNER
    form: dict[str, Any] = {
        "nhs_number": nhs_number,
        "name": name,
        "born": born,
        "kind": kind,
        "occurred_on": occurred_on,
        "occurred_time": occurred_time,
        "detail": detail,
        "violence": bool(violence),
        "weapon": bool(weapon),
        "lawful_basis": lawful_basis or [],
    }
    errors: dict[str, str] = {}
    digits = "".join(nhs_number.split())
    kinds = GP_KIND_LABELS if gp else POLICE_KIND_LABELS
    if kind not in kinds:
        errors["kind"] = "Choose what you are reporting"
    born_day = _day(born) if born.strip() else None
    if gp:
        if not digits:
            errors["nhs_number"] = "Enter the patient's NHS number"
    else:
        if not digits and not (name.strip() and born.strip()):
            errors["nhs_number"] = "Enter the NHS number, or the person's full name and date of birth"
        if born.strip() and born_day is None:
            errors["born"] = "Enter the date of birth, for example 1998-11-03"
    moment = _common_errors(form, deps.clock(request).now(), errors)
    chosen = [LawfulBasis(b) for b in form["lawful_basis"] if b in {str(k) for k in POLICE_BASIS_LABELS}]
    if not gp and not chosen:
        errors["lawful_basis"] = "Choose the lawful basis you are sharing under"
    ordered = ["nhs_number", "name", "born", "kind", "occurred_on", "occurred_time", "detail", "lawful_basis"]
    if errors:
        return _form_page(request, user, form, {k: errors[k] for k in ordered if k in errors}, 400)
    assert moment is not None
    purpose = "GP channel: report to the team" if gp else "police liaison channel: intelligence for the team"
    try:
        with deps.unit_of_work(request, user.actor(purpose)) as ctx:
            link = channels.link(ctx, user.account_id)
            if gp:
                outcome = channels.gp_report(
                    ctx,
                    link.organisation,
                    nhs_number=digits,
                    kind=PartnerInfoKind(kind),
                    occurred_at=moment,
                    detail=detail,
                )
            else:
                outcome = channels.police_intelligence(
                    ctx,
                    link.organisation,
                    nhs_number=digits or None,
                    name=name.strip() or None,
                    born=born_day,
                    kind=PartnerInfoKind(kind),
                    occurred_at=moment,
                    detail=detail,
                    violence=bool(violence),
                    weapon=bool(weapon),
                    lawful_basis=chosen,
                )
    except ValidationFailed as exc:
        found = {(p.field if p.field in ordered else "detail"): p.message for p in exc.problems}
        return _form_page(request, user, form, found, 400)
    except AccessDenied as exc:
        return _refused(request, exc)
    if outcome.refused:
        return _form_page(request, user, form, {"nhs_number": outcome.refused}, 403 if gp else 422)
    return RedirectResponse(f"/partners?received={outcome.reference}", status_code=303)
