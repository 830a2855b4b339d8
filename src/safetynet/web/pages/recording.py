"""Recording facts in a person's record: ONE form mechanism for every kind of fact (issue 4, item 5).

``FORMS`` is the table. Each ``RecordingForm`` names its record schema (a ``*In`` model from
``record/<domain>/schemas.py``), the service function that writes it, its title and its fields. A field's widget
is derived from the schema unless the form says otherwise: an enum is radios (a select when there are many
choices), a date the NHS date input, a moment the date input and a time, a yes / no two radios, short text an
input, long text a textarea, a list one item per line. A field that refers to something in the record (a family
concern, a request, an open episode, a depot prescription, a member of staff, a team) takes its choices from the
record services, and a posted value must be one of them.

``GET /people/{nhs_number}/record/{kind}`` shows the form. ``POST`` reads it, validates it with the schema and the
form's own check (the risk assessment asks for a rationale when it drops a risk the history holds, R17), writes it
through the service in one unit of work (which reconciles the safety net for the person before it commits), and
redirects (303) to the person page with a success banner. Bad input: the NHS error summary, every field kept,
nothing written. Both routes declare ``requires("person.record")``."""

from __future__ import annotations

import re
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import Enum, StrEnum
from typing import Annotated, Any, Union, get_args, get_origin

from annotated_types import MaxLen
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import AwareDatetime, BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

from safetynet.access.decide import CLINICAL
from safetynet.audit import service as audit
from safetynet.core.clock import LONDON
from safetynet.core.context import Context
from safetynet.core.errors import NotFound, Problem, ValidationFailed
from safetynet.record.careplans import service as careplans
from safetynet.record.careplans.schemas import CarePlanReviewIn
from safetynet.record.carers import service as carers
from safetynet.record.carers.schemas import FamilyConcernIn, FamilyConcernResponseIn
from safetynet.record.common import FactIn
from safetynet.record.contacts import service as contacts
from safetynet.record.contacts.schemas import AppointmentIn, ContactIn
from safetynet.record.decisions import service as decisions
from safetynet.record.decisions.schemas import CapacityAssessmentIn, MdtDecisionIn
from safetynet.record.episodes import service as episodes
from safetynet.record.episodes.models import EpisodeStatus
from safetynet.record.episodes.schemas import KeyWorkerIn
from safetynet.record.medication import service as medication
from safetynet.record.medication.models import Route
from safetynet.record.medication.schemas import AdherenceReportIn, DepotAdministrationIn
from safetynet.record.org import service as org
from safetynet.record.org.models import Staff
from safetynet.record.partners import service as partners
from safetynet.record.partners.schemas import PartnerInformationIn
from safetynet.record.patients import service as patients
from safetynet.record.requests import service as requests
from safetynet.record.requests.schemas import CrossTeamRequestIn, CrossTeamResponseIn
from safetynet.record.risk import service as risk
from safetynet.record.risk.history import dropped_categories
from safetynet.record.risk.models import FactorStatus, RiskCategory, RiskEvent
from safetynet.record.risk.schemas import RiskAssessmentIn, RiskEventIn
from safetynet.web import deps
from safetynet.web.auth import SignedIn, requires
from safetynet.web.templating import day, render, templates, words

router = APIRouter(prefix="/people", include_in_schema=False)

Choices = list[tuple[str, str]]  # (value, label)
FromRecord = Callable[[Context, str, SignedIn], Choices]  # (ctx, patient id, user) -> the record's choices
Check = Callable[[Context, str, dict[str, Any]], dict[str, str]]  # a form's own check before it writes
MANY = 7  # more choices than this: a select rather than radios
QUESTION_WORDS = frozenset({"who", "what", "when", "how", "which", "whether"})


class Widget(StrEnum):
    """How a question is asked; ``question`` derives it from the schema field's type."""

    MOMENT = "moment"  # date input and a time (24-hour clock), London time
    DATE = "date"  # date input
    RADIOS = "radios"
    SELECT = "select"
    CHOICE = "choice"  # from the record: radios, or a select when there are many
    YES_NO = "yes_no"
    INPUT = "input"
    TEXTAREA = "textarea"
    LINES = "lines"  # a list, one item per line
    FACTORS = "factors"  # the risk assessment's categories, each present / absent / not assessed


# Codes whose words alone would not read well on a form.
LABELS = {
    "dna": "Did not attend",
    "no_access": "No access (no answer at a home visit)",
    "late_not_seen": "Arrived late and could not be seen",
    "gp": "GP",
    "cto": "Community treatment order (CTO)",
    "mdt": "MDT",
    "self": "The person themself",
    "not_assessed": "Not assessed",
    "liaison_diversion": "Liaison and diversion",
    "prescription_not_collected": "Prescription not collected",
}


