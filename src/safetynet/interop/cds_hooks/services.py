"""The CDS services: discovery, patient-view, encounter-discharge, and feedback. Services take a Context and never
commit; the web layer opens one unit of work per call (``safetynet.web.cds_hooks``).

Who the person is: the prefetched Patient's NHS number (identifier system https://fhir.nhs.uk/Id/nhs-number) when
the record system sent one; otherwise ``context.patientId``, read as an NHS number, or else as Safetynet's own
Patient id (the id its FHIR API gives). Nobody matched means no cards, never an error.

Findings come from the safety net itself: the person's tasks are first reconciled with the rules as known now
(``tasks.runner.reconcile``: it opens what has become due and closes what has cleared, writing only when
something changed), then each live task someone is asked to act on becomes a card whose uuid is the task's id.
patient-view runs the rules on every call but reads the person's facts again only when something about them was
recorded since it last did (``histories``): that is what keeps it fast.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from fhir.resources.R4B.patient import Patient as FhirPatient
from pydantic import BaseModel, ValidationError
from sqlalchemy import select

from safetynet.audit import service as audit
from safetynet.audit.models import AuditEvent
from safetynet.core.context import Context
from safetynet.core.errors import NotFound, ValidationFailed
from safetynet.interop.cds_hooks import cards
from safetynet.interop.cds_hooks.histories import HISTORIES
from safetynet.interop.cds_hooks.schemas import (
    CdsResponse,
    Discovery,
    EncounterDischargeContext,
    Feedback,
    FeedbackRequest,
    HookRequest,
    PatientViewContext,
    ServiceDefinition,
)
from safetynet.interop.fhir.codes import NHS_NUMBER
from safetynet.record.patients import service as patients
from safetynet.record.patients.models import Patient
from safetynet.rules.facts import load_history
from safetynet.tasks import runner
from safetynet.tasks import service as tasks
from safetynet.tasks.models import Task
from safetynet.workflows import discharge

PATIENT_VIEW = "safetynet-patient-view"
ENCOUNTER_DISCHARGE = "safetynet-encounter-discharge"
PREFETCH = {"patient": "Patient/{{context.patientId}}"}
CARD_ENTITY = "cds_card"  # audit entity under which a discharge card's uuid is kept with what it was about

SERVICES = {
    PATIENT_VIEW: ServiceDefinition(
        hook="patient-view",
        id=PATIENT_VIEW,
        title="Safetynet: open safety findings",
        description=(
            "When a person's record is opened: the safety net's open findings for them (family concerns unanswered, "
            "disengagement, overdue depots, reviews and follow-ups, partner information to review, ...), most "
            "urgent first, each with its evidence, the rule it comes from and a link to the person in Safetynet."
        ),
        prefetch=PREFETCH,
        usageRequirements="Identify the person by NHS number (the prefetched Patient's identifier or patientId).",
    ),
    ENCOUNTER_DISCHARGE: ServiceDefinition(
        hook="encounter-discharge",
        id=ENCOUNTER_DISCHARGE,
        title="Safetynet: discharge gates",
        description=(
            "When a discharge is being made: Safetynet's gate rules (non-attendance is never a reason to discharge; "
            "a current safety plan; the carer told; crisis cover at weekends). A critical card when a gate blocks "
            "the discharge, with the reasons, what to do instead and the reasons a clinician may give to override."
        ),
        prefetch=PREFETCH,
        usageRequirements="Identify the person by NHS number (the prefetched Patient's identifier or patientId).",
    ),
}


class BadRequest(ValueError):
    """A request CDS Hooks does not allow, or that Safetynet cannot read: HTTP 400 with this message."""


M = TypeVar("M", bound=BaseModel)


def discovery() -> Discovery:
    return Discovery(services=list(SERVICES.values()))


def service(service_id: str) -> ServiceDefinition:
    found = SERVICES.get(service_id)
    if found is None:
        raise NotFound(f"no CDS service {service_id!r}; see /cds-services")
    return found


def parse(model: type[M], body: Any, what: str) -> M:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or what}: {e['msg']}" for e in exc.errors(include_url=False)
        )
        raise BadRequest(f"malformed {what}: {problems}") from None


def hook_context(service_id: str, request: HookRequest) -> PatientViewContext | EncounterDischargeContext:
    """The hook's context, checked against the service's hook: this service's request, or BadRequest."""
    definition = service(service_id)
    if request.hook != definition.hook:
        raise BadRequest(f"this service answers the {definition.hook} hook, not {request.hook}")
    if definition.hook == "patient-view":
        return parse(PatientViewContext, request.context, "patient-view context")
    return parse(EncounterDischargeContext, request.context, "encounter-discharge context")


