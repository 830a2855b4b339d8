"""The team board for the daily huddle (issue 4, item 8; R8, R18): one read of everything a team manager runs the
huddle from, for the whole team at once.

Set-based on purpose: a 500-person team is read with one query per kind of fact (the caseload's own batching, then
tasks, zones, referrals, contacts, admissions, partner information), never one query per person. The suggested
zone comes from the findings the person's live tasks hold (``rules.zoning.suggest_at``), so the board does not
re-run the rulebook for 500 people on every page load; the tasks are what the safety net last found.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, or_, select

from safetynet.audit import service as audit
from safetynet.core.context import Context, Role
from safetynet.core.errors import NotFound
from safetynet.core.facts import known_at
from safetynet.record.caseload import CaseloadEntry
from safetynet.record.contacts.models import DIRECT_MODES, Contact, ContactOutcome
from safetynet.record.episodes.models import Episode, EpisodeStatus, KeyWorkerAllocation, Referral, ReferralStatus
from safetynet.record.legal.models import LEGAL_STATUS_CODES, Admission
from safetynet.record.org.models import Staff, Team
from safetynet.record.partners.models import PartnerInformation
from safetynet.record.patients import service as patients
from safetynet.record.patients.models import Patient, PatientDetails
from safetynet.record.zoning import service as zoning
from safetynet.record.zoning.models import Zone, ZoneAssignment
from safetynet.record.zoning.schemas import ZoneAssignmentIn
from safetynet.rules import engine
from safetynet.rules.facts import load_histories, read_by_rules
from safetynet.rules.model import DischargeAttempt, Finding
from safetynet.rules.zoning import suggest_at
from safetynet.tasks import service as tasks
from safetynet.tasks.models import Task, TaskStatus

ASKING = (TaskStatus.OPEN, TaskStatus.ACKNOWLEDGED, TaskStatus.SNOOZED)  # findings someone is asked to act on
RECENT_PARTNER_DAYS = 14
IN_TREATMENT = timedelta(days=90)  # an episode open this long is taken to be past its second contact
PARTNER_ROWS = 25
ZONE_ORDER = {Zone.RED: 0, Zone.AMBER: 1, Zone.GREEN: 2}
UNOWNED = "No owner"


@dataclass(frozen=True, slots=True)
class ZoneRow:
    """One person on the zoning board: what the safety net suggests and why, beside what a clinician confirmed."""

    nhs_number: str
    name: str
    key_worker: str | None
    suggested: Zone
    reasons: list[str]
    confirmed: Zone | None
    confirmed_at: datetime | None
    confirmed_by: str | None
    rationale: str | None

    @property
    def agrees(self) -> bool:
        return self.confirmed == self.suggested

    @property
    def rank(self) -> int:
        """Red first: the more urgent of the suggestion and the confirmed zone."""
        return min(ZONE_ORDER[self.suggested], ZONE_ORDER[self.confirmed] if self.confirmed else 2)


@dataclass(frozen=True, slots=True)
class Unallocated:
    nhs_number: str
    name: str
    since: datetime
    waiting_days: int


@dataclass(frozen=True, slots=True)
class OverdueTask:
    task_id: str
    nhs_number: str
    name: str
    rule_id: str
    summary: str
    due_at: datetime
    days_overdue: int
    escalation_level: int


@dataclass(frozen=True, slots=True)
class OwnerOverdue:
    owner: str
    role: str
    tasks: list[OverdueTask]


@dataclass(frozen=True, slots=True)
class WorkerCaseload:
    name: str
    people: int


@dataclass(frozen=True, slots=True)
class Waiting:
    """An accepted referral still waiting for its second attended direct contact (the four-week wait, MRS03)."""

    nhs_number: str
    name: str
    referred_at: datetime
    waiting_days: int
    contacts: int  # attended direct contacts since the referral: 0 or 1


@dataclass(frozen=True, slots=True)
class PendingDischarge:
    """Someone on the ward or on the team's caseload in hospital now, and what the gates say of a discharge today."""

    nhs_number: str
    name: str
    ward: str
    admitted_at: datetime
    legal_status: str
    blocks: list[str]
    warnings: list[str]