def label_of(code: str) -> str:
    """A stored code as a form shows it: ``violence_to_others`` -> ``Violence to others``."""
    return LABELS.get(code) or words(code).capitalize()


@dataclass(frozen=True, slots=True)
class Field:
    """One question on a form: the schema field it fills, its words and its widget."""

    name: str
    label: str
    widget: Widget
    required: bool
    hint: str = ""
    choices: Choices = field(default_factory=list)  # an enum's, fixed
    from_record: FromRecord | None = None  # or the record's, read when the form is shown or posted
    none_available: str = ""  # said instead of the question when the record offers no choice
    max_length: int | None = None
    not_in_future: bool = False

    @property
    def anchor(self) -> str:
        """The id of the input the error summary links to (the first of a group)."""
        if self.widget in (Widget.MOMENT, Widget.DATE):
            return f"{self.name}-day"
        if self.widget is Widget.FACTORS:
            return f"factors-{next(iter(RiskCategory))}"
        return self.name

    @property
    def missing(self) -> str:
        """What to say when the question is not answered: "Select the outcome", "Enter when it happened"."""
        if self.widget is Widget.YES_NO:
            return f"Answer yes or no: {self.label}"
        verb = "Select" if self.widget in (Widget.RADIOS, Widget.SELECT, Widget.CHOICE) else "Enter"
        asked = self.label.removesuffix(" (optional)")
        asked = asked[0].lower() + asked[1:]
        return f"{verb} {asked if asked.split()[0] in QUESTION_WORDS else 'the ' + asked}"


@dataclass(frozen=True, slots=True)
class RecordingForm:
    """One kind of fact: its schema, the service that writes it, its title and its questions."""

    kind: str  # in the address: /people/{nhs_number}/record/{kind}
    title: str
    schema: type[FactIn]
    write: Callable[[Context, str, Any], Any]  # (ctx, patient id, schema instance) -> the fact written
    fields: tuple[Field, ...]
    intro: str = ""
    button: str = "Save"
    shows_risk_history: bool = False
    check: Check | None = None
    fixed: Callable[[SignedIn], dict[str, Any]] = lambda user: {"team_id": user.team_id}

    @property
    def purpose(self) -> str:
        """Why the record is read and written, for the audit trail."""
        return f"direct care: recording {_lower_first(self.title)}"


def _bare(annotation: Any) -> Any:
    """``X | None`` -> ``X``; ``Annotated[X, ...]`` -> ``X``."""
    if get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) in (Union, types.UnionType):
        (annotation,) = [a for a in get_args(annotation) if a is not type(None)]
    return annotation


def question(
    schema: type[BaseModel],
    name: str,
    label: str,
    *,
    hint: str = "",
    widget: Widget | None = None,
    from_record: FromRecord | None = None,
    none_available: str = "",
    required: bool | None = None,
) -> Field:
    """A field of ``schema`` as a question, its widget, choices and limits derived from the schema."""
    info = schema.model_fields[name]
    kind = _bare(info.annotation)
    origin = get_origin(kind) or kind
    choices: Choices = []
    limit = next((m.max_length for m in info.metadata if isinstance(m, MaxLen)), None)
    if widget is None:
        if from_record is not None:
            widget = Widget.CHOICE
        elif kind is bool:
            widget = Widget.YES_NO
        elif isinstance(kind, type) and issubclass(kind, Enum):
            choices = [(str(member.value), label_of(str(member.value))) for member in kind]
            widget = Widget.RADIOS if len(choices) <= MANY else Widget.SELECT
        elif kind is AwareDatetime or (isinstance(kind, type) and issubclass(kind, datetime)):
            widget = Widget.MOMENT
        elif kind is date:
            widget = Widget.DATE
        elif origin is list:
            widget = Widget.LINES
        elif origin is dict:
            widget = Widget.FACTORS
        else:
            widget = Widget.INPUT if limit is not None and limit <= 200 else Widget.TEXTAREA
    return Field(
        name=name,
        label=label,
        widget=widget,
        # A yes / no is always asked (the schema's default would otherwise answer for the clinician).
        required=(info.is_required() or widget is Widget.YES_NO) if required is None else required,
        hint=hint,
        choices=choices,
        from_record=from_record,
        none_available=none_available,
        max_length=limit,
        not_in_future=name == "occurred_at",
    )


