"""Break-glass: a clinician reaches the record of someone they have no relationship with, saying why.

A grant is for one person, lasts ``DEFAULT_MINUTES`` (at most ``MAX_MINUTES``), and sits in the safety lead's
review queue until reviewed (appropriate, or inappropriate and followed up). Grants and reviews are append-only.
Services take a ``Context`` and never commit; ``record.relationships.break_glass`` also writes the audit event, and
``record.relationships.review_queue`` adds what was read under each grant."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from safetynet.access.decide import Resource, decide, require
from safetynet.access.grants import BreakGlassGrant, BreakGlassReview, ReviewOutcome
from safetynet.core.context import Context
from safetynet.core.errors import NotFound, Problem, ValidationFailed

DEFAULT_MINUTES = 60
MAX_MINUTES = 8 * 60  # a shift
MIN_REASON = 20  # characters: "emergency" alone is not a reason


def open_grant(ctx: Context, patient_id: str, reason: str, minutes: int = DEFAULT_MINUTES) -> BreakGlassGrant:
    """Open a time-limited grant for the acting clinician to one person's record."""
    require(decide(ctx.actor, "break_glass.open", Resource.person(patient_id)))
    problems = []
    if len(reason.strip()) < MIN_REASON:
        problems.append(Problem("reason", f"say why, in at least {MIN_REASON} characters"))
    if not 1 <= minutes <= MAX_MINUTES:
        problems.append(Problem("minutes", f"a grant lasts 1 to {MAX_MINUTES} minutes"))
    if ctx.actor.staff_id is None:
        problems.append(Problem("actor", "break-glass is for a named member of staff"))
    if problems:
        raise ValidationFailed(problems)
    assert ctx.actor.staff_id is not None
    now = ctx.clock.now()
    grant = BreakGlassGrant(
        id=ctx.ids.new_id(),
        staff_id=ctx.actor.staff_id,
        actor_name=ctx.actor.name,
        actor_role=str(ctx.actor.role),
        patient_id=patient_id,
        reason=reason.strip(),
        started_at=now,
        expires_at=now + timedelta(minutes=minutes),
    )
    ctx.session.add(grant)
    return grant


def active(ctx: Context, staff_id: str | None, patient_id: str, at: datetime | None = None) -> BreakGlassGrant | None:
    """The member of staff's live grant to this person at ``at`` (now), if any."""
    if staff_id is None:
        return None
    when = at or ctx.clock.now()
    stmt = (
        select(BreakGlassGrant)
        .where(
            BreakGlassGrant.staff_id == staff_id,
            BreakGlassGrant.patient_id == patient_id,
            BreakGlassGrant.started_at <= when,
            BreakGlassGrant.expires_at > when,
        )
        .order_by(BreakGlassGrant.expires_at.desc())
    )
    return ctx.session.scalars(stmt).first()


def unreviewed(ctx: Context) -> list[BreakGlassGrant]:
    """The review queue: every grant not yet reviewed, oldest first."""
    reviewed = select(BreakGlassReview.grant_id)
    stmt = select(BreakGlassGrant).where(BreakGlassGrant.id.not_in(reviewed)).order_by(BreakGlassGrant.started_at)
    return list(ctx.session.scalars(stmt))


def review(ctx: Context, grant_id: str, outcome: ReviewOutcome, note: str) -> BreakGlassReview:
    """The safety lead's review of one grant: appropriate or not, with a note. Once per grant; never one's own."""
    require(decide(ctx.actor, "break_glass.review", Resource.service()))
    grant = ctx.session.get(BreakGlassGrant, grant_id)
    if grant is None:
        raise NotFound(f"no break-glass grant {grant_id}")
    problems = []
    if not note.strip():
        problems.append(Problem("note", "say what the review found"))
    if ctx.actor.staff_id is not None and ctx.actor.staff_id == grant.staff_id:
        problems.append(Problem("reviewer", "nobody reviews their own break-glass access"))
    if ctx.session.scalars(select(BreakGlassReview).where(BreakGlassReview.grant_id == grant_id)).first():
        problems.append(Problem("grant", "this grant has already been reviewed"))
    if problems:
        raise ValidationFailed(problems)
    done = BreakGlassReview(
        grant_id=grant_id,
        reviewed_at=ctx.clock.now(),
        reviewer_staff_id=ctx.actor.staff_id,
        reviewer_name=ctx.actor.name,
        outcome=str(outcome),
        note=note.strip(),
    )
    ctx.session.add(done)
    return done