@dataclass(frozen=True, slots=True)
class PartnerRow:
    nhs_number: str
    name: str
    agency: str
    kind: str
    occurred_at: datetime
    recorded_at: datetime
    sharing_decision: str
    violence: bool
    weapon: bool
    detail: str


@dataclass
class TeamBoard:
    team: Team
    at: datetime
    people: int
    zoning: list[ZoneRow] = field(default_factory=list)
    unallocated: list[Unallocated] = field(default_factory=list)
    overdue: list[OwnerOverdue] = field(default_factory=list)
    caseloads: list[WorkerCaseload] = field(default_factory=list)
    waiting: list[Waiting] = field(default_factory=list)
    discharges: list[PendingDischarge] = field(default_factory=list)
    partner_information: list[PartnerRow] = field(default_factory=list)

    @property
    def overdue_count(self) -> int:
        return sum(len(o.tasks) for o in self.overdue)

    def zone_counts(self) -> dict[str, Counter[str]]:
        """How many people in each zone: as suggested, and as confirmed ("not set" where nobody has)."""
        return {
            "suggested": Counter(str(r.suggested) for r in self.zoning),
            "confirmed": Counter(str(r.confirmed) if r.confirmed else "not set" for r in self.zoning),
        }


def get_team(ctx: Context, team_id: str) -> Team:
    team = ctx.session.get(Team, team_id)
    if team is None:
        raise NotFound(f"no team {team_id}")
    return team


def board(ctx: Context, team_id: str) -> TeamBoard:
    """Everything on the team's board as known now. Reading it is audited per person, as a caseload read is."""
    team = get_team(ctx, team_id)
    now = ctx.clock.now()
    entries = roster(ctx, team, now)
    names = {pid: (e.nhs_number, e.name) for pid, e in entries.items()}
    made = TeamBoard(team=team, at=now, people=len(entries))
    made.zoning = _zoning(ctx, entries, now)
    made.unallocated = sorted(
        (
            Unallocated(e.nhs_number, e.name, e.unallocated_since, (now - e.unallocated_since).days)
            for e in entries.values()
            if e.unallocated_since is not None
        ),
        key=lambda u: (u.since, u.name),
    )
    made.overdue = _overdue(ctx, team, names, now)
    made.caseloads = _caseloads(ctx, team, list(entries.values()))
    made.waiting = _waiting(ctx, team, entries, names, now)
    made.discharges = _discharges(ctx, team, names, now)
    made.partner_information = _partner_information(ctx, names, now)
    return made


