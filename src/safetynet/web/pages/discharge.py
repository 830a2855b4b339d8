"""The guided discharge (``/people/{nhs_number}/discharge``): through the gate rules, never round them.

1. What discharge: from which team (reason and destination) or from the ward, whether the carer was told and the
   crisis team accepted them. ``Check the discharge`` asks the gates (``workflows.discharge.check``; nothing is
   written but the audit of the look).
2. Blocked: each gate's reason, its evidence and the source it answers, and what would clear it. Where the rule
   allows a senior override (the rulebook: SN03, by a consultant or team manager), a senior may give a written
   rationale and check again; nobody else is offered one, and a rationale from anyone else is refused.
3. The GP handover letter (``/discharge/gp-letter``): drafted from the record (``workflows.gp_letter``), checked
   and edited here, and recorded as sent; SN16 wants all six sections for a discharge to the GP.
4. Allowed: the follow-up contact is booked (an appointment; within SN09's 72 hours after a ward discharge) and the
   discharge is recorded by ``workflows.discharge.discharge``, which asks the gates again in the same unit of work.

Every step is a plain form; bad input comes back with the NHS error summary, fields kept, nothing written."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from safetynet.access.decide import permitted
from safetynet.core.clock import LONDON, parse_moment
from safetynet.core.context import Context
from safetynet.core.errors import NotFound, ValidationFailed
from safetynet.record.careplans import service as careplans
from safetynet.record.careplans.models import GpLetterSection
from safetynet.record.careplans.schemas import GpHandoverLetterIn
from safetynet.record.contacts import service as contacts
from safetynet.record.contacts.models import ContactMode
from safetynet.record.contacts.schemas import AppointmentIn
from safetynet.record.episodes import service as episodes
from safetynet.record.episodes.models import DischargeDestination, DischargeReason, EpisodeStatus
from safetynet.record.legal import service as legal
from safetynet.record.org import service as org
from safetynet.record.patients import service as patients
from safetynet.record.patients.models import Patient
from safetynet.rules.engine import GateResult
from safetynet.rules.model import GateOutcome
from safetynet.rules.registry import RULES
from safetynet.web import deps
from safetynet.web.auth import SignedIn, requires
from safetynet.web.templating import render
from safetynet.workflows import discharge as workflow
from safetynet.workflows import gp_letter

router = APIRouter(prefix="/people", include_in_schema=False)

PURPOSE = "direct care: discharge planning"
WARD = "ward"
REASONS = {
    DischargeReason.RECOVERED: "Recovered or goals met",
    DischargeReason.MOVED_AWAY: "Moved away",
    DischargeReason.TRANSFERRED: "Transferred to another service",
    DischargeReason.NON_ATTENDANCE: "Not attending appointments",
    DischargeReason.DISENGAGED: "Disengaged from the service",
    DischargeReason.DIED: "Died",
    DischargeReason.OTHER: "Other",
}
DESTINATIONS = {
    DischargeDestination.GP: "To the GP",
    DischargeDestination.OTHER_TEAM: "To another team",
    DischargeDestination.NONE: "No onward care",
}
FOLLOW_UP_MODES = {
    ContactMode.FACE_TO_FACE: "Face to face",
    ContactMode.HOME_VISIT: "Home visit",
    ContactMode.PHONE: "Phone",
    ContactMode.VIDEO: "Video",
}
SECTIONS = {
    GpLetterSection.VIOLENCE_HISTORY: "Violence history",
    GpLetterSection.NON_ADHERENCE: "Non-adherence",
    GpLetterSection.RELAPSE_SIGNATURE: "Relapse signature",
    GpLetterSection.LEGAL_HISTORY: "Legal history (Mental Health Act)",
    GpLetterSection.WHAT_TO_DO: "What to do if concerned",
    GpLetterSection.ROUTE_BACK: "Fast route back to the team",
}
# What clears each gate, in words for the clinician (the rules themselves decide; this only points the way).
UNBLOCK = {
    "SN03": "Non-attendance is never a reason to discharge. Follow the disengagement steps instead (try contact, a "
    "home visit, contact the family and the GP, check partner information, MDT review); disengagement (SN02) closes "
    "with an attended contact. Only a consultant or team manager may override, with a written rationale.",
    "SN14": "Ask the crisis team to accept the person before a Friday, weekend or bank holiday discharge, and tick "
    "that they have; or discharge on another day.",
    "SN15": "Tell the carer about the discharge, then tick that the carer has been informed.",
    "SN16": "Record a risk assessment with a safety plan (in the last 14 days); for a discharge to the GP, send a GP "
    "handover letter with all six sections.",
}
TEXT_LIMIT = 4000


@dataclass
class DischargeForm:
    """What the clinician typed or ticked, kept as typed so a refused form comes back as it was."""

    discharge_from: str = ""
    reason: str = ""
    destination: str = ""
    carer_informed: bool = False
    crisis_team_accepted: bool = False
    override_rationale: str = ""
    follow_up_at: str = ""
    follow_up_mode: str = ""

    def query(self) -> str:
        """The discharge's choices (never the rationale) as a query string, to come back to this check."""
        values = {"discharge_from": self.discharge_from, "reason": self.reason, "destination": self.destination}
        values |= {k: "yes" for k in ("carer_informed", "crisis_team_accepted") if getattr(self, k)}
        return urlencode({k: v for k, v in values.items() if v})

    @property
    def team_id(self) -> str | None:
        return self.discharge_from.removeprefix("team:") if self.discharge_from.startswith("team:") else None


