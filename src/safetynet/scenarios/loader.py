"""Writing a scenario's story into the record, event by event, through the record's own services.

Events are applied in the order the service learnt of them (``recorded``, then file order), with the clock set
to that moment, so the record's ``recorded_at`` is the story's, and "as known at" questions see what the team
saw. Teams, wards and staff a scenario names are created as needed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pydantic import ValidationError
from sqlalchemy.orm import Session

from safetynet.core.clock import Clock, FixedClock, SystemClock
from safetynet.core.context import Actor, Context, Role
from safetynet.core.errors import NotFound, Problem, SafetynetError, ValidationFailed
from safetynet.core.facts import known_at
from safetynet.core.ids import IdSource, RandomIds
from safetynet.record.careplans import service as careplans
from safetynet.record.careplans.schemas import CarePlanReviewIn, GpHandoverLetterIn
from safetynet.record.carers import service as carers
from safetynet.record.carers.schemas import CarerIn, FamilyConcernIn, FamilyConcernResponseIn
from safetynet.record.contacts import service as contacts
from safetynet.record.contacts.schemas import AppointmentIn, ContactIn
from safetynet.record.decisions import service as decisions
from safetynet.record.decisions.schemas import CapacityAssessmentIn, MdtDecisionIn
from safetynet.record.diagnoses import service as diagnoses
from safetynet.record.diagnoses.schemas import DiagnosisIn
from safetynet.record.episodes import service as episodes
from safetynet.record.episodes.models import KeyWorkerAllocation
from safetynet.record.episodes.schemas import EpisodeEndIn, EpisodeIn, KeyWorkerIn, ReferralIn
from safetynet.record.legal import service as legal
from safetynet.record.legal.schemas import (
    AdmissionIn,
    CtoEndIn,
    CtoIn,
    CtoRecallIn,
    InpatientDischargeIn,
    LegalStatusChangeIn,
)
from safetynet.record.medication import service as medication
from safetynet.record.medication.schemas import (
    AdherenceReportIn,
    DepotAdministrationIn,
    PrescriptionIn,
    PrescriptionStopIn,
)
from safetynet.record.notes import service as notes
from safetynet.record.notes.schemas import ClinicalNoteIn
from safetynet.record.org import service as org
from safetynet.record.org.models import Organisation, Pathway, Staff, Team
from safetynet.record.org.schemas import OrganisationIn, StaffIn, TeamIn
from safetynet.record.partners import service as partners
from safetynet.record.partners.schemas import PartnerInformationIn
from safetynet.record.patients import service as patients
from safetynet.record.patients.schemas import PatientIn
from safetynet.record.requests import service as requests
from safetynet.record.requests.schemas import CrossTeamRequestIn, CrossTeamResponseIn
from safetynet.record.risk import service as risk
from safetynet.record.risk.schemas import RiskAssessmentIn, RiskEventIn
from safetynet.scenarios import format as fmt

LOADER = Actor(name="Scenario loader", role=Role.SYSTEM, purpose="loading a scenario")
DEFAULT_ORGANISATION = OrganisationIn(ods_code="RZZ", name="Safetynet Synthetic NHS Foundation Trust")


@dataclass
class Loaded:
    """What a load produced: the person, and the fact each event became (by event index)."""

    patient_id: str
    fact_ids: dict[int, str] = field(default_factory=dict)


class Directory:
    """Teams and staff by name, created on first mention (a scenario is self-contained)."""

    def __init__(self, ctx: Context, pathways: dict[str, Pathway]) -> None:
        self.ctx = ctx
        self.pathways = pathways
        self._teams: dict[str, Team] = {}
        self._staff: dict[str, Staff] = {}

    def team(self, name: str, pathway: Pathway | None = None) -> Team:
        key = name.strip().lower()
        if key not in self._teams:
            found = org.find_team(self.ctx, name)
            if found is None:
                organisation = _organisation(self.ctx)
                chosen = pathway or self.pathways.get(key) or _guess_pathway(name)
                found = org.create_team(self.ctx, organisation, TeamIn(name=name.strip(), pathway=chosen))
                self.ctx.session.flush([found])
            self._teams[key] = found
        return self._teams[key]

    def staff(self, name: str, team: str | None = None) -> Staff:
        key = name.strip()
        if key not in self._staff:
            found = org.find_staff(self.ctx, key)
            if found is None:
                if team:
                    self.team(team)
                found = org.create_staff(self.ctx, StaffIn(name=key, role=Role.KEY_WORKER, team=team))
                self.ctx.session.flush([found])
            self._staff[key] = found
        return self._staff[key]


class Loading:
    """A scenario being written into the record, one event at a time (so callers can act between events, as the
    incremental safety net does). ``load`` runs it to the end."""

    def __init__(
        self,
        session: Session,
        scenario: fmt.Scenario,
        *,
        ids: IdSource | None = None,
        actor: Actor = LOADER,
        clock: Clock | None = None,
    ) -> None:
        self.scenario = scenario
        self.actor = actor
        self.order = sorted(range(len(scenario.events)), key=lambda i: (scenario.events[i].recorded_at, i))
        first_known = scenario.events[self.order[0]].recorded_at if self.order else (clock or SystemClock()).now()
        self.clock = FixedClock(first_known)
        self.ctx = Context(session, actor, self.clock, ids or RandomIds())
        pathways = {e.team.strip().lower(): e.pathway for e in scenario.events if isinstance(e, fmt.EpisodeStart)}
        self.directory = Directory(self.ctx, pathways)
        p = scenario.patient
        patient = patients.register(
            self.ctx,
            PatientIn(nhs_number=p.nhs_number, name=p.name, born=p.born, sex=p.sex, gp_practice=p.gp_practice),
        )
        self.loaded = Loaded(patient_id=patient.id)

    def apply(self, index: int) -> None:
        """Write event ``index`` with the clock at its recorded moment."""
        event = self.scenario.events[index]
        self.clock.set(event.recorded_at)
        acting = self.ctx.as_actor(_actor(self.directory, event, self.actor))
        try:
            fact_id = APPLY[event.type](acting, self.directory, self.loaded, event)
        except ValidationFailed as exc:
            raise ValidationFailed(Problem(f"events.{p.field}", p.message, index) for p in exc.problems) from None
        except ValidationError as exc:  # the record's own input rules, stricter than the file format in places
            raise ValidationFailed(
                Problem(f"events.{'.'.join(str(part) for part in e['loc'])}", e["msg"], index) for e in exc.errors()
            ) from None
        except (NotFound, SafetynetError) as exc:
            raise ValidationFailed([Problem("events", str(exc), index)]) from None
        if fact_id is not None:
            self.loaded.fact_ids[index] = fact_id


def load(session: Session, scenario: fmt.Scenario, *, ids: IdSource | None = None, actor: Actor = LOADER) -> Loaded:
    """Write the scenario into the record in the caller's unit of work. Raises ValidationFailed (nothing kept
    once the caller rolls back) naming the first event the record refused."""
    loading = Loading(session, scenario, ids=ids, actor=actor)
    for index in loading.order:
        loading.apply(index)
    return loading.loaded


def _actor(directory: Directory, event: fmt._Event, default: Actor) -> Actor:
    if not event.by:
        return default
    staff = directory.staff(event.by, event.team)
    return Actor(name=staff.name, role=Role(staff.role), staff_id=staff.id, purpose=default.purpose)


def _organisation(ctx: Context) -> Organisation:
    try:
        return org.the_organisation(ctx)
    except NotFound:
        created = org.create_organisation(ctx, DEFAULT_ORGANISATION)
        ctx.session.flush([created])
        return created


def _guess_pathway(name: str) -> Pathway:
    lowered = name.lower()
    for words, pathway in (
        (("eip", "early intervention"), Pathway.EIP),
        (("crisis", "home treatment"), Pathway.CRISIS),
        (("aot", "assertive"), Pathway.ASSERTIVE_OUTREACH),
        (("liaison",), Pathway.LIAISON),
        (("ward", "inpatient", "unit"), Pathway.INPATIENT),
    ):
        if any(word in lowered for word in words):
            return pathway
    return Pathway.CMHT


# --- one applier per event type -------------------------------------------------------------------------------

Applier = Callable[[Context, Directory, Loaded, fmt._Event], str | None]


def _team_id(d: Directory, event: fmt._Event) -> str | None:
    return d.team(event.team).id if event.team else None


def _common(d: Directory, event: fmt._Event) -> dict[str, object]:
    return {"occurred_at": event.at, "team_id": _team_id(d, event), "note": event.note}


def _referral(ctx: Context, d: Directory, loaded: Loaded, e: fmt._Event) -> str:
    assert isinstance(e, fmt.ReferralAccepted)
    return episodes.record_referral(ctx, loaded.patient_id, ReferralIn(**_common(d, e))).fact_id


def _episode_start(ctx: Context, d: Directory, loaded: Loaded, e: fmt._Event) -> str:
    assert isinstance(e, fmt.EpisodeStart)
    d.team(e.team, e.pathway)
    return episodes.start_episode(ctx, loaded.patient_id, EpisodeIn(**_common(d, e))).fact_id


def _open_episode(ctx: Context, d: Directory, loaded: Loaded, team: str) -> str:
    episode = episodes.open_episode(ctx, loaded.patient_id, d.team(team).id)
    if episode is None:
        raise ValidationFailed([Problem("team", f"no open episode with {team}")])
    return episode.fact_id


def _episode_end(ctx: Context, d: Directory, loaded: Loaded, e: fmt._Event) -> str:
    assert isinstance(e, fmt.EpisodeEnd)
    episode_fact_id = _open_episode(ctx, d, loaded, e.team)
    data = EpisodeEndIn(
        ended_at=e.at,
        reason=e.reason,
        destination=e.destination,
        override_rationale=e.override_rationale,
    )
    return episodes.end_episode(ctx, episode_fact_id, data).fact_id


def _keyworker_assigned(ctx: Context, d: Directory, loaded: Loaded, e: fmt._Event) -> str:
    assert isinstance(e, fmt.KeyworkerAssigned)
    data = KeyWorkerIn(
        **_common(d, e),
        episode_fact_id=_open_episode(ctx, d, loaded, e.team),
        staff_id=d.staff(e.staff, e.team).id,
    )
    return episodes.assign_key_worker(ctx, loaded.patient_id, data).fact_id


def _keyworker_ended(ctx: Context, d: Directory, loaded: Loaded, e: fmt._Event) -> str:
    assert isinstance(e, fmt.KeyworkerEnded)
    staff = d.staff(e.staff, e.team)
    team = d.team(e.team)
    allocations = list(
        ctx.session.scalars(
            known_at(KeyWorkerAllocation).where(
                KeyWorkerAllocation.patient_id == loaded.patient_id,
                KeyWorkerAllocation.staff_id == staff.id,
                KeyWorkerAllocation.team_id == team.id,
            )
        )
    )
    current = [a for a in allocations if a.ended_at is None]
    if current:
        return episodes.end_key_worker(ctx, current[0].fact_id, e.at).fact_id
    # Ending the episode already ended its allocation; saying so again changes nothing.
    already = [a for a in allocations if a.ended_at is not None and a.ended_at <= e.at]
    if already:
        return already[-1].fact_id
    raise ValidationFailed([Problem("staff", f"{e.staff} is not the key worker with {e.team}")])


def _contact(ctx: Context, d: Directory, loaded: Loaded, e: fmt._Event) -> str:
    assert isinstance(e, fmt.ContactEvent)
    common = _common(d, e)
    if common["team_id"] is None:
        open_now = [ep for ep in episodes.episodes(ctx, loaded.patient_id) if ep.status == "active"]
        common["team_id"] = open_now[-1].team_id if open_now else None
    staff_id = d.staff(e.by, e.team).id if e.by else None
    data = ContactIn(**common, outcome=e.outcome, mode=e.mode, planned=e.planned, staff_id=staff_id)
    return contacts.record_contact(ctx, loaded.patient_id, data).fact_id


def _appointment(ctx: Context, d: Directory, loaded: Loaded, e: fmt._Event) -> str:
    assert isinstance(e, fmt.AppointmentBooked)
    data = AppointmentIn(**_common(d, e), due_at=e.for_, mode=e.mode)
    return contacts.book_appointment(ctx, loaded.patient_id, data).fact_id


def _admission(ctx: Context, d: Directory, loaded: Loaded, e: fmt._Event) -> str:
    assert isinstance(e, fmt.AdmissionEvent)
    ward = d.team(e.ward, Pathway.INPATIENT)
    data = AdmissionIn(occurred_at=e.at, note=e.note, ward_id=ward.id, legal_status=e.legal_status)
    return legal.admit(ctx, loaded.patient_id, data).fact_id


def _legal_status_change(ctx: Context, d: Directory, loaded: Loaded, e: fmt._Event) -> str:
    assert isinstance(e, fmt.LegalStatusChangeEvent)
    data = LegalStatusChangeIn(**_common(d, e), legal_status=e.code)
    return legal.change_legal_status(ctx, loaded.patient_id, data).fact_id


def _inpatient_discharge(ctx: Context, d: Directory, loaded: Loaded, e: fmt._Event) -> str:
    assert isinstance(e, fmt.InpatientDischarge)
    data = InpatientDischargeIn(
        discharged_at=e.at, crisis_team_accepted=e.crisis_team_accepted, carer_informed=e.carer_informed
    )
    return legal.discharge_from_ward(ctx, loaded.patient_id, data).fact_id


def _cto_start(ctx: Context, d: Directory, loaded: Loaded, e: fmt._Event) -> str:
    assert isinstance(e, fmt.CtoStart)
    data = CtoIn(**_common(d, e), expires_at=e.expires, conditions=e.conditions)
    return legal.start_cto(ctx, loaded.patient_id, data).fact_id


def _cto_recall(ctx: Context, d: Directory, loaded: Loaded, e: fmt._Event) -> str:
    assert isinstance(e, fmt.CtoRecallEvent)
    data = CtoRecallIn(**_common(d, e), reason=e.reason)
    return legal.recall_cto(ctx, loaded.patient_id, data).fact_id


def _cto_end(ctx: Context, d: Directory, loaded: Loaded, e: fmt._Event) -> str:
    assert isinstance(e, fmt.CtoEnd)
    return legal.end_cto(ctx, loaded.patient_id, CtoEndIn(ended_at=e.at, reason=e.reason)).fact_id


def _diagnosis(ctx: Context, d: Directory, loaded: Loaded, e: fmt._Event) -> str:
    assert isinstance(e, fmt.DiagnosisEvent)
    data = DiagnosisIn(**_common(d, e), code=e.code, system=e.system, display=e.display)
    return diagnoses.record_diagnosis(ctx, loaded.patient_id, data).fact_id


def _risk_event(ctx: Context, d: Directory, loaded: Loaded, e: fmt._Event) -> str:
    assert isinstance(e, fmt.RiskEventEvent)
    data = RiskEventIn(
        **_common(d, e),
        category=e.category,
        harm=e.harm,
        source=e.source,
        description=e.description,
    )
    return risk.record_risk_event(ctx, loaded.patient_id, data).fact_id


def _risk_event_in_error(ctx: Context, d: Directory, loaded: Loaded, e: fmt._Event) -> str:
    assert isinstance(e, fmt.RiskEventEnteredInError)
    return risk.enter_risk_event_in_error(ctx, loaded.patient_id, loaded.fact_ids[e.ref], e.reason).fact_id


def _risk_assessment(ctx: Context, d: Directory, loaded: Loaded, e: fmt._Event) -> str:
    assert isinstance(e, fmt.RiskAssessmentEvent)
    data = RiskAssessmentIn(
        **_common(d, e),
        factors=e.factors,
        rationale=e.rationale,
        formulation=e.formulation,
        safety_plan=e.safety_plan,
        next_review=e.next_review,
    )
    return risk.record_assessment(ctx, loaded.patient_id, data).fact_id


def _medication_start(ctx: Context, d: Directory, loaded: Loaded, e: fmt._Event) -> str:
    assert isinstance(e, fmt.MedicationStart)
    data = PrescriptionIn(
        **_common(d, e),
        drug=e.drug,
        route=e.route,
        dose=e.dose,
        interval_days=e.interval_days,
    )
    return medication.prescribe(ctx, loaded.patient_id, data).fact_id


def _depot(ctx: Context, d: Directory, loaded: Loaded, e: fmt._Event) -> str:
    assert isinstance(e, fmt.DepotGiven | fmt.DepotRefused)
    outcome = "given" if isinstance(e, fmt.DepotGiven) else "refused"
    staff_id = d.staff(e.by, e.team).id if e.by else None
    data = DepotAdministrationIn(**_common(d, e), drug=e.drug, outcome=outcome, staff_id=staff_id)
    return medication.record_depot(ctx, loaded.patient_id, data).fact_id


def _medication_stop(ctx: Context, d: Directory, loaded: Loaded, e: fmt._Event) -> str:
    assert isinstance(e, fmt.MedicationStop)
    return medication.stop(ctx, loaded.patient_id, e.drug, PrescriptionStopIn(stopped_at=e.at, reason=e.reason)).fact_id


def _adherence(ctx: Context, d: Directory, loaded: Loaded, e: fmt._Event) -> str:
    assert isinstance(e, fmt.AdherenceReportEvent)
    data = AdherenceReportIn(**_common(d, e), status=e.status, source=e.source, detail=e.detail)
    return medication.record_adherence(ctx, loaded.patient_id, data).fact_id


def _carer(ctx: Context, d: Directory, loaded: Loaded, e: fmt._Event) -> str:
    assert isinstance(e, fmt.CarerRegistered)
    data = CarerIn(
        **_common(d, e),
        name=e.name,
        relationship=e.relationship,
        consent_to_share=e.consent_to_share,
    )
    return carers.register_carer(ctx, loaded.patient_id, data).fact_id


def _concern(ctx: Context, d: Directory, loaded: Loaded, e: fmt._Event) -> str:
    assert isinstance(e, fmt.FamilyConcernEvent)
    data = FamilyConcernIn(**_common(d, e), raised_by=e.from_, channel=e.channel, text=e.text)
    return carers.record_concern(ctx, loaded.patient_id, data).fact_id


def _concern_response(ctx: Context, d: Directory, loaded: Loaded, e: fmt._Event) -> str:
    assert isinstance(e, fmt.FamilyConcernResponseEvent)
    if e.ref is not None:
        concern_fact_id = loaded.fact_ids[e.ref]
    else:
        waiting = carers.unanswered_concerns(ctx, loaded.patient_id)
        if not waiting:
            raise ValidationFailed([Problem("ref", "there is no unanswered family concern to respond to")])
        concern_fact_id = waiting[0].fact_id
    data = FamilyConcernResponseIn(**_common(d, e), concern_fact_id=concern_fact_id, text=e.text)
    return carers.respond_to_concern(ctx, loaded.patient_id, data).fact_id


def _partner_info(ctx: Context, d: Directory, loaded: Loaded, e: fmt._Event) -> str:
    assert isinstance(e, fmt.PartnerInfo)
    data = PartnerInformationIn(
        **_common(d, e),
        agency=e.agency,
        kind=e.kind,
        violence=e.violence,
        weapon=e.weapon,
        detail=e.detail,
    )
    return partners.record_partner_information(ctx, loaded.patient_id, data).fact_id


def _request(ctx: Context, d: Directory, loaded: Loaded, e: fmt._Event) -> str:
    assert isinstance(e, fmt.CrossTeamRequestEvent)
    data = CrossTeamRequestIn(
        occurred_at=e.at,
        note=e.note,
        team_id=d.team(e.from_team).id,
        to_team_id=d.team(e.to_team).id,
        ask=e.ask,
        detail=e.detail,
    )
    return requests.make_request(ctx, loaded.patient_id, data).fact_id


def _response(ctx: Context, d: Directory, loaded: Loaded, e: fmt._Event) -> str:
    assert isinstance(e, fmt.CrossTeamResponseEvent)
    if e.ref is not None:
        request_fact_id = loaded.fact_ids[e.ref]
    else:
        waiting = requests.unanswered(ctx, loaded.patient_id)
        if not waiting:
            raise ValidationFailed([Problem("ref", "there is no unanswered cross-team request to respond to")])
        request_fact_id = waiting[0].fact_id
    data = CrossTeamResponseIn(
        **_common(d, e),
        request_fact_id=request_fact_id,
        answer=e.answer,
        rationale=e.rationale,
    )
    return requests.respond(ctx, loaded.patient_id, data).fact_id


def _decision(ctx: Context, d: Directory, loaded: Loaded, e: fmt._Event) -> str:
    assert isinstance(e, fmt.MdtDecisionEvent)
    data = MdtDecisionIn(**_common(d, e), topic=e.topic, decision=e.decision, rationale=e.rationale)
    return decisions.record_decision(ctx, loaded.patient_id, data).fact_id


def _capacity(ctx: Context, d: Directory, loaded: Loaded, e: fmt._Event) -> str:
    assert isinstance(e, fmt.CapacityAssessmentEvent)
    data = CapacityAssessmentIn(**_common(d, e), decision_about=e.decision_about, outcome=e.outcome)
    return decisions.record_capacity(ctx, loaded.patient_id, data).fact_id


def _care_plan_review(ctx: Context, d: Directory, loaded: Loaded, e: fmt._Event) -> str:
    assert isinstance(e, fmt.CarePlanReviewEvent)
    data = CarePlanReviewIn(
        **_common(d, e),
        crisis_plan=e.crisis_plan,
        shared_with_carer=e.shared_with_carer,
    )
    return careplans.record_review(ctx, loaded.patient_id, data).fact_id


def _gp_letter(ctx: Context, d: Directory, loaded: Loaded, e: fmt._Event) -> str:
    assert isinstance(e, fmt.GpLetterSent)
    data = GpHandoverLetterIn(**_common(d, e), sections=e.sections)
    return careplans.record_gp_letter(ctx, loaded.patient_id, data).fact_id


def _note(ctx: Context, d: Directory, loaded: Loaded, e: fmt._Event) -> str:
    assert isinstance(e, fmt.NoteEvent)
    common = _common(d, e)
    common["note"] = e.text if not e.note else f"{e.text}\n\n{e.note}"
    return notes.record_note(ctx, loaded.patient_id, ClinicalNoteIn(**common)).fact_id


APPLY: dict[str, Applier] = {
    "referral_accepted": _referral,
    "episode_start": _episode_start,
    "episode_end": _episode_end,
    "keyworker_assigned": _keyworker_assigned,
    "keyworker_ended": _keyworker_ended,
    "contact": _contact,
    "appointment_booked": _appointment,
    "admission": _admission,
    "legal_status_change": _legal_status_change,
    "inpatient_discharge": _inpatient_discharge,
    "cto_start": _cto_start,
    "cto_recall": _cto_recall,
    "cto_end": _cto_end,
    "diagnosis": _diagnosis,
    "risk_event": _risk_event,
    "risk_event_entered_in_error": _risk_event_in_error,
    "risk_assessment": _risk_assessment,
    "medication_start": _medication_start,
    "depot_given": _depot,
    "depot_refused": _depot,
    "medication_stop": _medication_stop,
    "adherence_report": _adherence,
    "carer_registered": _carer,
    "family_concern": _concern,
    "family_concern_response": _concern_response,
    "partner_info": _partner_info,
    "cross_team_request": _request,
    "cross_team_response": _response,
    "mdt_decision": _decision,
    "capacity_assessment": _capacity,
    "care_plan_review": _care_plan_review,
    "gp_letter_sent": _gp_letter,
    "note": _note,
}
