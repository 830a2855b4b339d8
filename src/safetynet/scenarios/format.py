"""The scenario file format, parsed strictly: unknown keys and event types are errors, and every error is
reported with its event index and field before anything is loaded."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from safetynet.core.clock import LONDON, end_of_local_day, local_datetime
from safetynet.core.context import Role
from safetynet.core.errors import Problem, ValidationFailed
from safetynet.record.careplans.models import GpLetterSection
from safetynet.record.carers.models import Channel
from safetynet.record.contacts.models import ContactMode, ContactOutcome
from safetynet.record.decisions.models import CapacityOutcome, DecisionTopic
from safetynet.record.diagnoses.models import CodeSystem
from safetynet.record.episodes.models import DischargeDestination, DischargeReason
from safetynet.record.legal.schemas import LegalStatusCode
from safetynet.record.medication.models import Adherence, AdherenceSource, Route
from safetynet.record.org.models import Pathway
from safetynet.record.partners.models import Agency, PartnerInfoKind
from safetynet.record.patients.models import Sex
from safetynet.record.patients.schemas import NhsNumber
from safetynet.record.requests.models import Answer, Ask
from safetynet.record.risk.models import FactorStatus, Harm, RiskCategory, RiskSource


def _moment(value: Any) -> Any:
    """A date means 09:00 London; a time without a zone is London time."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=LONDON)
    if isinstance(value, date):
        return local_datetime(value)
    if isinstance(value, str):
        text = value.strip()
        if len(text) == 10:
            return local_datetime(date.fromisoformat(text))
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=LONDON)
    return value