# --- who the person is -------------------------------------------------------------------------------------------


def prefetched_nhs_number(request: HookRequest, patient_id: str) -> str | None:
    """The NHS number on the prefetched Patient, if the record system sent one (a null prefetch means it had none)."""
    raw = (request.prefetch or {}).get("patient")
    if raw is None:
        return None
    if not isinstance(raw, dict) or raw.get("resourceType") != "Patient":
        raise BadRequest("malformed prefetch: `patient` must be a FHIR Patient resource (or null)")
    try:
        resource = FhirPatient.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        raise BadRequest(f"malformed prefetch: the Patient is not valid FHIR R4 ({where}: {first['msg']})") from None
    if resource.id is not None and resource.id != patient_id:
        raise BadRequest(f"the prefetched Patient/{resource.id} is not context.patientId {patient_id}")
    for identifier in resource.identifier or []:
        if identifier.system == NHS_NUMBER and identifier.value:
            return str(identifier.value)
    return None


def identify(ctx: Context, request: HookRequest, patient_id: str) -> Patient | None:
    """The person this call is about, as known now; None if Safetynet does not know them."""
    now = ctx.clock.now()
    nhs_number = prefetched_nhs_number(request, patient_id)
    if nhs_number is not None:
        try:
            return patients.find(ctx, nhs_number, at=now)
        except ValidationFailed as exc:
            raise BadRequest(f"the prefetched Patient's NHS number is not valid: {exc.problems[0].message}") from None
    digits = "".join(patient_id.split())
    if len(digits) == 10 and digits.isdigit():
        try:
            found = patients.find(ctx, digits, at=now)
        except ValidationFailed:
            found = None  # ten digits that fail the check digit: a record system's own id, perhaps
        if found is not None:
            return found
    patient = ctx.session.get(Patient, patient_id)
    return patient if patient is not None and patient.recorded_at <= now else None


# --- patient-view ------------------------------------------------------------------------------------------------


def patient_view(
    ctx: Context, request: HookRequest, context: PatientViewContext, urls: cards.Urls, max_cards: int
) -> CdsResponse:
    patient = identify(ctx, request, context.patientId)
    if patient is None:
        audit.record(
            ctx, action="read", entity="cds_patient_view", detail=f"no person matched ({request.hookInstance})"
        )
        return CdsResponse(cards=[])
    now = ctx.clock.now()
    # The rules as known now over the person's history (kept while nothing about them is recorded: see histories);
    # their tasks are written to only where the findings differ from them.
    live = tasks.live_tasks(ctx, patient.id)
    reconciled = runner.reconcile(
        ctx.as_actor(runner.SAFETY_NET),
        HISTORIES.history(ctx, patient.id),
        now,
        settings=HISTORIES.settings(ctx),
        live_tasks=live,
    )
    current = [t for t in live if t.closed_at is None] + reconciled.opened
    live = sorted((t for t in current if cards.shown(t, now)), key=lambda t: cards.urgency(t, now))
    made = [cards.task_card(t, now, urls, patient.nhs_number) for t in live]
    if reconciled.failures:
        made.insert(0, cards.failure_card(reconciled.failures, urls, patient.nhs_number))
    shown, hidden = made[:max_cards], len(made) - max_cards
    if hidden > 0:
        last = shown[-1]
        shown[-1] = last.model_copy(
            update={"detail": (last.detail or "") + cards.more_line(hidden, urls, patient.nhs_number)}
        )
    audit.record_read(
        ctx,
        entity="cds_patient_view",
        patient_id=patient.id,
        detail=f"{len(shown)} card(s) of {len(made)} to {ctx.actor.name} ({request.hookInstance})",
    )
    return CdsResponse(cards=shown)


# --- encounter-discharge -----------------------------------------------------------------------------------------