@dataclass
class Situation:
    """The person and what they can be discharged from, as known now."""

    patient: Patient
    name: str
    options: dict[str, str]  # discharge_from value -> its label ("team:<id>" per open episode, "ward" if admitted)
    teams: dict[str, str] = field(default_factory=dict)


def situation(ctx: Context, nhs_number: str) -> Situation:
    try:
        patient = patients.get(ctx, nhs_number)
    except ValidationFailed as exc:
        raise NotFound(f"no person with NHS number {nhs_number}") from exc
    teams = {t.id: t.name for t in org.list_teams(ctx)}
    options: dict[str, str] = {}
    for episode in episodes.episodes(ctx, patient.id):
        if episode.status == EpisodeStatus.ACTIVE and episode.ended_at is None and episode.team_id:
            options[f"team:{episode.team_id}"] = f"From {teams.get(episode.team_id, 'the team')} (end the episode)"
    admission = legal.current_admission(ctx, patient.id)
    if admission is not None:
        options[WARD] = f"From {teams.get(admission.ward_id, 'the ward')} (inpatient discharge)"
    return Situation(patient, patients.details(ctx, patient.id).name, options, teams)


def validate(form: DischargeForm, where: Situation, user: SignedIn) -> dict[str, str]:
    """The discharge's problems, field by field, in the order the fields appear."""
    errors: dict[str, str] = {}
    if form.discharge_from not in where.options:
        errors["discharge_from"] = "Choose what the person is being discharged from"
    elif form.team_id is not None:
        if form.reason not in REASONS:
            errors["reason"] = "Choose the reason for the discharge"
        if form.destination not in DESTINATIONS:
            errors["destination"] = "Choose where the person is being discharged to"
    rationale = form.override_rationale.strip()
    if rationale and not permitted(user.role, "discharge.override"):
        errors["override_rationale"] = (
            f"Only a consultant or team manager may override a discharge gate; your role is {user.role_name}"
        )
    elif len(rationale) > TEXT_LIMIT:
        errors["override_rationale"] = f"The rationale must be {TEXT_LIMIT} characters or fewer"
    return errors


