"""The partner and family channels (R6, R7): what a GP practice, a police liaison officer or a registered carer may
tell the team, and the little each may see back. Services take the context and never commit.

Who someone is beyond their role is on their account (``Link``): a practice's ODS code or a police force
(``organisation``), a registered carer's person and carer record. Every decision goes through ``access.decide``
(``record.relationships.check``): ``partner.submit`` and ``family.submit`` (scope tell), ``partner.view`` (scope
shared) and ``family.view`` (the person's consent).

- **GP practice**: the handover letters addressed to the practice (the person was registered there when the letter
  was sent, and still is); what was shared with the practice; a report of "no contact" or "prescriptions not
  collected" about a registered patient, which becomes partner information (agency ``gp``) that SN12 watches.
- **Police liaison**: intelligence (warrant, arrest, incident, charge, court date) about a person named by NHS number
  or by name and date of birth, matched to exactly one person or refused (never a best guess: a wrong-person match
  puts police intelligence on someone else's record); it becomes partner information (agency ``police``) that SN08
  watches. The officer sees only what was shared with their force.
- **Family**: a registered carer tells the team something; it becomes a family concern (channel ``online``) that
  SN01 watches, with a reference the carer can quote. They see nothing of the record unless the person consented to
  share with them, and then only what the consent's scope names.

A refusal is an ``Outcome`` with its reason, not an exception, so the refused attempt's audit event commits: fishing
for who is known to the service leaves a trail the safety lead can see."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from safetynet.access import accounts
from safetynet.access import shares as access_shares
from safetynet.access.decide import Relationships, Resource, decide, require
from safetynet.access.grants import ARTICLE_6, ARTICLE_9, LawfulBasis
from safetynet.access.models import Account
from safetynet.audit import service as audit
from safetynet.core.context import Context, Role
from safetynet.core.errors import NotFound, Problem, ValidationFailed
from safetynet.core.facts import known_at
from safetynet.record import relationships
from safetynet.record.careplans.models import GpHandoverLetter
from safetynet.record.carers import service as carers_service
from safetynet.record.carers.models import Carer, Channel, FamilyConcern, FamilyConcernResponse
from safetynet.record.carers.schemas import FamilyConcernIn
from safetynet.record.contacts.models import Appointment
from safetynet.record.episodes.models import Episode, EpisodeStatus, KeyWorkerAllocation
from safetynet.record.org.models import Staff, Team
from safetynet.record.partners import service as partners_service
from safetynet.record.partners.models import Agency, PartnerInfoKind, SharingDecision
from safetynet.record.partners.schemas import PartnerInformationIn
from safetynet.record.patients import service as patients
from safetynet.record.patients.models import Patient, PatientDetails
from safetynet.record.risk.models import RiskAssessment

ODS_CODE = re.compile(r"^[A-Z0-9]{3,10}$")
GP_KINDS = (PartnerInfoKind.NO_CONTACT, PartnerInfoKind.PRESCRIPTION_NOT_COLLECTED)
POLICE_KINDS = (
    PartnerInfoKind.WARRANT,
    PartnerInfoKind.ARREST,
    PartnerInfoKind.INCIDENT,
    PartnerInfoKind.CHARGE,
    PartnerInfoKind.COURT_DATE,
)
# A GP telling the mental health team about a shared patient does so for direct care.
GP_BASIS = (LawfulBasis.ART_6_1_E, LawfulBasis.ART_9_2_H)
POLICE_BASES = (LawfulBasis.CDA_S115, LawfulBasis.ART_6_1_E, LawfulBasis.ART_9_2_G, LawfulBasis.ART_9_2_C)
# What a consent to share with family can cover, and the phrases of a consent's scope that name each. A scope is
# read as a list ("the crisis plan and appointments"): each part must be one of these phrases exactly, so words
# around a phrase ("not the crisis plan", "anything but appointments") name nothing and share nothing.
FAMILY_ITEMS: dict[str, tuple[str, ...]] = {
    "key_worker_contact": (
        "key worker",
        "key worker contact",
        "key worker's contact details",
        "care team",
        "care team contact",
        "contact details",
        "contact",
    ),
    "crisis_plan": ("crisis plan", "safety plan", "crisis and safety plan", "crisis"),
    "appointments": ("appointment", "appointments", "appointment times"),
}
FAMILY_ITEM_LABELS = {
    "key_worker_contact": "who to contact in the care team",
    "crisis_plan": "the crisis plan",
    "appointments": "appointments",
}
_SCOPE_PARTS = re.compile(r",|;|/|\band\b|&|\+")
_SCOPE_ARTICLES = re.compile(r"^(?:the|their|his|her|my|our|any)\s+")
NOT_REGISTERED = (
    "We cannot take a report about this NHS number from your practice: it does not match a patient registered with "
    "your practice who is known to the mental health service. Check the number; if it is right, phone the team."
)
NOT_MATCHED = (
    "We could not match these details to exactly one person, so nothing was recorded. Give the NHS number if you "
    "have it, check the name and date of birth, or phone the liaison and diversion team."
)


@dataclass(frozen=True, slots=True)
class Link:
    """What an account's holder is to the service beyond their role (from their account)."""

    organisation: str | None = None
    carer_patient_id: str | None = None
    carer_fact_id: str | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """A submission: received (with the reference the sender can quote) or refused (with why, in words)."""

    reference: str | None = None
    refused: str | None = None