def when(schema: type[BaseModel], label: str = "When it happened") -> Field:
    """Every fact's ``occurred_at``: when it happened (London time; when it was recorded is the clock's)."""
    return question(schema, "occurred_at", label, hint="For example, 27 3 2021 and 14:30 (UK time)")


def note(schema: type[BaseModel]) -> Field:
    """Every fact's optional free-text note."""
    return question(schema, "note", "Note (optional)", widget=Widget.TEXTAREA)


# The record's choices ---------------------------------------------------------------------------------------------


def _team_names(ctx: Context) -> dict[str, str]:
    return {t.id: t.name for t in org.list_teams(ctx)}


def unanswered_concerns(ctx: Context, patient_id: str, _user: SignedIn) -> Choices:
    """The person's family concerns still owed a response."""
    return [
        (c.fact_id, f"From {c.raised_by} by {words(c.channel)}, {day(c.occurred_at)}: {_short(c.text)}")
        for c in carers.unanswered_concerns(ctx, patient_id)
    ]


def unanswered_requests(ctx: Context, patient_id: str, _user: SignedIn) -> Choices:
    """The requests between teams about the person still owed an answer."""
    teams = _team_names(ctx)
    return [
        (
            r.fact_id,
            f"{teams.get(r.team_id or '', 'A team')} asked {teams.get(r.to_team_id, '?')} about "
            f"{_lower_first(label_of(r.ask))}, {day(r.occurred_at)}",
        )
        for r in requests.unanswered(ctx, patient_id)
    ]


def depot_prescriptions(ctx: Context, patient_id: str, _user: SignedIn) -> Choices:
    """The person's current depot prescriptions (a dose is recorded against one)."""
    return [
        (p.drug, f"{p.drug}{f' {p.dose}' if p.dose else ''}, every {p.interval_days} days")
        for p in medication.prescriptions(ctx, patient_id)
        if p.route == Route.DEPOT and p.stopped_at is None
    ]


def open_episodes(ctx: Context, patient_id: str, _user: SignedIn) -> Choices:
    """The person's open episodes of care (a key worker is named for one)."""
    teams = _team_names(ctx)
    return [
        (e.fact_id, f"{teams.get(e.team_id or '', '?')}, open since {day(e.occurred_at)}")
        for e in episodes.episodes(ctx, patient_id)
        if e.status == EpisodeStatus.ACTIVE
    ]


def _clinicians(ctx: Context, team_ids: list[str]) -> list[Staff]:
    found: dict[str, Staff] = {}
    for team_id in team_ids:
        for staff in org.team_staff(ctx, team_id):
            if staff.role in CLINICAL:
                found[staff.id] = staff
    return sorted(found.values(), key=lambda s: s.name)


def clinicians_for_person(ctx: Context, patient_id: str, user: SignedIn) -> Choices:
    """Clinicians of the person's open teams (and the user's): who could be their key worker."""
    team_ids = [e.team_id for e in episodes.episodes(ctx, patient_id) if e.status == EpisodeStatus.ACTIVE and e.team_id]
    teams = _team_names(ctx)
    wanted = list(dict.fromkeys([*team_ids, *([user.team_id] if user.team_id else [])]))
    return [(s.id, f"{s.name} ({words(s.role)}, {teams.get(s.team_id or '', '?')})") for s in _clinicians(ctx, wanted)]


def second_reviewers(ctx: Context, _patient_id: str, user: SignedIn) -> Choices:
    """Clinicians of the user's team, but not the user: who could review an assessment a second time."""
    staff = _clinicians(ctx, [user.team_id] if user.team_id else [])
    return [(s.id, f"{s.name} ({words(s.role)})") for s in staff if s.id != user.staff_id]


def teams(ctx: Context, _patient_id: str, _user: SignedIn) -> Choices:
    """The trust's active teams."""
    return [(t.id, t.name) for t in org.list_teams(ctx) if t.active]


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# The risk assessment's own check (R17) --------------------------------------------------------------------------