def follow_up(form: DischargeForm, now: datetime) -> tuple[datetime | None, dict[str, str]]:
    """The follow-up contact's moment, or its problems. After a ward discharge it is due within SN09's hours."""
    errors: dict[str, str] = {}
    moment = None
    if not form.follow_up_at.strip():
        errors["follow_up_at"] = "Enter the date and time of the follow-up contact"
    else:
        try:
            moment = parse_moment(form.follow_up_at)
        except ValueError:
            errors["follow_up_at"] = "Enter the follow-up as a date and time, for example 28 March 2022 10:00"
    if moment is not None:
        hours = RULES["SN09"].defaults().due_hours
        if moment <= now:
            errors["follow_up_at"] = "The follow-up contact must be after now"
        elif form.discharge_from == WARD and moment > now + timedelta(hours=hours):
            errors["follow_up_at"] = f"After a ward discharge the follow-up must be within {hours} hours (SN09)"
    if form.follow_up_mode not in FOLLOW_UP_MODES:
        errors["follow_up_mode"] = "Choose how the follow-up contact will be made"
    return (None if errors else moment), errors


def request_of(form: DischargeForm) -> workflow.DischargeRequest:
    if form.team_id is not None:
        return workflow.DischargeRequest(
            kind="episode",
            team_id=form.team_id,
            reason=DischargeReason(form.reason),
            destination=DischargeDestination(form.destination),
            carer_informed=form.carer_informed or None,
            crisis_team_accepted=form.crisis_team_accepted or None,
            override_rationale=form.override_rationale.strip() or None,
        )
    return workflow.DischargeRequest(
        kind="inpatient",
        carer_informed=form.carer_informed or None,
        crisis_team_accepted=form.crisis_team_accepted or None,
        override_rationale=form.override_rationale.strip() or None,
    )


@dataclass(frozen=True, slots=True)
class GateView:
    """One gate's answer as the page shows it."""

    rule_id: str
    title: str
    blocks: bool
    reason: str
    evidence: tuple[Any, ...]
    source: str
    unblock: str
    overridable_by: list[str]
    overridden_by: str | None
    can_override: bool  # the signed-in user may override this rule


def gate_views(result: GateResult, user: SignedIn) -> list[GateView]:
    views = []
    for d in result.decisions:
        rule = RULES[d.rule_id]
        by = workflow.overridable(d.rule_id)
        views.append(
            GateView(
                rule_id=d.rule_id,
                title=rule.title,
                blocks=d.blocks,
                reason=d.reason,
                evidence=d.evidence,
                source=rule.answers,
                unblock=UNBLOCK.get(d.rule_id, rule.explanation),
                overridable_by=[r.replace("_", " ") for r in by],
                overridden_by=str(d.overridden_by).replace("_", " ") if d.overridden_by else None,
                can_override=user.role.value in by and permitted(user.role, "discharge.override"),
            )
        )
    return views


def suggested_follow_up(form: DischargeForm, now: datetime) -> str:
    """A starting point the clinician changes: 48 hours after a ward discharge (inside SN09's 72), else 7 days."""
    later = now + (timedelta(hours=48) if form.discharge_from == WARD else timedelta(days=7))
    return later.astimezone(LONDON).strftime("%Y-%m-%dT%H:%M")


def _page(
    request: Request,
    user: SignedIn,
    where: Situation,
    form: DischargeForm,
    *,
    errors: dict[str, str] | None = None,
    result: GateResult | None = None,
    status: int = 200,
    **extra: Any,
) -> Response:
    now = deps.clock(request).now()
    if result is not None and not form.follow_up_at:
        form.follow_up_at = suggested_follow_up(form, now)
    values = {
        "nhs_number": where.patient.nhs_number,
        "name": where.name,
        "options": where.options,
        "form": form,
        "errors": errors or {},
        "result": result,
        "gates": gate_views(result, user) if result is not None else [],
        "allowed": result is not None and result.outcome is not GateOutcome.BLOCKED,
        "can_override": permitted(user.role, "discharge.override"),
        "reasons": REASONS,
        "destinations": DESTINATIONS,
        "modes": FOLLOW_UP_MODES,
        "query": form.query(),
        "recorded": False,
        "letter_sent": False,
    }
    return render(request, "discharge/discharge.html", values | extra, status=status)