def roster(ctx: Context, team: Team, now: datetime) -> dict[str, CaseloadEntry]:
    """The team's open episodes, by person: name, NHS number, key worker or since when without one. Leaner than
    ``record.caseload.team_caseload`` (no contacts, depots or legal status: the board does not show them), in three
    queries (the people's numbers and names joined to their episodes, not asked for by a list of hundreds), and its
    reads audited in one insert."""
    details = (
        known_at(PatientDetails).with_only_columns(PatientDetails.patient_id, PatientDetails.name).subquery("details")
    )
    episodes = ctx.session.execute(
        known_at(Episode)
        .with_only_columns(Episode.patient_id, Episode.fact_id, Episode.occurred_at, Patient.nhs_number, details.c.name)
        .join(Patient, Patient.id == Episode.patient_id)
        .outerjoin(details, details.c.patient_id == Episode.patient_id)
        .where(Episode.team_id == team.id, Episode.entered_in_error.is_(False), Episode.occurred_at <= now)
        .where(Episode.status == EpisodeStatus.ACTIVE)
        .order_by(Episode.occurred_at)
    ).all()
    first: dict[str, tuple[str, datetime]] = {}
    numbers: dict[str, str] = {}
    named: dict[str, str] = {}
    for patient_id, fact_id, started, nhs_number, name in episodes:
        if patient_id not in first:
            first[patient_id] = (fact_id, started)
            numbers[patient_id] = nhs_number
            if name is not None:
                named[patient_id] = name
    if not first:
        return {}
    ids = list(first)
    # The allocations of these episodes only (not the people's whole allocation history with every team).
    allocations = ctx.session.execute(
        known_at(KeyWorkerAllocation)
        .with_only_columns(
            KeyWorkerAllocation.episode_fact_id, KeyWorkerAllocation.staff_id, KeyWorkerAllocation.ended_at
        )
        .where(KeyWorkerAllocation.episode_fact_id.in_([fact_id for fact_id, _ in first.values()]))
        .where(KeyWorkerAllocation.entered_in_error.is_(False))
        .where(KeyWorkerAllocation.occurred_at <= now)
        .order_by(KeyWorkerAllocation.occurred_at)
    ).all()
    current: dict[str, str] = {}
    ended: dict[str, datetime] = {}
    for episode_fact_id, staff_id, ended_at in allocations:
        if ended_at is None or ended_at > now:
            current[episode_fact_id] = staff_id
        else:
            ended[episode_fact_id] = max(ended_at, ended.get(episode_fact_id, ended_at))
            if current.get(episode_fact_id) == staff_id:
                del current[episode_fact_id]
    staff = _staff_names(ctx, set(current.values()))
    record_reads(ctx, ids, entity="caseload", detail=f"{team.name} board")
    out: dict[str, CaseloadEntry] = {}
    for patient_id, (fact_id, started) in first.items():
        key_worker = staff.get(current[fact_id]) if fact_id in current else None
        out[patient_id] = CaseloadEntry(
            nhs_number=numbers.get(patient_id, ""),
            name=named.get(patient_id, "?"),
            episode_start=started,
            key_worker=key_worker,
            unallocated_since=None if fact_id in current else max(started, ended.get(fact_id, started)),
            last_attended_contact=None,
            next_depot_due=None,
            legal_status="",
        )
    return out


def record_reads(ctx: Context, patient_ids: list[str], *, entity: str, detail: str) -> None:
    """Audit a read of each of these people's records in one chained insert (``audit.service.record_reads``)."""
    audit.record_reads(ctx, patient_ids, entity=entity, detail=detail)


def zone_row(ctx: Context, team_id: str, nhs_number: str) -> ZoneRow:
    """One person's line of the zoning board (for confirming their zone); they must be on the team's caseload."""
    team = get_team(ctx, team_id)
    entries = {pid: e for pid, e in roster(ctx, team, ctx.clock.now()).items() if e.nhs_number == nhs_number}
    if not entries:
        raise NotFound(f"no one with NHS number {nhs_number} on the caseload of {team.name}")
    return _zoning(ctx, entries, ctx.clock.now())[0]


def confirm_zone(ctx: Context, team_id: str, nhs_number: str, zone: Zone, rationale: str) -> ZoneAssignment:
    """A clinician sets the person's zone; the suggestion and its reasons are recorded beside it, never instead."""
    row = zone_row(ctx, team_id, nhs_number)
    patient = patients.get(ctx, nhs_number)
    return zoning.set_zone(
        ctx,
        patient.id,
        ZoneAssignmentIn(
            occurred_at=ctx.clock.now(),
            team_id=team_id,
            zone=zone,
            rationale=rationale,
            suggested_zone=row.suggested,
            suggested_reasons=row.reasons,
        ),
    )


def team_of(ctx: Context, staff_id: str) -> str | None:
    staff = ctx.session.get(Staff, staff_id)
    return staff.team_id if staff else None


# --- the parts, each one query (or a few) for the whole team -------------------------------------------------------