def encounter_discharge(
    ctx: Context, request: HookRequest, context: EncounterDischargeContext, urls: cards.Urls
) -> CdsResponse:
    """Ask the gate rules about discharging this person now (nothing is recorded but the audit of the look)."""
    patient = identify(ctx, request, context.patientId)
    if patient is None:
        audit.record(ctx, action="read", entity="cds_discharge", detail=f"no person matched ({request.hookInstance})")
        return CdsResponse(cards=[])
    now = ctx.clock.now()
    runner.reconcile_people(ctx, [patient.id])  # the tasks a card's feedback may be about, as of now
    facts = load_history(ctx.session, patient.id).as_known_at(now)
    inpatient = facts.is_inpatient()
    episodes = facts.open_episodes()
    if not inpatient and not episodes:
        audit.record_read(ctx, entity="cds_discharge", patient_id=patient.id, detail="nothing open to discharge")
        return CdsResponse(cards=[])
    attempt = (
        discharge.DischargeRequest(kind="inpatient")
        if inpatient
        else discharge.DischargeRequest(kind="episode", team_id=episodes[-1].team_id)
    )
    result = discharge.check(ctx, patient.id, attempt, now)
    card_uuid = ctx.ids.new_id()
    card = cards.discharge_card(
        result, card_uuid, urls, patient.nhs_number, f"Patient/{context.patientId}", now, inpatient=inpatient
    )
    if card is None:
        return CdsResponse(cards=[])
    # The card's uuid, kept in the audit trail with what it was about, so that feedback can find it again.
    cited = {e.fact_id for d in result.decisions for e in d.evidence}
    related = [t.id for t in tasks.live_tasks(ctx, patient.id) if cited & {e["fact_id"] for e in t.evidence}]
    audit.record(
        ctx,
        action="cds_card",
        entity=CARD_ENTITY,
        entity_id=card_uuid,
        patient_id=patient.id,
        detail=json.dumps(
            {
                "service": ENCOUNTER_DISCHARGE,
                "hookInstance": str(request.hookInstance),
                "encounterId": context.encounterId,
                "outcome": str(result.outcome),
                "blocking": [d.rule_id for d in result.decisions if d.blocks],
                "warnings": [d.rule_id for d in result.decisions if not d.blocks],
                "tasks": related,
            }
        ),
    )
    return CdsResponse(cards=[card])


# --- feedback ----------------------------------------------------------------------------------------------------


def _moment(value: str) -> datetime:
    text = value.strip()
    if text[-1:] in ("Z", "z"):  # RFC 3339 allows either case for UTC
        text = text[:-1] + "+00:00"
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise BadRequest(f"malformed feedback: outcomeTimestamp {value!r} is not an ISO timestamp") from None


def _words(item: Feedback) -> tuple[str | None, str]:
    """The rationale (an override's reason and comment) and the detail (what was done, when) of one feedback."""
    at = _moment(item.outcomeTimestamp).isoformat()
    if item.outcome == "accepted":
        accepted = ", ".join(s.id for s in item.acceptedSuggestions or []) or "none named"
        return None, f"accepted in the record system at {at}; suggestions: {accepted}"
    rationale = None
    if item.overrideReason is not None:
        reason = item.overrideReason.reason
        parts = [
            f"{reason.display or reason.code} ({reason.code})" if reason else None,
            item.overrideReason.userComment,
        ]
        rationale = ": ".join(p for p in parts if p) or None
    return rationale, f"overridden in the record system at {at}" + ("" if rationale else "; no reason given")


def record_feedback(ctx: Context, service_id: str, data: FeedbackRequest) -> int:
    """Record each outcome in the history of the task(s) the card was about and in the audit trail. A card this
    service never issued is NotFound (and nothing of the request is kept)."""
    service(service_id)
    finders: dict[str, Callable[[Context, Feedback], int]] = {
        PATIENT_VIEW: _task_feedback,
        ENCOUNTER_DISCHARGE: _discharge_feedback,
    }
    return sum(finders[service_id](ctx, item) for item in data.feedback)


def _task_feedback(ctx: Context, item: Feedback) -> int:
    task = ctx.session.get(Task, item.card) if _is_uuid(item.card) else None
    if task is None:
        raise NotFound(f"no card {item.card} from {PATIENT_VIEW}")
    rationale, detail = _words(item)
    tasks.log(ctx, task, f"cds_{item.outcome}", rationale=rationale, detail=detail)
    return 1


def _discharge_feedback(ctx: Context, item: Feedback) -> int:
    issued = ctx.session.scalars(
        select(AuditEvent).where(AuditEvent.entity == CARD_ENTITY, AuditEvent.entity_id == item.card)
    ).first()
    if issued is None:
        raise NotFound(f"no card {item.card} from {ENCOUNTER_DISCHARGE}")
    about = json.loads(issued.detail or "{}")
    rationale, detail = _words(item)
    blocking = ", ".join(about.get("blocking", [])) or "none"
    audit.record(
        ctx,
        action=f"cds_{item.outcome}",
        entity=CARD_ENTITY,
        entity_id=item.card,
        patient_id=issued.patient_id,
        detail=f"discharge card (blocking: {blocking}) {detail}" + (f"; reason: {rationale}" if rationale else ""),
    )
    for task_id in about.get("tasks", []):
        task = ctx.session.get(Task, task_id)
        if task is not None:
            tasks.log(ctx, task, f"cds_{item.outcome}", rationale=rationale, detail=f"discharge card: {detail}")
    return 1


def _is_uuid(value: str) -> bool:
    try:
        UUID(value)
    except ValueError:
        return False
    return True