def reference(prefix: str, fact_id: str) -> str:
    """A reference a person can read out on the phone: ``FC-3F9A-21C7`` from the fact's id (staff find it by prefix)."""
    digits = fact_id.replace("-", "").upper()
    return f"{prefix}-{digits[:4]}-{digits[4:8]}"


def link(ctx: Context, account_id: str) -> Link:
    """The signed-in partner's or family member's link, from their account."""
    account = ctx.session.get(Account, account_id)
    if account is None:
        raise NotFound("no such account")
    return Link(account.organisation, account.carer_patient_id, account.carer_fact_id)


def create_account(
    ctx: Context,
    *,
    staff: Staff,
    username: str,
    password: str,
    organisation: str | None = None,
    cares_for: str | None = None,
    carer_name: str | None = None,
) -> Account:
    """An account whose link fits its holder's role: a GP practice user has the practice's ODS code, a police
    liaison officer their force, a family member the person they are a registered carer of (by NHS number and the
    carer's name as registered, which defaults to theirs). Staff have none of these. Every problem at once."""
    role = Role(staff.role)
    problems: list[Problem] = []
    org_value = (organisation or "").strip() or None
    if role is Role.GP_PARTNER:
        org_value = org_value.upper() if org_value else None
        if not org_value or not ODS_CODE.match(org_value):
            problems.append(Problem("organisation", "a GP practice account needs the practice's ODS code (A81001)"))
    elif role is Role.POLICE_LIAISON:
        if not org_value or len(org_value) > 200:
            problems.append(Problem("organisation", "a police liaison account needs the police force's name"))
    elif org_value:
        problems.append(Problem("organisation", "only GP practice and police liaison accounts have an organisation"))
    patient_id = carer_fact_id = None
    if role is Role.FAMILY_MEMBER:
        if not cares_for:
            problems.append(Problem("cares_for", "a family member's account needs the NHS number of the person"))
        else:
            try:
                patient = patients.find(ctx, cares_for)
            except ValidationFailed as exc:
                problems += [Problem("cares_for", p.message) for p in exc.problems]
                patient = None
            wanted = (carer_name or staff.name).strip().casefold()
            found = (
                [c for c in carers_service.carers(ctx, patient.id) if c.name.strip().casefold() == wanted]
                if patient
                else []
            )
            if patient is not None and len(found) != 1:
                problems.append(
                    Problem("carer", f"{carer_name or staff.name} is not a registered carer of {cares_for}")
                    if not found
                    else Problem("carer", "more than one registered carer has that name")
                )
            elif patient is None and not problems:
                problems.append(Problem("cares_for", f"no person with NHS number {cares_for}"))
            if patient is not None and len(found) == 1:
                patient_id, carer_fact_id = patient.id, found[0].fact_id
    elif cares_for or carer_name:
        problems.append(Problem("cares_for", "only a family member's account names the person they care for"))
    try:
        account = accounts.create(
            ctx,
            staff_id=staff.id,
            username=username,
            password=password,
            organisation=org_value,
            carer_patient_id=patient_id,
            carer_fact_id=carer_fact_id,
        )
    except ValidationFailed as exc:
        raise ValidationFailed(problems + list(exc.problems)) from exc
    if problems:
        raise ValidationFailed(problems)
    return account