def asking(now: datetime) -> ColumnElement[bool]:
    """Live tasks someone is asked to act on now (a snooze that has run out asks again)."""
    return and_(
        Task.closed_at.is_(None),
        or_(
            Task.status.in_([TaskStatus.OPEN, TaskStatus.ACKNOWLEDGED]),
            and_(Task.status == TaskStatus.SNOOZED, Task.snoozed_until <= now),
        ),
    )


def _zoning(ctx: Context, by_id: dict[str, CaseloadEntry], now: datetime) -> list[ZoneRow]:
    ids = list(by_id)
    if not ids:
        return []
    findings: dict[str, list[Finding]] = defaultdict(list)
    # The status is sifted here, not in SQL: given ``status IN (...)``, SQLite reads the status index (every live
    # task in the trust) rather than the patient index (a few rows a person).
    live = select(
        Task.patient_id, Task.status, Task.rule_id, Task.finding_key, Task.finding_since, Task.due_at, Task.summary
    ).where(Task.patient_id.in_(ids), Task.closed_at.is_(None))
    for patient_id, status, rule_id, key, since, due, summary in ctx.session.execute(
        live.order_by(Task.rule_id, Task.due_at)
    ):
        if status in ASKING:
            findings[patient_id].append(Finding(rule_id, key, since, due, summary, ()))
    latest: dict[str, ZoneAssignment] = {}
    stmt = known_at(ZoneAssignment).where(
        ZoneAssignment.patient_id.in_(ids), ZoneAssignment.entered_in_error.is_(False)
    )
    for zone in ctx.session.scalars(stmt.order_by(ZoneAssignment.occurred_at, ZoneAssignment.id)):
        latest[zone.patient_id] = zone
    who = _staff_names(ctx, {z.recorded_by_id for z in latest.values() if z.recorded_by_id})
    rows = []
    for patient_id, entry in by_id.items():
        suggested, reasons = suggest_at(now, findings.get(patient_id, []))
        confirmed = latest.get(patient_id)
        rows.append(
            ZoneRow(
                nhs_number=entry.nhs_number,
                name=entry.name,
                key_worker=entry.key_worker,
                suggested=suggested,
                reasons=reasons,
                confirmed=Zone(confirmed.zone) if confirmed else None,
                confirmed_at=confirmed.recorded_at if confirmed else None,
                confirmed_by=who.get(confirmed.recorded_by_id or "") if confirmed else None,
                rationale=confirmed.rationale if confirmed else None,
            )
        )
    return sorted(rows, key=lambda r: (r.rank, r.name, r.nhs_number))


def _staff_names(ctx: Context, staff_ids: set[str]) -> dict[str, str]:
    if not staff_ids:
        return {}
    return dict(ctx.session.execute(select(Staff.id, Staff.name).where(Staff.id.in_(staff_ids))).tuples().all())


def _names_for(ctx: Context, names: dict[str, tuple[str, str]], patient_ids: set[str]) -> dict[str, tuple[str, str]]:
    """NHS number and name for these people: the caseload's where it has them, else read (and audited) in one go."""
    missing = sorted(patient_ids - names.keys())
    return names | patients.names(ctx, missing) if missing else names


def _overdue(ctx: Context, team: Team, names: dict[str, tuple[str, str]], now: datetime) -> list[OwnerOverdue]:
    stmt = select(Task).where(Task.team_id == team.id, asking(now), Task.due_at < now).order_by(Task.due_at, Task.id)
    found = list(ctx.session.scalars(stmt))
    if not found:
        return []
    known = _names_for(ctx, names, {t.patient_id for t in found})
    owners = ctx.session.execute(
        select(Staff.id, Staff.name, Staff.role).where(
            Staff.id.in_({t.owner_staff_id for t in found if t.owner_staff_id})
        )
    ).all()
    owner_of = {sid: (name, str(role).replace("_", " ")) for sid, name, role in owners}
    grouped: dict[tuple[str, str], list[OverdueTask]] = defaultdict(list)
    for t in found:
        nhs, name = known.get(t.patient_id, ("", "?"))
        owner = owner_of.get(t.owner_staff_id or "", (UNOWNED, t.owner_role.replace("_", " ")))
        grouped[owner].append(
            OverdueTask(t.id, nhs, name, t.rule_id, t.summary, t.due_at, (now - t.due_at).days, t.escalation_level)
        )
    return sorted(
        (OwnerOverdue(owner, role, items) for (owner, role), items in grouped.items()),
        key=lambda o: (-len(o.tasks), o.owner),
    )