def rationale_for_dropped_history(ctx: Context, patient_id: str, data: dict[str, Any]) -> dict[str, str]:
    """A category the risk history holds, marked absent or not assessed, needs a written rationale: refuse without
    one, naming the history. The same rule (``record.risk.history``) raises SN04 for assessments made elsewhere."""
    if (data.get("rationale") or "").strip():
        return {}
    factors: dict[str, str] = data.get("factors") or {}
    at = data.get("occurred_at") or ctx.clock.now()
    dropped = {
        c: e for c, e in dropped_categories(risk.risk_history(ctx, patient_id), factors, at).items() if c in factors
    }
    if not dropped:
        return {}
    parts = []
    for category, events in dropped.items():
        listed = "; ".join(f"{day(e.occurred_at)}, source {e.source}, {e.harm} harm" for e in events)
        count = f"{len(events)} event{'s' if len(events) > 1 else ''}"
        parts.append(
            f"{label_of(category)} is marked {_lower_first(label_of(factors[category]))} but the risk history holds "
            f"{count} ({listed})"
        )
    return {"rationale": ". ".join(parts) + ". Write the rationale for this, or mark it present"}


# The table ------------------------------------------------------------------------------------------------------


def _as_user(extra: Callable[[SignedIn], dict[str, Any]]) -> Callable[[SignedIn], dict[str, Any]]:
    return lambda user: {"team_id": user.team_id} | extra(user)


