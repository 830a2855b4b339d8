"""An actor's relationships to a person, read from the record for ``access.decide``; break-glass and partner shares
with their audit events.

``access`` sits below the record and the audit, so it cannot read episodes or write audit events; this module does
both around it: ``load`` (the teams with the person on their caseload, the actor's teams, a key worker allocation,
a live break-glass grant, a partner's practice registration, a family member's carer registration and consent),
``check`` (decide, for a person, with those relationships), ``break_glass`` and ``share``
(the access service, plus the audit event), and ``review_queue`` (each unreviewed grant with what was read under it).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import func, select

from safetynet.access import break_glass as grants
from safetynet.access import shares
from safetynet.access.decide import Decision, Relationships, Resource, decide
from safetynet.access.grants import BreakGlassGrant, PartnerShare
from safetynet.audit import service as audit
from safetynet.audit.models import AuditEvent
from safetynet.core.context import Actor, Context
from safetynet.core.facts import known_at
from safetynet.record.carers.models import Carer
from safetynet.record.episodes.models import Episode, EpisodeStatus, KeyWorkerAllocation
from safetynet.record.org.models import Staff
from safetynet.record.patients.models import PatientDetails


def load(
    ctx: Context,
    actor: Actor,
    patient_id: str,
    *,
    organisation: str | None = None,
    carer_fact_id: str | None = None,
) -> Relationships:
    """The actor's relationships to this person now. ``organisation`` is a partner's and ``carer_fact_id`` a family
    member's registered carer record (both from their account)."""
    now = ctx.clock.now()
    staff = ctx.session.get(Staff, actor.staff_id) if actor.staff_id else None
    actor_teams = frozenset({staff.team_id}) if staff is not None and staff.team_id and staff.active else frozenset()
    episodes = ctx.session.scalars(
        known_at(Episode).where(
            Episode.patient_id == patient_id,
            Episode.entered_in_error.is_(False),
            Episode.status == EpisodeStatus.ACTIVE,
            Episode.occurred_at <= now,
        )
    )
    caseload = frozenset(e.team_id for e in episodes if e.team_id)
    care = False
    if actor.staff_id:
        allocations = ctx.session.scalars(
            known_at(KeyWorkerAllocation).where(
                KeyWorkerAllocation.patient_id == patient_id,
                KeyWorkerAllocation.staff_id == actor.staff_id,
                KeyWorkerAllocation.entered_in_error.is_(False),
                KeyWorkerAllocation.occurred_at <= now,
            )
        )
        care = any(a.ended_at is None or a.ended_at > now for a in allocations)
    grant = grants.active(ctx, actor.staff_id, patient_id, now)
    registered_gp = False
    if organisation:
        details = ctx.session.scalars(known_at(PatientDetails).where(PatientDetails.patient_id == patient_id)).first()
        registered_gp = details is not None and details.gp_practice == organisation
    registered_carer = carer_consent = False
    if carer_fact_id:
        carer = ctx.session.scalars(
            known_at(Carer).where(Carer.fact_id == carer_fact_id, Carer.patient_id == patient_id)
        ).first()
        registered_carer = carer is not None and not carer.entered_in_error
        carer_consent = registered_carer and carer is not None and carer.consent_to_share
    return Relationships(
        actor_teams=actor_teams,
        caseload_teams=caseload,
        care_relationship=care,
        break_glass_grant=grant.id if grant else None,
        organisation=organisation,
        registered_gp=registered_gp,
        registered_carer=registered_carer,
        carer_consent=carer_consent,
    )


def check(
    ctx: Context,
    action: str,
    patient_id: str,
    *,
    organisation: str | None = None,
    carer_fact_id: str | None = None,
    task_holder: bool = False,
) -> Decision:
    """``decide`` for the acting user and one person, with their relationships read from the record. The record
    knows nothing of tasks, so the layer above says whether an open task about the person is with the actor or
    their team (``tasks.service.held_by``)."""
    relationships = load(ctx, ctx.actor, patient_id, organisation=organisation, carer_fact_id=carer_fact_id)
    if task_holder:
        relationships = replace(relationships, task_holder=True)
    return decide(ctx.actor, action, Resource.person(patient_id), relationships)


def break_glass(ctx: Context, patient_id: str, reason: str, minutes: int = grants.DEFAULT_MINUTES) -> BreakGlassGrant:
    """Open a break-glass grant and audit it (it shows in the person's access log and the safety lead's queue)."""
    grant = grants.open_grant(ctx, patient_id, reason, minutes)
    audit.record(
        ctx,
        action="break_glass",
        entity="break_glass_grants",
        entity_id=grant.id,
        patient_id=patient_id,
        detail=f"until {grant.expires_at.isoformat()}: {grant.reason}",
    )
    return grant


def share(ctx: Context, patient_id: str, data: shares.ShareIn) -> PartnerShare:
    """Share with a partner, with its lawful basis and exactly what went; audited."""
    made = shares.share(ctx, patient_id, data, load(ctx, ctx.actor, patient_id))
    audit.record(
        ctx,
        action="share",
        entity="partner_shares",
        entity_id=made.id,
        patient_id=patient_id,
        detail=f"to {made.recipient_role} {made.recipient_organisation} under {made.lawful_basis}: "
        + ", ".join(str(i.kind) for i in data.items),
    )
    return made


@dataclass(frozen=True, slots=True)
class QueueItem:
    grant_id: str
    who: str
    role: str
    patient_id: str
    reason: str
    started_at: datetime
    expires_at: datetime
    reads: int  # audited reads of the person's record by that member of staff while the grant was live
    writes: int


def review_queue(ctx: Context) -> list[QueueItem]:
    """The safety lead's queue: unreviewed grants, oldest first, each with what was done under it."""
    items = []
    for grant in grants.unreviewed(ctx):
        counts = dict(
            ctx.session.execute(
                select(AuditEvent.action, func.count())
                .where(
                    AuditEvent.actor_staff_id == grant.staff_id,
                    AuditEvent.patient_id == grant.patient_id,
                    AuditEvent.at >= grant.started_at,
                    AuditEvent.at < grant.expires_at,
                    AuditEvent.action.not_in(("break_glass", "share")),
                )
                .group_by(AuditEvent.action)
            )
            .tuples()
            .all()
        )
        reads = counts.pop("read", 0)
        items.append(
            QueueItem(
                grant_id=grant.id,
                who=grant.actor_name,
                role=grant.actor_role,
                patient_id=grant.patient_id,
                reason=grant.reason,
                started_at=grant.started_at,
                expires_at=grant.expires_at,
                reads=reads,
                writes=sum(counts.values()),
            )
        )
    return items
