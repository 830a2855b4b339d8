"""A team's caseload as known at a moment: who is open, with whom, when last seen, next depot, legal status.

Batched: one query per kind of fact for the whole team, not one per person.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Row, func, select

from safetynet.audit import service as audit
from safetynet.core.context import Context
from safetynet.core.facts import ClinicalFact, known_at
from safetynet.record.contacts.models import DIRECT_MODES, Contact, ContactOutcome
from safetynet.record.episodes.models import Episode, EpisodeStatus, KeyWorkerAllocation
from safetynet.record.legal.models import LEGAL_STATUS_CODES, Admission, CommunityTreatmentOrder
from safetynet.record.medication.models import DepotAdministration, DepotOutcome, Prescription, Route
from safetynet.record.org.models import Staff, Team
from safetynet.record.patients.models import Patient, PatientDetails

F = TypeVar("F", bound=ClinicalFact)


@dataclass(frozen=True, slots=True)
class CaseloadEntry:
    nhs_number: str
    name: str
    episode_start: datetime
    key_worker: str | None
    unallocated_since: datetime | None
    last_attended_contact: datetime | None
    next_depot_due: date | None
    legal_status: str


@dataclass(frozen=True, slots=True)
class TeamSummary:
    team: str
    pathway: str
    open_episodes: int
    unallocated: int
    no_attended_contact_28_days: int


def team_caseload(ctx: Context, team: Team, at: datetime | None = None) -> list[CaseloadEntry]:
    when = at or ctx.clock.now()
    episodes = _facts(ctx, Episode, at, team_id=team.id)
    episodes = [e for e in episodes if e.status == EpisodeStatus.ACTIVE and e.occurred_at <= when]
    return _entries(ctx, episodes, at, detail=team.name)


def _entries(ctx: Context, episodes: list[Episode], at: datetime | None, *, detail: str) -> list[CaseloadEntry]:
    """A caseload line for each open episode, batched: one query per kind of fact for all of them."""
    when = at or ctx.clock.now()
    ids = [e.patient_id for e in episodes]
    if not ids:
        return []
    details = _columns(ctx, PatientDetails, at, ids, PatientDetails.patient_id, PatientDetails.name)
    names: dict[str, str] = {row.patient_id: row.name for row in details}
    nhs = dict(ctx.session.execute(select(Patient.id, Patient.nhs_number).where(Patient.id.in_(ids))).tuples().all())
    episode_ids = {e.fact_id for e in episodes}
    allocations = _columns(
        ctx,
        KeyWorkerAllocation,
        at,
        ids,
        KeyWorkerAllocation.episode_fact_id,
        KeyWorkerAllocation.staff_id,
        KeyWorkerAllocation.ended_at,
    )
    key_workers = {
        episode_fact_id: staff_id
        for episode_fact_id, staff_id, ended_at in allocations
        if episode_fact_id in episode_ids and ended_at is None
    }
    staff = dict(
        ctx.session.execute(select(Staff.id, Staff.name).where(Staff.id.in_(set(key_workers.values())))).tuples().all()
    )
    # The latest attended direct contact per person, worked out by the database (people have hundreds of contacts).
    attended = (
        known_at(Contact, at)
        .with_only_columns(Contact.patient_id, func.max(Contact.occurred_at))
        .where(Contact.patient_id.in_(ids), Contact.entered_in_error.is_(False))
        .where(Contact.outcome == ContactOutcome.ATTENDED, Contact.mode.in_(DIRECT_MODES), Contact.occurred_at <= when)
        .group_by(Contact.patient_id)
    )
    last_seen: dict[str, datetime] = dict(ctx.session.execute(attended).tuples().all())  # max() keeps the UTC type
    audit.record_reads(ctx, ids, entity="caseload", detail=detail)
    depot_due = _next_depot_due(ctx, at, ids)
    legal = _legal_status(ctx, at, ids)
    return sorted(
        (
            CaseloadEntry(
                nhs_number=nhs[e.patient_id],
                name=names.get(e.patient_id, "?"),
                episode_start=e.occurred_at,
                key_worker=staff.get(key_workers[e.fact_id]) if e.fact_id in key_workers else None,
                unallocated_since=None if e.fact_id in key_workers else e.occurred_at,
                last_attended_contact=last_seen.get(e.patient_id),
                next_depot_due=depot_due.get(e.patient_id),
                legal_status=legal.get(e.patient_id, "Informal / community"),
            )
            for e in episodes
        ),
        key=lambda entry: entry.name,
    )


def summarise(ctx: Context, at: datetime | None = None) -> list[TeamSummary]:
    when = at or ctx.clock.now()
    out = []
    for team in ctx.session.scalars(select(Team).order_by(Team.name)):
        entries = team_caseload(ctx, team, at)
        stale = when - timedelta(days=28)
        out.append(
            TeamSummary(
                team=team.name,
                pathway=team.pathway,
                open_episodes=len(entries),
                unallocated=sum(1 for e in entries if e.key_worker is None),
                no_attended_contact_28_days=sum(
                    1 for e in entries if (e.last_attended_contact or e.episode_start) < stale
                ),
            )
        )
    return out


def _facts(
    ctx: Context,
    model: type[F],
    at: datetime | None,
    *,
    team_id: str | None = None,
    patient_ids: Sequence[str] | None = None,
) -> list[F]:
    stmt = known_at(model, at).where(model.entered_in_error.is_(False))
    if team_id is not None:
        stmt = stmt.where(model.team_id == team_id)
    if patient_ids is not None:
        stmt = stmt.where(model.patient_id.in_(patient_ids))
    return list(ctx.session.scalars(stmt.order_by(model.occurred_at, model.id)))


def _columns(
    ctx: Context, model: type[F], at: datetime | None, patient_ids: Sequence[str], *columns: Any
) -> list[Row[Any]]:
    """These columns of ``_facts(ctx, model, at, patient_ids=...)``, in the same order: rows, not objects, where a
    caseload line needs a field or two of each fact (building hundreds of full objects cost more than the query)."""
    stmt = known_at(model, at).with_only_columns(*columns).where(model.entered_in_error.is_(False))
    stmt = stmt.where(model.patient_id.in_(patient_ids)).order_by(model.occurred_at, model.id)
    return list(ctx.session.execute(stmt).all())


def _next_depot_due(ctx: Context, at: datetime | None, ids: Sequence[str]) -> dict[str, date]:
    last_given: dict[str, datetime] = {}
    doses = _columns(
        ctx,
        DepotAdministration,
        at,
        ids,
        DepotAdministration.prescription_fact_id,
        DepotAdministration.outcome,
        DepotAdministration.occurred_at,
    )
    for prescription_fact_id, outcome, given_at in doses:
        if outcome == DepotOutcome.GIVEN:
            last_given[prescription_fact_id] = given_at
    due: dict[str, date] = {}
    prescriptions = _columns(
        ctx,
        Prescription,
        at,
        ids,
        Prescription.patient_id,
        Prescription.fact_id,
        Prescription.occurred_at,
        Prescription.route,
        Prescription.stopped_at,
        Prescription.interval_days,
    )
    for patient_id, fact_id, started, route, stopped_at, interval_days in prescriptions:
        if route == Route.DEPOT and stopped_at is None and interval_days:
            base = last_given.get(fact_id, started)
            next_due = (base + timedelta(days=interval_days)).date()
            due[patient_id] = min(due.get(patient_id, next_due), next_due)
    return due


def _legal_status(ctx: Context, at: datetime | None, ids: Sequence[str]) -> dict[str, str]:
    status: dict[str, str] = {}
    ctos = _columns(
        ctx, CommunityTreatmentOrder, at, ids, CommunityTreatmentOrder.patient_id, CommunityTreatmentOrder.ended_at
    )
    for patient_id, ended_at in ctos:
        if ended_at is None:
            status[patient_id] = "CTO"
    stays = _columns(ctx, Admission, at, ids, Admission.patient_id, Admission.discharged_at, Admission.legal_status)
    for patient_id, discharged_at, legal_status in stays:
        if discharged_at is None:
            status[patient_id] = f"Inpatient: {LEGAL_STATUS_CODES[legal_status]}"
    return status


__all__ = ["CaseloadEntry", "TeamSummary", "key_worker_caseload", "summarise", "team_caseload"]


def key_worker_caseload(ctx: Context, staff: Staff, at: datetime | None = None) -> list[CaseloadEntry]:
    """The people a member of staff is key worker for now (open allocations on open episodes), whatever the team."""
    when = at or ctx.clock.now()
    allocations = [
        k
        for k in ctx.session.scalars(
            known_at(KeyWorkerAllocation, at).where(
                KeyWorkerAllocation.staff_id == staff.id, KeyWorkerAllocation.entered_in_error.is_(False)
            )
        )
        if k.ended_at is None and k.occurred_at <= when
    ]
    if not allocations:
        return []
    stmt = known_at(Episode, at).where(
        Episode.fact_id.in_([k.episode_fact_id for k in allocations]), Episode.entered_in_error.is_(False)
    )
    episodes = [
        e
        for e in ctx.session.scalars(stmt.order_by(Episode.occurred_at, Episode.id))
        if e.status == EpisodeStatus.ACTIVE and e.occurred_at <= when
    ]
    return [e for e in _entries(ctx, episodes, at, detail=f"{staff.name}'s caseload") if e.key_worker == staff.name]