FORMS: dict[str, RecordingForm] = {
    form.kind: form
    for form in (
        RecordingForm(
            kind="contact",
            title="Contact outcome",
            schema=ContactIn,
            write=contacts.record_contact,
            intro="A contact with the person, planned or not, and how it went. You are recorded as the clinician.",
            fields=(
                when(ContactIn, "When the contact was (or was due)"),
                question(ContactIn, "planned", "Was it a planned contact?"),
                question(ContactIn, "outcome", "Outcome"),
                question(ContactIn, "mode", "How was the contact made?"),
                note(ContactIn),
            ),
            fixed=_as_user(lambda user: {"staff_id": user.staff_id}),
        ),
        RecordingForm(
            kind="appointment",
            title="Appointment booked",
            schema=AppointmentIn,
            write=contacts.book_appointment,
            intro="A planned contact: when it was booked and when it is for.",
            fields=(
                when(AppointmentIn, "When it was booked"),
                question(
                    AppointmentIn, "due_at", "When the appointment is for", hint="For example, 6 4 2021 and 10:00"
                ),
                question(AppointmentIn, "mode", "How will the contact be made?"),
                note(AppointmentIn),
            ),
            fixed=_as_user(lambda user: {"staff_id": user.staff_id}),
        ),
        RecordingForm(
            kind="family-concern",
            title="Family concern",
            schema=FamilyConcernIn,
            write=carers.record_concern,
            intro="Every contact from a family member or carer is a concern that is owed a recorded response (R6).",
            fields=(
                when(FamilyConcernIn, "When they got in touch"),
                question(FamilyConcernIn, "raised_by", "Who raised it", hint="Their name and relationship"),
                question(FamilyConcernIn, "channel", "How did they get in touch?"),
                question(FamilyConcernIn, "text", "What they said"),
                note(FamilyConcernIn),
            ),
        ),
        RecordingForm(
            kind="family-concern-response",
            title="Response to a family concern",
            schema=FamilyConcernResponseIn,
            write=carers.respond_to_concern,
            fields=(
                question(
                    FamilyConcernResponseIn,
                    "concern_fact_id",
                    "Which concern",
                    from_record=unanswered_concerns,
                    none_available="Every family concern has a recorded response.",
                ),
                when(FamilyConcernResponseIn, "When you responded"),
                question(
                    FamilyConcernResponseIn,
                    "text",
                    "The response",
                    hint="Who was contacted, what was said and what happens next",
                ),
                note(FamilyConcernResponseIn),
            ),
        ),
        RecordingForm(
            kind="risk-event",
            title="Risk event",
            schema=RiskEventIn,
            write=risk.record_risk_event,
            intro="Something that happened. Risk history is permanent: a mistake is later marked entered in error, "
            "never removed (R1).",
            shows_risk_history=True,
            fields=(
                when(RiskEventIn),
                question(RiskEventIn, "category", "Kind of risk"),
                question(RiskEventIn, "harm", "Harm"),
                question(RiskEventIn, "source", "Source", hint="Where the team learnt of it"),
                question(RiskEventIn, "description", "What happened"),
                note(RiskEventIn),
            ),
        ),
        RecordingForm(
            kind="risk-assessment",
            title="Risk assessment",
            schema=RiskAssessmentIn,
            write=risk.record_assessment,
            intro="Each kind of risk present, absent or not assessed, with the formulation and the safety plan. No "
            "score: the history beside the form is what the assessment must account for (R3, R17).",
            shows_risk_history=True,
            check=rationale_for_dropped_history,
            button="Save the assessment",
            fields=(
                when(RiskAssessmentIn, "When the assessment was made"),
                question(RiskAssessmentIn, "factors", "Risk factors"),
                question(
                    RiskAssessmentIn,
                    "rationale",
                    "Rationale",
                    hint="Needed when a kind of risk the history holds is marked absent or not assessed: say why.",
                ),
                question(
                    RiskAssessmentIn,
                    "second_reviewer_id",
                    "Second reviewer (optional)",
                    hint="R17: a downgrade is reviewed by a second clinician.",
                    from_record=second_reviewers,
                    required=False,
                ),
                question(RiskAssessmentIn, "formulation", "Formulation"),
                question(RiskAssessmentIn, "triggers", "Triggers", widget=Widget.TEXTAREA),
                question(RiskAssessmentIn, "relapse_signature", "Relapse signature", widget=Widget.TEXTAREA),
                question(RiskAssessmentIn, "protective_factors", "Protective factors", widget=Widget.TEXTAREA),
                question(RiskAssessmentIn, "safety_plan", "Is there a safety plan, made with the person?"),
                question(RiskAssessmentIn, "safety_plan_detail", "Safety plan", widget=Widget.TEXTAREA),
                question(RiskAssessmentIn, "next_review", "Next review (optional)", hint="For example, 30 4 2021"),
                note(RiskAssessmentIn),
            ),
        ),
        RecordingForm(
            kind="depot",
            title="Depot given or refused",
            schema=DepotAdministrationIn,
            write=medication.record_depot,
            intro="A dose of a depot (long-acting injection) given or refused. You are recorded as the clinician.",
            fields=(
                question(
                    DepotAdministrationIn,
                    "drug",
                    "Depot prescription",
                    from_record=depot_prescriptions,
                    none_available="There is no current depot prescription.",
                ),
                when(DepotAdministrationIn, "When it was given or refused"),
                question(DepotAdministrationIn, "outcome", "Outcome", hint="Given or refused"),
                note(DepotAdministrationIn),
            ),
            fixed=_as_user(lambda user: {"staff_id": user.staff_id}),
        ),
        RecordingForm(
            kind="adherence",
            title="Adherence report",
            schema=AdherenceReportIn,
            write=medication.record_adherence,
            intro="What anyone reports about taking medication, including tablets found unused (R4).",
            fields=(
                when(AdherenceReportIn, "When it was reported"),
                question(AdherenceReportIn, "status", "Adherence", hint="Is the person taking the medication?"),
                question(AdherenceReportIn, "source", "Who reported it"),
                question(AdherenceReportIn, "detail", "Detail (optional)", widget=Widget.TEXTAREA),
                note(AdherenceReportIn),
            ),
        ),
        RecordingForm(
            kind="partner-information",
            title="Information from a partner",
            schema=PartnerInformationIn,
            write=partners.record_partner_information,
            intro="Police, court, GP or social care information: when it happened (the date it was received is "
            "recorded now), and the information-sharing decision (R7).",
            fields=(
                when(PartnerInformationIn, "When it happened"),
                question(PartnerInformationIn, "agency", "Agency", hint="Who the information is from"),
                question(PartnerInformationIn, "kind", "Kind of information"),
                question(PartnerInformationIn, "violence", "Did it involve violence?"),
                question(PartnerInformationIn, "weapon", "Did it involve a weapon?"),
                question(PartnerInformationIn, "detail", "Detail"),
                question(PartnerInformationIn, "sharing_decision", "Information-sharing decision", required=True),
                question(
                    PartnerInformationIn,
                    "lawful_basis",
                    "Lawful basis for sharing",
                    hint="Needed when the information is shared",
                    widget=Widget.TEXTAREA,
                ),
                note(PartnerInformationIn),
            ),
        ),
        RecordingForm(
            kind="cross-team-request",
            title="Request to another team",
            schema=CrossTeamRequestIn,
            write=requests.make_request,
            intro="A request needs an explicit answer with a rationale from the receiving team (R9).",
            fields=(
                when(CrossTeamRequestIn, "When the request was made"),
                question(CrossTeamRequestIn, "team_id", "Asking team", from_record=teams),
                question(CrossTeamRequestIn, "to_team_id", "Team asked", from_record=teams),
                question(CrossTeamRequestIn, "ask", "What is asked"),
                question(CrossTeamRequestIn, "detail", "Detail (optional)", widget=Widget.TEXTAREA),
                note(CrossTeamRequestIn),
            ),
        ),
        RecordingForm(
            kind="cross-team-response",
            title="Answer to a request between teams",
            schema=CrossTeamResponseIn,
            write=requests.respond,
            fields=(
                question(
                    CrossTeamResponseIn,
                    "request_fact_id",
                    "Which request",
                    from_record=unanswered_requests,
                    none_available="Every request between teams has an answer.",
                ),
                when(CrossTeamResponseIn, "When it was answered"),
                question(CrossTeamResponseIn, "answer", "Answer"),
                question(CrossTeamResponseIn, "rationale", "Rationale"),
                note(CrossTeamResponseIn),
            ),
        ),
        RecordingForm(
            kind="mdt-decision",
            title="MDT decision",
            schema=MdtDecisionIn,
            write=decisions.record_decision,
            intro="The options considered, the rationale, who took part and the person's and family's views (R10).",
            fields=(
                when(MdtDecisionIn, "When it was decided"),
                question(MdtDecisionIn, "topic", "Topic", hint="What the decision is about"),
                question(MdtDecisionIn, "decision", "Decision"),
                question(MdtDecisionIn, "rationale", "Rationale"),
                question(MdtDecisionIn, "options_considered", "Options considered", widget=Widget.TEXTAREA),
                question(MdtDecisionIn, "participants", "Who took part", hint="One name and role per line"),
                question(MdtDecisionIn, "person_view", "The person's view", widget=Widget.TEXTAREA),
                question(MdtDecisionIn, "family_view", "The family's view", widget=Widget.TEXTAREA),
                note(MdtDecisionIn),
            ),
        ),
        RecordingForm(
            kind="capacity",
            title="Capacity assessment",
            schema=CapacityAssessmentIn,
            write=decisions.record_capacity,
            fields=(
                when(CapacityAssessmentIn, "When it was assessed"),
                question(
                    CapacityAssessmentIn,
                    "decision_about",
                    "The decision capacity was assessed for",
                    hint="For example, whether to accept depot medication",
                    widget=Widget.TEXTAREA,
                ),
                question(CapacityAssessmentIn, "outcome", "Outcome"),
                note(CapacityAssessmentIn),
            ),
        ),
        RecordingForm(
            kind="care-plan-review",
            title="Care plan review",
            schema=CarePlanReviewIn,
            write=careplans.record_review,
            fields=(
                when(CarePlanReviewIn, "When the care plan was reviewed"),
                question(CarePlanReviewIn, "crisis_plan", "Does it include a crisis plan?"),
                question(CarePlanReviewIn, "shared_with_carer", "Was it shared with the carer?"),
                question(CarePlanReviewIn, "summary", "Summary (optional)", widget=Widget.TEXTAREA),
                note(CarePlanReviewIn),
            ),
        ),
        RecordingForm(
            kind="key-worker",
            title="Key worker change",
            schema=KeyWorkerIn,
            write=episodes.assign_key_worker,
            intro="The new key worker for an open episode; whoever held it before stops at the same moment (R8).",
            fields=(
                question(
                    KeyWorkerIn,
                    "episode_fact_id",
                    "Episode of care",
                    from_record=open_episodes,
                    none_available="The person has no open episode of care.",
                ),
                question(KeyWorkerIn, "staff_id", "New key worker", from_record=clinicians_for_person),
                when(KeyWorkerIn, "From when"),
                note(KeyWorkerIn),
            ),
        ),
    )
}

