"""Referrals, episodes of care and key worker allocation.

Ending an episode here only records it. Whether a discharge may happen (non-attendance is never a reason; plans,
family, crisis cover) is the discharge workflow's gate, which calls this once the gate allows it.
"""

from __future__ import annotations

from datetime import datetime

from safetynet.core.context import Context
from safetynet.core.errors import Problem, ValidationFailed
from safetynet.core.facts import known_at
from safetynet.record import writes
from safetynet.record.common import record
from safetynet.record.episodes.models import Episode, EpisodeStatus, KeyWorkerAllocation, Referral
from safetynet.record.episodes.schemas import EpisodeEndIn, EpisodeIn, KeyWorkerIn, ReferralIn
from safetynet.record.org import service as org_service
from safetynet.record.org.models import Team


def record_referral(ctx: Context, patient_id: str, data: ReferralIn) -> Referral:
    _team(ctx, data.team_id)
    return record(ctx, Referral, patient_id, data)


def start_episode(ctx: Context, patient_id: str, data: EpisodeIn) -> Episode:
    assert data.team_id is not None
    team = _team(ctx, data.team_id)
    if open_episode(ctx, patient_id, team.id) is not None:
        raise ValidationFailed([Problem("team", f"an episode with {team.name} is already open")])
    return record(ctx, Episode, patient_id, data, pathway=team.pathway, status=EpisodeStatus.ACTIVE)


def end_episode(ctx: Context, episode_fact_id: str, data: EpisodeEndIn) -> Episode:
    episode = writes.latest(ctx, Episode, episode_fact_id)
    problems = []
    if episode.status != EpisodeStatus.ACTIVE or episode.entered_in_error:
        problems.append(Problem("episode", "this episode is not open"))
    if data.ended_at < episode.occurred_at:
        problems.append(Problem("ended_at", "an episode cannot end before it started"))
    if data.override_by_role and not (data.override_rationale or "").strip():
        problems.append(Problem("override_rationale", "an override needs a written rationale"))
    if problems:
        raise ValidationFailed(problems)
    for allocation in current_key_workers(ctx, episode.patient_id, episode_fact_id=episode_fact_id):
        writes.amend(ctx, KeyWorkerAllocation, allocation.fact_id, reason="episode ended", ended_at=data.ended_at)
    return writes.amend(
        ctx,
        Episode,
        episode_fact_id,
        reason=f"discharged: {data.reason}",
        status=EpisodeStatus.FINISHED,
        ended_at=data.ended_at,
        discharge_reason=data.reason,
        discharge_destination=data.destination,
        override_by_role=data.override_by_role,
        override_rationale=data.override_rationale,
    )


def assign_key_worker(ctx: Context, patient_id: str, data: KeyWorkerIn) -> KeyWorkerAllocation:
    """Name a key worker for an episode; whoever held it before stops holding it at the same moment."""
    episode = writes.latest(ctx, Episode, data.episode_fact_id)
    problems = []
    if episode.patient_id != patient_id:
        problems.append(Problem("episode_fact_id", "that episode belongs to someone else"))
    if episode.status != EpisodeStatus.ACTIVE:
        problems.append(Problem("episode_fact_id", "that episode is not open"))
    org_service.get_staff(ctx, data.staff_id)
    if problems:
        raise ValidationFailed(problems)
    for allocation in current_key_workers(ctx, patient_id, episode_fact_id=data.episode_fact_id):
        writes.amend(
            ctx, KeyWorkerAllocation, allocation.fact_id, reason="key worker changed", ended_at=data.occurred_at
        )
    return record(ctx, KeyWorkerAllocation, patient_id, data.model_copy(update={"team_id": episode.team_id}))


def end_key_worker(
    ctx: Context, allocation_fact_id: str, ended_at: datetime, reason: str = "key worker ended"
) -> KeyWorkerAllocation:
    allocation = writes.latest(ctx, KeyWorkerAllocation, allocation_fact_id)
    if allocation.ended_at is not None:
        raise ValidationFailed([Problem("allocation", "this allocation has already ended")])
    return writes.amend(ctx, KeyWorkerAllocation, allocation_fact_id, reason=reason, ended_at=ended_at)


def episodes(ctx: Context, patient_id: str, at: datetime | None = None) -> list[Episode]:
    stmt = known_at(Episode, at).where(Episode.patient_id == patient_id, Episode.entered_in_error.is_(False))
    return list(ctx.session.scalars(stmt.order_by(Episode.occurred_at)))


def open_episode(ctx: Context, patient_id: str, team_id: str, at: datetime | None = None) -> Episode | None:
    for episode in episodes(ctx, patient_id, at):
        if episode.team_id == team_id and episode.status == EpisodeStatus.ACTIVE:
            return episode
    return None


def current_key_workers(
    ctx: Context, patient_id: str, *, episode_fact_id: str | None = None, at: datetime | None = None
) -> list[KeyWorkerAllocation]:
    stmt = known_at(KeyWorkerAllocation, at).where(
        KeyWorkerAllocation.patient_id == patient_id,
        KeyWorkerAllocation.ended_at.is_(None),
        KeyWorkerAllocation.entered_in_error.is_(False),
    )
    if episode_fact_id:
        stmt = stmt.where(KeyWorkerAllocation.episode_fact_id == episode_fact_id)
    return list(ctx.session.scalars(stmt.order_by(KeyWorkerAllocation.occurred_at)))


def open_episodes_for_team(ctx: Context, team_id: str, at: datetime | None = None) -> list[Episode]:
    stmt = known_at(Episode, at).where(
        Episode.team_id == team_id, Episode.status == EpisodeStatus.ACTIVE, Episode.entered_in_error.is_(False)
    )
    return list(ctx.session.scalars(stmt.order_by(Episode.occurred_at)))


def _team(ctx: Context, team_id: str) -> Team:
    team = ctx.session.get(Team, team_id)
    if team is None:
        raise ValidationFailed([Problem("team_id", f"no team with id {team_id}")])
    return team