def _check_moment(value: Any) -> Any:
    """A check ``on`` a date asks about the end of that London day."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return end_of_local_day(value)
    if isinstance(value, str) and len(value.strip()) == 10:
        return end_of_local_day(date.fromisoformat(value.strip()))
    return _moment(value)


Moment = Annotated[datetime, BeforeValidator(_moment)]
CheckMoment = Annotated[datetime, BeforeValidator(_check_moment)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Event(_Strict):
    at: Moment
    recorded: Moment | None = None
    by: str | None = None
    team: str | None = None
    note: str | None = None

    @property
    def recorded_at(self) -> datetime:
        return self.recorded or self.at

    @model_validator(mode="after")
    def learnt_after_it_happened(self) -> _Event:
        if self.recorded is not None and self.recorded < self.at:
            raise ValueError("recorded is before at: the service cannot learn of something before it happens")
        return self


class ReferralAccepted(_Event):
    type: Literal["referral_accepted"]
    team: str


class EpisodeStart(_Event):
    type: Literal["episode_start"]
    team: str
    pathway: Pathway


class EpisodeEnd(_Event):
    type: Literal["episode_end"]
    team: str
    reason: DischargeReason
    destination: DischargeDestination
    override_rationale: str | None = None


class KeyworkerAssigned(_Event):
    type: Literal["keyworker_assigned"]
    team: str
    staff: str


class KeyworkerEnded(_Event):
    type: Literal["keyworker_ended"]
    team: str
    staff: str


class ContactEvent(_Event):
    type: Literal["contact"]
    outcome: ContactOutcome
    mode: ContactMode
    planned: bool = True


class AppointmentBooked(_Event):
    type: Literal["appointment_booked"]
    for_: Moment = Field(alias="for")
    mode: ContactMode


class AdmissionEvent(_Event):
    type: Literal["admission"]
    ward: str
    legal_status: LegalStatusCode


class LegalStatusChangeEvent(_Event):
    type: Literal["legal_status_change"]
    code: LegalStatusCode


class InpatientDischarge(_Event):
    type: Literal["inpatient_discharge"]
    ward: str
    crisis_team_accepted: bool | None = None
    carer_informed: bool | None = None


class CtoStart(_Event):
    type: Literal["cto_start"]
    expires: date | None = None
    conditions: str | None = None


class CtoRecallEvent(_Event):
    type: Literal["cto_recall"]
    reason: str | None = None


class CtoEnd(_Event):
    type: Literal["cto_end"]
    reason: str | None = None


class DiagnosisEvent(_Event):
    type: Literal["diagnosis"]
    code: str
    system: CodeSystem
    display: str | None = None


class RiskEventEvent(_Event):
    type: Literal["risk_event"]
    category: RiskCategory
    harm: Harm
    source: RiskSource
    description: str


class RiskEventEnteredInError(_Event):
    type: Literal["risk_event_entered_in_error"]
    ref: int = Field(ge=0)
    reason: str = Field(min_length=1)


class RiskAssessmentEvent(_Event):
    type: Literal["risk_assessment"]
    factors: dict[RiskCategory, FactorStatus]
    rationale: str | None = None
    formulation: str | None = None
    safety_plan: bool
    next_review: date | None = None


class MedicationStart(_Event):
    type: Literal["medication_start"]
    drug: str
    route: Route
    dose: str | None = None
    interval_days: int | None = Field(default=None, ge=1, le=366)


class DepotGiven(_Event):
    type: Literal["depot_given"]
    drug: str


class DepotRefused(_Event):
    type: Literal["depot_refused"]
    drug: str


class MedicationStop(_Event):
    type: Literal["medication_stop"]
    drug: str
    reason: str | None = None


class AdherenceReportEvent(_Event):
    type: Literal["adherence_report"]
    status: Adherence
    source: AdherenceSource
    detail: str | None = None


class CarerRegistered(_Event):
    type: Literal["carer_registered"]
    name: str
    relationship: str
    consent_to_share: bool


class FamilyConcernEvent(_Event):
    type: Literal["family_concern"]
    from_: str = Field(alias="from")
    channel: Channel
    text: str


class FamilyConcernResponseEvent(_Event):
    type: Literal["family_concern_response"]
    ref: int | None = Field(default=None, ge=0)
    text: str


class PartnerInfo(_Event):
    type: Literal["partner_info"]
    agency: Agency
    kind: PartnerInfoKind
    violence: bool = False
    weapon: bool = False
    detail: str


class CrossTeamRequestEvent(_Event):
    type: Literal["cross_team_request"]
    from_team: str
    to_team: str
    ask: Ask
    detail: str | None = None


class CrossTeamResponseEvent(_Event):
    type: Literal["cross_team_response"]
    ref: int | None = Field(default=None, ge=0)
    answer: Answer
    rationale: str = Field(min_length=1)


class MdtDecisionEvent(_Event):
    type: Literal["mdt_decision"]
    topic: DecisionTopic
    decision: str
    rationale: str = Field(min_length=1)


class CapacityAssessmentEvent(_Event):
    type: Literal["capacity_assessment"]
    decision_about: str
    outcome: CapacityOutcome


class CarePlanReviewEvent(_Event):
    type: Literal["care_plan_review"]
    crisis_plan: bool
    shared_with_carer: bool


class GpLetterSent(_Event):
    type: Literal["gp_letter_sent"]
    sections: list[GpLetterSection]


class NoteEvent(_Event):
    type: Literal["note"]
    text: str


Event = Annotated[
    ReferralAccepted
    | EpisodeStart
    | EpisodeEnd
    | KeyworkerAssigned
    | KeyworkerEnded
    | ContactEvent
    | AppointmentBooked
    | AdmissionEvent
    | LegalStatusChangeEvent
    | InpatientDischarge
    | CtoStart
    | CtoRecallEvent
    | CtoEnd
    | DiagnosisEvent
    | RiskEventEvent
    | RiskEventEnteredInError
    | RiskAssessmentEvent
    | MedicationStart
    | DepotGiven
    | DepotRefused
    | MedicationStop
    | AdherenceReportEvent
    | CarerRegistered
    | FamilyConcernEvent
    | FamilyConcernResponseEvent
    | PartnerInfo
    | CrossTeamRequestEvent
    | CrossTeamResponseEvent
    | MdtDecisionEvent
    | CapacityAssessmentEvent
    | CarePlanReviewEvent
    | GpLetterSent
    | NoteEvent,
    Field(discriminator="type"),
]

EVENT_TYPES: tuple[str, ...] = tuple(
    sorted(m.model_fields["type"].annotation.__args__[0] for m in _Event.__subclasses__())  # type: ignore[union-attr]
)


class PatientSpec(_Strict):
    nhs_number: NhsNumber
    name: str = Field(min_length=1)
    born: date
    sex: Sex = Sex.UNKNOWN
    gp_practice: str | None = Field(default=None, pattern=r"^[A-Z][0-9A-Z]{5}$")


class DischargeAttempt(_Strict):
    kind: Literal["episode", "inpatient"]
    team: str | None = None
    ward: str | None = None
    reason: DischargeReason | None = None
    destination: DischargeDestination | None = None
    crisis_team_accepted: bool | None = None
    carer_informed: bool | None = None
    override_by: Role | None = None
    override_rationale: str | None = None


class Check(_Strict):
    on: CheckMoment
    discharge: DischargeAttempt | None = None


class Scenario(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str
    timezone: Literal["Europe/London"] = "Europe/London"
    patient: PatientSpec
    events: list[Event]
    checks: list[Check] = Field(default_factory=list)
    expect: Any = None  # for the scenario's authors; the runner ignores it


# Which event types each kind of ``ref`` may point at.
REF_TARGETS = {
    "risk_event_entered_in_error": "risk_event",
    "family_concern_response": "family_concern",
    "cross_team_response": "cross_team_request",
}


def parse(data: Any, *, source: str = "<scenario>") -> Scenario:
    """Validate a scenario given as plain data. Raises ValidationFailed listing every problem."""
    if not isinstance(data, dict):
        raise ValidationFailed([Problem("(file)", f"{source} does not hold a scenario mapping")])
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed(_problems(exc) + _raw_ref_problems(data.get("events"))) from None
    problems = _ref_problems(scenario)
    if problems:
        raise ValidationFailed(problems)
    return scenario


class _Yaml12Loader(yaml.SafeLoader):
    """YAML with 1.2 booleans (only true / false: YAML 1.1 reads the key ``on:`` as True, and "no" as False)."""


# Dates and times stay text, so the schema validates them field by field (an impossible date such as 2021-02-30
# is then an error with its event index and field, not a crash of the YAML reader).
_Yaml12Loader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def read_yaml(text: str) -> Any:
    return yaml.load(text, Loader=_Yaml12Loader)  # noqa: S506 (a SafeLoader subclass)


def load_file(path: Path) -> Scenario:
    try:
        data = read_yaml(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise ValidationFailed([Problem("(file)", f"cannot read {path}: {exc}")]) from None
    return parse(data, source=str(path))


def _problems(exc: ValidationError) -> list[Problem]:
    problems = []
    for error in exc.errors():
        loc = list(error["loc"])
        index = None
        if len(loc) >= 2 and loc[0] in ("events", "checks") and isinstance(loc[1], int):
            index = loc[1]
            # Drop the discriminator tag pydantic puts in the path of a union member.
            rest = [str(p) for p in loc[2:] if not (loc[0] == "events" and p == loc[2])] if loc[2:] else []
            field = f"{loc[0]}.{'.'.join(rest)}" if rest else str(loc[0])
        else:
            field = ".".join(str(p) for p in loc) or "(file)"
        message = error["msg"]
        if error["type"] == "union_tag_invalid":
            message = (
                f"unknown event type {error['input'].get('type')!r}" if isinstance(error["input"], dict) else message
            )
        elif error["type"] == "union_tag_not_found":
            message = "an event needs a type"
        elif error["type"] == "extra_forbidden":
            message = "unknown key"
        problems.append(Problem(field=field, message=message, index=index))
    return problems


def _raw_ref_problems(events: Any) -> list[Problem]:
    """Reference checks on unvalidated data, so they are reported alongside schema errors."""
    if not isinstance(events, list):
        return []
    problems = []
    for index, event in enumerate(events):
        if not isinstance(event, dict) or not isinstance(ref := event.get("ref"), int):
            continue
        target = REF_TARGETS.get(str(event.get("type")))
        if target is None or ref < 0:
            continue
        if ref >= len(events):
            problems.append(Problem("events.ref", f"there is no event {ref}", index))
        elif isinstance(events[ref], dict) and (found := events[ref].get("type")) != target:
            problems.append(Problem("events.ref", f"event {ref} is a {found}, not a {target}", index))
    return problems


def _ref_problems(scenario: Scenario) -> list[Problem]:
    problems = []
    for index, event in enumerate(scenario.events):
        target = REF_TARGETS.get(event.type)
        ref = getattr(event, "ref", None)
        if target is None or ref is None:
            continue
        if ref >= len(scenario.events):
            problems.append(Problem("events.ref", f"there is no event {ref}", index))
        elif (found := scenario.events[ref].type) != target:
            problems.append(Problem("events.ref", f"event {ref} is a {found}, not a {target}", index))
        elif ref == index or scenario.events[ref].recorded_at > event.recorded_at:
            problems.append(Problem("events.ref", f"event {ref} is not recorded before this one", index))
    return problems


__all__ = ["EVENT_TYPES", "Check", "DischargeAttempt", "Event", "Scenario", "load_file", "parse"]