@router.get("/{nhs_number}/discharge")
def discharge_page(
    nhs_number: str,
    request: Request,
    user: Annotated[SignedIn, requires("discharge.request")],
    discharge_from: str = "",
    reason: str = "",
    destination: str = "",
    carer_informed: str = "",
    crisis_team_accepted: str = "",
    letter: str = "",
) -> Response:
    """Step 1, or (with the discharge's choices in the query, as after sending the GP letter) the gates' answer."""
    form = DischargeForm(discharge_from, reason, destination, bool(carer_informed), bool(crisis_team_accepted))
    with deps.unit_of_work(request, user.actor(PURPOSE)) as ctx:
        where = situation(ctx, nhs_number)
        if not discharge_from:
            return _page(request, user, where, DischargeForm())
        errors = validate(form, where, user)
        result = None if errors else workflow.check(ctx, where.patient.id, request_of(form))
    return _page(
        request,
        user,
        where,
        form,
        errors=errors,
        result=result,
        status=400 if errors else 200,
        letter_sent=letter == "sent",
    )


@router.post("/{nhs_number}/discharge")
def discharge_step(
    nhs_number: str,
    request: Request,
    user: Annotated[SignedIn, requires("discharge.request")],
    step: Annotated[str, Form()] = "check",
    discharge_from: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    destination: Annotated[str, Form()] = "",
    carer_informed: Annotated[str, Form()] = "",
    crisis_team_accepted: Annotated[str, Form()] = "",
    override_rationale: Annotated[str, Form()] = "",
    follow_up_at: Annotated[str, Form()] = "",
    follow_up_mode: Annotated[str, Form()] = "",
) -> Response:
    """``step=check`` asks the gates (with a senior's override if given); ``step=discharge`` books the follow-up and
    records the discharge if the gates, asked again, allow it."""
    form = DischargeForm(
        discharge_from,
        reason,
        destination,
        bool(carer_informed),
        bool(crisis_team_accepted),
        override_rationale,
        follow_up_at,
        follow_up_mode,
    )
    now = deps.clock(request).now()
    with deps.unit_of_work(request, user.actor(PURPOSE)) as ctx:
        where = situation(ctx, nhs_number)
        errors = validate(form, where, user)
        if errors:
            return _page(request, user, where, form, errors=errors, status=400)
        result = workflow.check(ctx, where.patient.id, request_of(form))
        if step != "discharge":
            return _page(request, user, where, form, result=result)
        if result.outcome is GateOutcome.BLOCKED:
            return _page(request, user, where, form, result=result, status=409)
        moment, problems = follow_up(form, now)
        if problems or moment is None:
            return _page(request, user, where, form, errors=problems, result=result, status=400)
    try:
        with deps.unit_of_work(request, user.actor(PURPOSE)) as ctx:
            workflow.discharge(ctx, where.patient.id, request_of(form))
            contacts.book_appointment(
                ctx,
                where.patient.id,
                AppointmentIn(
                    occurred_at=now,
                    due_at=moment,
                    mode=ContactMode(form.follow_up_mode),
                    team_id=form.team_id or user.team_id,
                    note="Follow-up after discharge, booked with the discharge",
                ),
            )
    except workflow.DischargeBlocked as blocked:  # the record changed since the check: nothing was written
        return _page(request, user, where, form, result=blocked.result, status=409)
    # Shown here rather than after a redirect: a team's access to the record can end with its episode.
    # Sending the form again is harmless: there is no longer an episode to end, so it is refused.
    return _page(request, user, where, DischargeForm(), recorded=True, follow_up_due=moment)


# --- the GP handover letter ---------------------------------------------------------------------------------------