# The person page lists the forms ("Record") and shows the success banner after one is saved.
templates.env.globals["recording_forms"] = [(f.kind, f.title) for f in FORMS.values()]


# Reading a posted form --------------------------------------------------------------------------------------------

TIME = re.compile(r"^\s*(\d{1,2})[:.](\d{2})\s*$")


def _date(values: Mapping[str, str], name: str) -> date | str | None:
    """The day of a date input, None if left blank, or what is wrong with it."""
    parts = [values.get(f"{name}-{p}", "").strip() for p in ("day", "month", "year")]
    if not any(parts):
        return None
    if not all(p.isdigit() for p in parts) or len(parts[2]) != 4:
        return "must be a real date, with a day, month and 4-digit year"
    try:
        return date(int(parts[2]), int(parts[1]), int(parts[0]))
    except ValueError:
        return "must be a real date"


def _read(form: RecordingForm, values: Mapping[str, str], now: datetime) -> tuple[dict[str, Any], dict[str, str]]:
    """The posted values as the schema's input (blank optional answers left out), and what the widgets themselves
    find wrong (a date that is not a date, a question not answered)."""
    data: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for f in form.fields:
        raw = values.get(f.name, "").strip()
        if f.widget in (Widget.MOMENT, Widget.DATE):
            day_of = _date(values, f.name)
            clock = values.get(f"{f.name}-time", "").strip()
            if isinstance(day_of, str):
                errors[f.name] = f"{f.label.removesuffix(' (optional)')} {day_of}"
            elif day_of is None:
                if f.required or clock:
                    errors[f.name] = f.missing
            elif f.widget is Widget.DATE:
                data[f.name] = day_of
            else:
                matched = TIME.match(clock)
                if not matched or int(matched[1]) > 23 or int(matched[2]) > 59:
                    errors[f.name] = f"{f.label}: enter the time on the 24-hour clock, like 14:30"
                else:
                    moment = datetime.combine(day_of, time(int(matched[1]), int(matched[2])), tzinfo=LONDON)
                    if f.not_in_future and moment > now + timedelta(minutes=1):
                        errors[f.name] = f"{f.label} cannot be in the future"
                    data[f.name] = moment
        elif f.widget is Widget.FACTORS:
            factors: dict[str, str] = {}
            for category in RiskCategory:
                answer = values.get(f"factors-{category}", "")
                if answer in set(FactorStatus):
                    factors[category] = answer
                else:
                    errors[f"factors-{category}"] = (
                        f"Select present, absent or not assessed for {label_of(category).lower()}"
                    )
            data[f.name] = factors
        elif f.widget is Widget.YES_NO:
            if raw in ("yes", "no"):
                data[f.name] = raw == "yes"
            elif f.required:
                errors[f.name] = f.missing
        elif f.widget is Widget.LINES:
            data[f.name] = [line.strip() for line in raw.splitlines() if line.strip()]
        elif raw:
            if f.choices and raw not in {value for value, _ in f.choices}:
                errors[f.name] = f.missing
            else:
                data[f.name] = raw
        elif f.required:
            errors[f.name] = f.missing
    return data, errors