def _refused(ctx: Context, action: str, reason: str, detail: str, patient_id: str | None = None) -> Outcome:
    audit.record(ctx, action=action, entity="partner_information", patient_id=patient_id, detail=detail)
    return Outcome(refused=reason)


# --- GP practice


@dataclass(frozen=True, slots=True)
class LetterView:
    """A handover letter as the practice sees it: whose, when it was sent, its sections and text."""

    fact_id: str
    nhs_number: str
    name: str
    born: date
    sent_at: datetime
    sections: list[str]
    body: str | None


def _require_view(ctx: Context, organisation: str | None) -> str:
    """``partner.view`` for the actor's own organisation (an account without one is refused)."""
    resource = Resource(share_recipient=(str(ctx.actor.role), organisation) if organisation else None)
    require(decide(ctx.actor, "partner.view", resource, Relationships(organisation=organisation)))
    return organisation or ""


def practice_letters(ctx: Context, organisation: str | None) -> list[LetterView]:
    """Handover letters addressed to the practice, newest first: the person was registered with the practice when
    the letter was recorded, and still is. Each letter shown is an audited read."""
    ods = _require_view(ctx, organisation)
    registered = {
        d.patient_id: d
        for d in ctx.session.scalars(
            known_at(PatientDetails).where(
                PatientDetails.gp_practice == ods, PatientDetails.entered_in_error.is_(False)
            )
        )
    }
    if not registered:
        return []
    numbers = dict(
        ctx.session.execute(select(Patient.id, Patient.nhs_number).where(Patient.id.in_(registered))).tuples().all()
    )
    letters = ctx.session.scalars(
        known_at(GpHandoverLetter)
        .where(GpHandoverLetter.patient_id.in_(registered), GpHandoverLetter.entered_in_error.is_(False))
        .order_by(GpHandoverLetter.occurred_at.desc(), GpHandoverLetter.id)
    )
    out = []
    for letter in letters:
        then = ctx.session.scalars(
            known_at(PatientDetails, letter.recorded_at).where(PatientDetails.patient_id == letter.patient_id)
        ).first()
        if then is None or then.gp_practice != ods:  # sent to the practice they were with then: not this one
            continue
        details = registered[letter.patient_id]
        audit.record_read(
            ctx, entity="gp_handover_letters", patient_id=letter.patient_id, detail=f"in the view of practice {ods}"
        )
        out.append(
            LetterView(
                fact_id=letter.fact_id,
                nhs_number=numbers[letter.patient_id],
                name=details.name,
                born=details.born,
                sent_at=letter.occurred_at,
                sections=list(letter.sections),
                body=letter.body,
            )
        )
    return out


def shared_with(ctx: Context, organisation: str | None) -> list[access_shares.SharedView]:
    """What was shared with the partner's organisation (and nothing else), each share an audited read."""
    found = access_shares.visible_to(ctx, _require_view(ctx, organisation))
    for share in found:
        audit.record_read(
            ctx, entity="partner_shares", patient_id=share.patient_id, detail=f"share {share.share_id} seen"
        )
    return found