def _caseloads(ctx: Context, team: Team, entries: list[CaseloadEntry]) -> list[WorkerCaseload]:
    """People per key worker; the team's key workers with nobody are shown too (they have room)."""
    counts = Counter(e.key_worker for e in entries if e.key_worker)
    stmt = select(Staff.name).where(Staff.team_id == team.id, Staff.active.is_(True), Staff.role == Role.KEY_WORKER)
    for name in ctx.session.scalars(stmt):
        counts.setdefault(name, 0)
    return [WorkerCaseload(name, n) for name, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def _waiting(
    ctx: Context, team: Team, entries: dict[str, CaseloadEntry], names: dict[str, tuple[str, str]], now: datetime
) -> list[Waiting]:
    """Accepted referrals to the team with fewer than two attended direct contacts since, unless the episode that
    followed has already ended. One query for referrals, one for finished episodes, one counting contacts."""
    # Each person's latest referral to the team (and below, the latest start of a finished episode with it): the
    # database reduces the team's years of referrals and episodes to one row a person.
    latest: dict[str, datetime] = dict(
        ctx.session.execute(
            known_at(Referral)
            .with_only_columns(Referral.patient_id, func.max(Referral.occurred_at))
            .where(Referral.team_id == team.id, Referral.entered_in_error.is_(False), Referral.occurred_at <= now)
            .where(Referral.status != ReferralStatus.DECLINED)
            .group_by(Referral.patient_id)
        )
        .tuples()
        .all()
    )
    # Someone whose episode with the team has been open for 90 days is taken to be in treatment, past the second
    # contact (SN02 watches anyone in treatment and not seen); contacts are counted for those still waiting to start
    # and for new starters.
    started = now - IN_TREATMENT
    latest = {pid: at for pid, at in latest.items() if pid not in entries or entries[pid].episode_start >= started}
    if not latest:
        return []
    # Episodes with the team that finished, begun since the earliest of these referrals: by the team's index, not a
    # list of hundreds of people (which cost more to send than to read).
    finished = ctx.session.execute(
        known_at(Episode)
        .with_only_columns(Episode.patient_id, func.max(Episode.occurred_at))
        .where(Episode.team_id == team.id, Episode.entered_in_error.is_(False))
        .where(Episode.status == EpisodeStatus.FINISHED, Episode.occurred_at >= min(latest.values()))
        .group_by(Episode.patient_id)
    ).tuples()
    for patient_id, began in finished:
        if patient_id in latest and began >= latest[patient_id]:
            del latest[patient_id]  # seen and discharged since: no longer waiting
    if not latest:
        return []
    # Their attended direct contacts since the earliest of these referrals, through the contacts' (patient_id,
    # occurred_at) index (only recent contacts are read), counted here against each person's own referral.
    counts: Counter[str] = Counter()
    since = ctx.session.execute(
        known_at(Contact)
        .with_only_columns(Contact.patient_id, Contact.occurred_at)
        .where(Contact.patient_id.in_(list(latest)), Contact.occurred_at >= min(latest.values()))
        .where(Contact.entered_in_error.is_(False), Contact.outcome == ContactOutcome.ATTENDED)
        .where(Contact.mode.in_(DIRECT_MODES), Contact.occurred_at <= now)
    ).tuples()
    for patient_id, seen_at in since:
        if seen_at >= latest[patient_id]:
            counts[patient_id] += 1
    still = {pid: at for pid, at in latest.items() if counts.get(pid, 0) < 2}
    known = _names_for(ctx, names, set(still))
    return sorted(
        (
            Waiting(known.get(pid, ("", "?"))[0], known.get(pid, ("", "?"))[1], at, (now - at).days, counts.get(pid, 0))
            for pid, at in still.items()
        ),
        key=lambda w: (w.referred_at, w.name),
    )


def _discharges(ctx: Context, team: Team, names: dict[str, tuple[str, str]], now: datetime) -> list[PendingDischarge]:
    """In hospital now (on this ward, or on the team's caseload): what the discharge gates would say today. The
    histories of just these people are read in one batch and the gate rules asked in memory."""
    stmt = known_at(Admission).where(
        Admission.entered_in_error.is_(False), Admission.occurred_at <= now, Admission.discharged_at.is_(None)
    )
    open_stays: dict[str, Admission] = {}
    # Two queries, each on its own index (an OR of the two would read every admission of the trust).
    for whose in (Admission.ward_id == team.id, Admission.patient_id.in_(list(names))):
        for stay in ctx.session.scalars(stmt.where(whose).order_by(Admission.occurred_at)):
            open_stays[stay.patient_id] = stay
    if not open_stays:
        return []
    known = _names_for(ctx, names, set(open_stays))
    wards = dict(
        ctx.session.execute(select(Team.id, Team.name).where(Team.id.in_({a.ward_id for a in open_stays.values()})))
        .tuples()
        .all()
    )
    settings = tasks.rule_settings(ctx)
    params = {rule_id: p for rule_id, (_, p) in settings.items()}
    rows = []
    for patient_id, history in load_histories(ctx.session, list(open_stays), read_by_rules()).items():
        stay = open_stays[patient_id]
        result = engine.check_discharge(
            history.as_known_at(now), DischargeAttempt(kind="inpatient", at=now), params=params
        )
        nhs, name = known.get(patient_id, ("", "?"))
        rows.append(
            PendingDischarge(
                nhs_number=nhs,
                name=name,
                ward=wards.get(stay.ward_id, "?"),
                admitted_at=stay.occurred_at,
                legal_status=LEGAL_STATUS_CODES.get(stay.legal_status, stay.legal_status),
                blocks=[f"{d.rule_id}: {d.reason}" for d in result.decisions if d.blocks],
                warnings=[f"{d.rule_id}: {d.reason}" for d in result.decisions if not d.blocks],
            )
        )
    return sorted(rows, key=lambda r: (r.admitted_at, r.name))


def _partner_information(ctx: Context, names: dict[str, tuple[str, str]], now: datetime) -> list[PartnerRow]:
    if not names:
        return []
    since = now - timedelta(days=RECENT_PARTNER_DAYS)
    stmt = (
        known_at(PartnerInformation)
        .where(PartnerInformation.patient_id.in_(list(names)), PartnerInformation.entered_in_error.is_(False))
        .where(PartnerInformation.recorded_at >= since, PartnerInformation.recorded_at <= now)
        .order_by(PartnerInformation.recorded_at.desc(), PartnerInformation.id.desc())
        .limit(PARTNER_ROWS)
    )
    return [
        PartnerRow(
            nhs_number=names[p.patient_id][0],
            name=names[p.patient_id][1],
            agency=p.agency,
            kind=p.kind,
            occurred_at=p.occurred_at,
            recorded_at=p.recorded_at,
            sharing_decision=p.sharing_decision,
            violence=p.violence,
            weapon=p.weapon,
            detail=p.detail,
        )
        for p in ctx.session.scalars(stmt)
    ]


__all__ = [
    "OverdueTask",
    "OwnerOverdue",
    "PartnerRow",
    "PendingDischarge",
    "TeamBoard",
    "Unallocated",
    "Waiting",
    "WorkerCaseload",
    "ZoneRow",
    "asking",
    "board",
    "confirm_zone",
    "get_team",
    "record_reads",
    "roster",
    "team_of",
    "zone_row",
]