def _plain(f: Field, error: Mapping[str, Any]) -> str:
    """Pydantic's message in words a clinician can act on."""
    kind = error.get("type", "")
    if kind in ("missing", "string_too_short", "enum", "literal_error"):
        return f.missing
    if kind == "string_too_long" and f.max_length:
        return f"{f.label} must be {f.max_length:,} characters or fewer"
    return str(error.get("msg", "is not valid")).removeprefix("Value error, ")


def _validate(form: RecordingForm, data: dict[str, Any], errors: dict[str, str]) -> BaseModel | None:
    """The schema's own validation; its problems added to ``errors`` (those a widget has already named aside)."""
    try:
        return form.schema.model_validate(data)
    except ValidationError as exc:
        by_name = {f.name: f for f in form.fields}
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else "form"
            if name in errors or any(key.startswith(f"{name}-") for key in errors):
                continue
            f = by_name.get(name)
            errors[name if f else "form"] = _plain(f, error) if f else str(error["msg"]).removeprefix("Value error, ")
        return None


class _Refused(Exception):
    """Problems found inside the unit of work: raised so that it rolls back (nothing written)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def _choices(ctx: Context, form: RecordingForm, patient_id: str, user: SignedIn) -> dict[str, Choices]:
    return {f.name: f.from_record(ctx, patient_id, user) for f in form.fields if f.from_record is not None}


def _save(
    request: Request, user: SignedIn, form: RecordingForm, nhs_number: str, values: dict[str, str]
) -> dict[str, str]:
    """Validate and write in one unit of work; the problems (and nothing written), or {} once it has committed."""
    now = deps.clock(request).now()
    data, errors = _read(form, values, now)
    data = form.fixed(user) | data
    model = _validate(form, data, errors)
    try:
        with deps.unit_of_work(request, user.actor(form.purpose)) as ctx:
            patient = patients.get(ctx, nhs_number)
            choices = _choices(ctx, form, patient.id, user)
            for f in form.fields:
                given = values.get(f.name, "").strip()
                if f.name in choices and given and given not in {value for value, _ in choices[f.name]}:
                    errors[f.name] = f.missing
            if form.check is not None:
                errors.update({k: v for k, v in form.check(ctx, patient.id, data).items() if k not in errors})
            if errors or model is None:
                raise _Refused(errors)
            try:
                form.write(ctx, patient.id, model)
            except NotFound as exc:  # something the form referred to has gone: say so on the form
                raise _Refused({"form": str(exc)[0].upper() + str(exc)[1:]}) from exc
    except _Refused as refused:
        return refused.errors
    except ValidationFailed as exc:
        return _problems(form, exc.problems)
    return {}


def _problems(form: RecordingForm, problems: list[Problem]) -> dict[str, str]:
    """A service's problems on their fields (or on the form, for one no field answers)."""
    names = {f.name for f in form.fields}
    out: dict[str, str] = {}
    for p in problems:
        key = p.field if p.field in names else "form"
        out[key] = f"{out[key]}; {p.message}" if key in out else p.message[0].upper() + p.message[1:]
    return out