def gp_report(
    ctx: Context,
    organisation: str | None,
    *,
    nhs_number: str,
    kind: PartnerInfoKind,
    occurred_at: datetime,
    detail: str,
) -> Outcome:
    """A practice reports "no contact" or "prescriptions not collected" about one of its registered patients. An
    unknown NHS number and a patient of another practice are refused alike: the answer must not tell a practice
    who else is known to the service."""
    if kind not in GP_KINDS:
        raise ValidationFailed([Problem("kind", "a practice reports no contact or prescriptions not collected")])
    patient = patients.find(ctx, nhs_number)  # a malformed number: ValidationFailed, nothing written
    if patient is None or not relationships.check(ctx, "partner.submit", patient.id, organisation=organisation):
        return _refused(
            ctx,
            "partner_submit_refused",
            NOT_REGISTERED,
            f"practice {organisation}: {kind} about an NHS number not registered with the practice",
            patient.id if patient else None,
        )
    info = partners_service.record_partner_information(
        ctx,
        patient.id,
        PartnerInformationIn(
            occurred_at=occurred_at,
            agency=Agency.GP,
            kind=kind,
            detail=detail.strip(),
            sharing_decision=SharingDecision.SHARED,
            lawful_basis=",".join(sorted(GP_BASIS)),
            note=f"From {ctx.actor.name}, practice {organisation}, through the GP channel",
        ),
    )
    return Outcome(reference=reference("PI", info.fact_id))


# --- Police liaison


def _name_key(name: str) -> str:
    return " ".join(name.casefold().split())


def match_person(ctx: Context, *, nhs_number: str | None, name: str | None, born: date | None) -> list[str]:
    """The people these details identify (record ids): exactly one, or the submission is refused. With an NHS
    number, any name and date of birth given must agree with it; without one, the full name (case and spacing
    aside) and the date of birth must both match, with no fuzzy matching. Reads no more than it must; not audited
    here (the submission or its refusal is)."""
    if nhs_number:
        patient = patients.find(ctx, nhs_number)
        if patient is None:
            return []
        if name or born:
            details = ctx.session.scalars(
                known_at(PatientDetails).where(PatientDetails.patient_id == patient.id)
            ).first()
            if details is None:
                return []
            if (name and _name_key(name) != _name_key(details.name)) or (born and born != details.born):
                return []
        return [patient.id]
    if not name or born is None:
        return []
    candidates = ctx.session.scalars(
        known_at(PatientDetails).where(PatientDetails.born == born, PatientDetails.entered_in_error.is_(False))
    )
    return sorted({d.patient_id for d in candidates if _name_key(d.name) == _name_key(name)})


def police_intelligence(
    ctx: Context,
    organisation: str | None,
    *,
    nhs_number: str | None,
    name: str | None,
    born: date | None,
    kind: PartnerInfoKind,
    occurred_at: datetime,
    detail: str,
    violence: bool,
    weapon: bool,
    lawful_basis: list[LawfulBasis],
) -> Outcome:
    """Police intelligence for the team about one person, with the lawful basis the force shares under."""
    problems = []
    if kind not in POLICE_KINDS:
        problems.append(Problem("kind", "choose a warrant, arrest, incident, charge or court date"))
    bases = set(lawful_basis)
    if not bases & ARTICLE_6:
        problems.append(Problem("lawful_basis", "name the UK GDPR Article 6 basis (6(1)(e), public task)"))
    if not bases & ARTICLE_9:
        problems.append(Problem("lawful_basis", "name a UK GDPR Article 9 condition (9(2)(g) or 9(2)(c))"))
    if problems:
        raise ValidationFailed(problems)
    how = "NHS number" if nhs_number else "name and date of birth"
    matches = match_person(ctx, nhs_number=nhs_number, name=name, born=born)
    if len(matches) != 1:
        return _refused(
            ctx,
            "partner_submit_unmatched",
            NOT_MATCHED,
            f"{organisation}: {kind} by {how}: {'no match' if not matches else f'{len(matches)} possible people'}",
        )
    (patient_id,) = matches
    decision = relationships.check(ctx, "partner.submit", patient_id, organisation=organisation)
    if not decision:
        return _refused(ctx, "partner_submit_refused", decision.reason, f"{organisation}: {kind}", patient_id)
    info = partners_service.record_partner_information(
        ctx,
        patient_id,
        PartnerInformationIn(
            occurred_at=occurred_at,
            agency=Agency.POLICE,
            kind=kind,
            violence=violence,
            weapon=weapon,
            detail=detail.strip(),
            sharing_decision=SharingDecision.SHARED,
            lawful_basis=",".join(sorted(str(b) for b in bases)),
            note=f"From {ctx.actor.name}, {organisation}, through the police liaison channel (matched by {how})",
        ),
    )
    return Outcome(reference=reference("PI", info.fact_id))