def _letter_page(
    request: Request,
    where: Situation,
    form: DischargeForm,
    sections: dict[str, str],
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    values = {
        "nhs_number": where.patient.nhs_number,
        "name": where.name,
        "form": form,
        "sections": sections,
        "section_names": {s.value: label for s, label in SECTIONS.items()},
        "errors": errors or {},
        "query": form.query(),
    }
    return render(request, "discharge/gp_letter.html", values, status=status)


@router.get("/{nhs_number}/discharge/gp-letter")
def gp_letter_page(
    nhs_number: str,
    request: Request,
    user: Annotated[SignedIn, requires("discharge.request")],
    discharge_from: str = "",
    reason: str = "",
    destination: str = "",
    carer_informed: str = "",
    crisis_team_accepted: str = "",
) -> Response:
    """The six-section GP handover letter drafted from the record, for the clinician to check, edit and send."""
    form = DischargeForm(discharge_from, reason, destination, bool(carer_informed), bool(crisis_team_accepted))
    with deps.unit_of_work(request, user.actor(PURPOSE)) as ctx:
        where = situation(ctx, nhs_number)
        drafted = gp_letter.draft(ctx, where.patient.id)
    return _letter_page(request, where, form, {s.value: text for s, text in drafted.items()})


@router.post("/{nhs_number}/discharge/gp-letter")
def send_gp_letter(
    nhs_number: str,
    request: Request,
    user: Annotated[SignedIn, requires("discharge.request")],
    discharge_from: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    destination: Annotated[str, Form()] = "",
    carer_informed: Annotated[str, Form()] = "",
    crisis_team_accepted: Annotated[str, Form()] = "",
    section_violence_history: Annotated[str, Form()] = "",
    section_non_adherence: Annotated[str, Form()] = "",
    section_relapse_signature: Annotated[str, Form()] = "",
    section_legal_history: Annotated[str, Form()] = "",
    section_what_to_do: Annotated[str, Form()] = "",
    section_route_back: Annotated[str, Form()] = "",
) -> Response:
    """Record the letter as sent, all six sections as the clinician left them; then back to the discharge's gates."""
    form = DischargeForm(discharge_from, reason, destination, bool(carer_informed), bool(crisis_team_accepted))
    sections = {
        GpLetterSection.VIOLENCE_HISTORY.value: section_violence_history,
        GpLetterSection.NON_ADHERENCE.value: section_non_adherence,
        GpLetterSection.RELAPSE_SIGNATURE.value: section_relapse_signature,
        GpLetterSection.LEGAL_HISTORY.value: section_legal_history,
        GpLetterSection.WHAT_TO_DO.value: section_what_to_do,
        GpLetterSection.ROUTE_BACK.value: section_route_back,
    }
    errors: dict[str, str] = {}
    for key, value in sections.items():
        label = SECTIONS[GpLetterSection(key)].lower()
        if not value.strip():
            errors[f"section_{key}"] = f"Enter the {label} section: the GP needs all six"
        elif len(value) > TEXT_LIMIT:
            errors[f"section_{key}"] = f"The {label} section must be {TEXT_LIMIT} characters or fewer"
    with deps.unit_of_work(request, user.actor(PURPOSE)) as ctx:
        where = situation(ctx, nhs_number)
        if errors:
            return _letter_page(request, where, form, sections, errors, status=400)
        body = "\n\n".join(f"{SECTIONS[GpLetterSection(k)]}\n{v.strip()}" for k, v in sections.items())
        careplans.record_gp_letter(
            ctx,
            where.patient.id,
            GpHandoverLetterIn(
                occurred_at=ctx.clock.now(),
                # The team being discharged from, if the form names one of the person's; else the sender's.
                team_id=(form.team_id if form.discharge_from in where.options else None) or user.team_id,
                sections=list(GpLetterSection),
                body=body,
            ),
        )
    query = form.query()
    back = f"/people/{nhs_number}/discharge" + (f"?{query}&letter=sent" if query else "")
    return RedirectResponse(back, status_code=303)