# Showing a form -------------------------------------------------------------------------------------------------


def _initial(form: RecordingForm, user: SignedIn, now: datetime) -> dict[str, str]:
    """What a new form starts with: now for a moment, the user's team for a team."""
    local = now.astimezone(LONDON)
    values: dict[str, str] = {}
    for f in form.fields:
        if f.widget is Widget.MOMENT and f.not_in_future:
            values |= {
                f"{f.name}-day": str(local.day),
                f"{f.name}-month": str(local.month),
                f"{f.name}-year": str(local.year),
                f"{f.name}-time": f"{local:%H:%M}",
            }
        elif f.name == "team_id" and user.team_id:
            values[f.name] = user.team_id
    return values


def _error_list(form: RecordingForm, errors: dict[str, str]) -> list[dict[str, str]]:
    """The error summary's items in the order the questions are asked, each linking to its question."""
    items = []
    if "form" in errors:
        items.append({"text": errors["form"], "href": "#record-form"})
    for f in form.fields:
        if f.widget is Widget.FACTORS:
            for category in RiskCategory:
                key = f"factors-{category}"
                if key in errors:
                    items.append({"text": errors[key], "href": f"#{key}"})
            if f.name in errors:
                items.append({"text": errors[f.name], "href": f"#{f.anchor}"})
        elif f.name in errors:
            items.append({"text": errors[f.name], "href": f"#{f.anchor}"})
    return items


def _page(
    request: Request,
    user: SignedIn,
    form: RecordingForm,
    nhs_number: str,
    values: dict[str, str] | None,
    errors: dict[str, str],
) -> Response:
    with deps.unit_of_work(request, user.actor(form.purpose)) as ctx:
        patient = patients.get(ctx, nhs_number)
        person = patients.details(ctx, patient.id)  # audited: someone opened a form on this record
        choices = _choices(ctx, form, patient.id, user)
        history: list[RiskEvent] | None = None
        if form.shows_risk_history:
            history = sorted(risk.risk_history(ctx, patient.id), key=lambda e: e.occurred_at, reverse=True)
            audit.record_read(ctx, entity="risk_history", patient_id=patient.id, detail=f"recording {form.kind}")
        now = ctx.clock.now()
    live = [e for e in history or [] if not e.entered_in_error]
    by_category: dict[str, list[RiskEvent]] = {}
    for event in live:
        by_category.setdefault(event.category, []).append(event)
    return render(
        request,
        "record/form.html",
        {
            "form": form,
            "fields": form.fields,
            "Widget": Widget,
            "categories": [(str(c), label_of(c)) for c in RiskCategory],
            "statuses": [(str(s), label_of(s)) for s in FactorStatus],
            "values": values if values is not None else _initial(form, user, now),
            "errors": errors,
            "error_list": _error_list(form, errors),
            "choices": choices,
            "person": person,
            "nhs": patient.nhs_number,
            "history": history,
            "history_by_category": by_category,
            "many": MANY,
        },
        status=422 if errors else 200,
    )


def _form(kind: str) -> RecordingForm:
    found = FORMS.get(kind)
    if found is None:
        raise NotFound(f"there is no form for recording {kind!r}")
    return found


@router.get("/{nhs_number}/record/{kind}")
def show(
    nhs_number: str, kind: str, request: Request, user: Annotated[SignedIn, requires("person.record")]
) -> Response:
    """The form for recording one kind of fact about this person."""
    return _page(request, user, _form(kind), nhs_number, None, {})


@router.post("/{nhs_number}/record/{kind}")
async def save(
    nhs_number: str, kind: str, request: Request, user: Annotated[SignedIn, requires("person.record")]
) -> Response:
    """Record it, or show the form again with its problems (everything typed kept, nothing written)."""
    form = _form(kind)
    posted = await request.form()
    values = {key: value for key, value in posted.items() if isinstance(value, str) and key != "csrf_token"}
    errors = await run_in_threadpool(_save, request, user, form, nhs_number, values)
    if not errors:
        return RedirectResponse(f"/people/{nhs_number}?recorded={kind}", status_code=303)
    return await run_in_threadpool(_page, request, user, form, nhs_number, values, errors)