# --- Family


def _carer(ctx: Context, the_link: Link) -> Carer | None:
    if not the_link.carer_patient_id or not the_link.carer_fact_id:
        return None
    carer = ctx.session.scalars(
        known_at(Carer).where(Carer.fact_id == the_link.carer_fact_id, Carer.patient_id == the_link.carer_patient_id)
    ).first()
    return carer if carer is not None and not carer.entered_in_error else None


def family_concern(ctx: Context, the_link: Link, text: str) -> Outcome:
    """A registered carer tells the team something: a family concern (channel ``online``) for the safety net (SN01)."""
    patient_id = the_link.carer_patient_id
    decision = (
        relationships.check(ctx, "family.submit", patient_id, carer_fact_id=the_link.carer_fact_id)
        if patient_id
        else None
    )
    carer = _carer(ctx, the_link)
    if not decision or carer is None or patient_id is None:
        reason = decision.reason if decision is not None else "your account is not linked to a person you care for"
        audit.record(
            ctx, action="family_submit_refused", entity="family_concerns", patient_id=patient_id, detail=reason
        )
        return Outcome(refused=reason)
    concern = carers_service.record_concern(
        ctx,
        patient_id,
        FamilyConcernIn(
            occurred_at=ctx.clock.now(),
            raised_by=f"{carer.name} ({carer.relationship})",
            channel=Channel.ONLINE,
            text=text.strip(),
        ),
        carer_fact_id=carer.fact_id,
    )
    return Outcome(reference=reference("FC", concern.fact_id))


@dataclass(frozen=True, slots=True)
class SentConcern:
    """One of the carer's own concerns: its reference, when it was received and whether the team has responded."""

    reference: str
    received_at: datetime
    text: str
    responded_at: datetime | None


def sent_concerns(ctx: Context, the_link: Link) -> list[SentConcern]:
    """The concerns this carer sent (through any channel, linked to their carer record), newest first: what they
    said and whether the team recorded a response (not what it said: that is the record)."""
    carer = _carer(ctx, the_link)
    if carer is None:
        return []
    concerns = list(
        ctx.session.scalars(
            known_at(FamilyConcern)
            .where(
                FamilyConcern.patient_id == carer.patient_id,
                FamilyConcern.carer_fact_id == carer.fact_id,
                FamilyConcern.entered_in_error.is_(False),
            )
            .order_by(FamilyConcern.recorded_at.desc(), FamilyConcern.id)
        )
    )
    responded: dict[str, datetime] = {}
    for response in ctx.session.scalars(
        known_at(FamilyConcernResponse).where(
            FamilyConcernResponse.patient_id == carer.patient_id,
            FamilyConcernResponse.concern_fact_id.in_([c.fact_id for c in concerns]),
            FamilyConcernResponse.entered_in_error.is_(False),
        )
    ):
        responded.setdefault(response.concern_fact_id, response.recorded_at)
    if concerns:
        audit.record_read(ctx, entity="family_concerns", patient_id=carer.patient_id, detail="the carer's own concerns")
    return [SentConcern(reference("FC", c.fact_id), c.recorded_at, c.text, responded.get(c.fact_id)) for c in concerns]


def consented_items(scope: str | None) -> list[str]:
    """What a consent covers, from its scope read as a list of ``FAMILY_ITEMS`` phrases. No scope recorded: only how
    to reach the care team. A part of the scope that is not exactly one of the phrases shares nothing (the safe
    reading of words such as "not the crisis plan"), so a scope that names nothing shares nothing."""
    if not scope or not scope.strip():
        return ["key_worker_contact"]
    parts = {_SCOPE_ARTICLES.sub("", " ".join(part.split())) for part in _SCOPE_PARTS.split(scope.casefold())}
    return [item for item, names in FAMILY_ITEMS.items() if parts & set(names)]


def consented_in_words(scope: str | None) -> str:
    """How a consent's scope is read, for the clinician who sees the scope: "the crisis plan and appointments"."""
    labels = [FAMILY_ITEM_LABELS[item] for item in consented_items(scope)]
    return " and ".join(labels) if labels else "nothing (no part of it names something that can be shared)"


@dataclass(frozen=True, slots=True)
class FamilyView:
    """What a consenting person shares with this carer: only the items their consent covers."""

    person_name: str
    scope: str | None
    items: list[str]
    key_workers: list[str]
    teams: list[str]
    crisis_plan: str | None
    appointments: list[tuple[datetime, str]]


def family_view(ctx: Context, the_link: Link) -> FamilyView | None:
    """None unless the person consented to share with this carer (``family.view``); then only what consent covers.
    The read is audited with the items shown."""
    carer = _carer(ctx, the_link)
    if carer is None:
        return None
    decision = relationships.check(ctx, "family.view", carer.patient_id, carer_fact_id=carer.fact_id)
    if not decision:
        return None
    now = ctx.clock.now()
    pid = carer.patient_id
    items = consented_items(carer.consent_scope)
    details = ctx.session.scalars(known_at(PatientDetails).where(PatientDetails.patient_id == pid)).first()
    key_workers: list[str] = []
    teams: list[str] = []
    crisis: str | None = None
    appointments: list[tuple[datetime, str]] = []
    if "key_worker_contact" in items:
        episodes = ctx.session.scalars(
            known_at(Episode).where(
                Episode.patient_id == pid, Episode.status == EpisodeStatus.ACTIVE, Episode.entered_in_error.is_(False)
            )
        )
        team_ids = {e.team_id for e in episodes if e.team_id}
        teams = sorted(ctx.session.scalars(select(Team.name).where(Team.id.in_(team_ids))))
        allocations = ctx.session.scalars(
            known_at(KeyWorkerAllocation).where(
                KeyWorkerAllocation.patient_id == pid, KeyWorkerAllocation.entered_in_error.is_(False)
            )
        )
        staff_ids = {a.staff_id for a in allocations if a.ended_at is None or a.ended_at > now}
        key_workers = sorted(ctx.session.scalars(select(Staff.name).where(Staff.id.in_(staff_ids))))
    if "crisis_plan" in items:
        plans = list(
            ctx.session.scalars(
                known_at(RiskAssessment)
                .where(
                    RiskAssessment.patient_id == pid,
                    RiskAssessment.entered_in_error.is_(False),
                    RiskAssessment.safety_plan.is_(True),
                )
                .order_by(RiskAssessment.occurred_at.desc())
            )
        )
        crisis = (
            (plans[0].safety_plan_detail or "A safety plan is in place: ask the team for a copy.") if plans else None
        )
    if "appointments" in items:
        booked = ctx.session.scalars(
            known_at(Appointment)
            .where(Appointment.patient_id == pid, Appointment.entered_in_error.is_(False), Appointment.due_at >= now)
            .order_by(Appointment.due_at)
        )
        appointments = [(a.due_at, a.mode) for a in booked]
    audit.record_read(
        ctx, entity="family_view", patient_id=pid, detail="consented items: " + (", ".join(items) or "none")
    )
    return FamilyView(
        person_name=details.name if details else "",
        scope=carer.consent_scope,
        items=items,
        key_workers=key_workers,
        teams=teams,
        crisis_plan=crisis,
        appointments=appointments,
    )
