"""Legitimate relationships read from the record, and break-glass: reasoned, time-limited, audited, reviewed."""

from __future__ import annotations

from datetime import timedelta

import pytest

from safetynet.access import break_glass
from safetynet.access.decide import AccessDenied, Basis
from safetynet.access.grants import ReviewOutcome
from safetynet.audit import service as audit
from safetynet.core.clock import FixedClock
from safetynet.core.context import Context
from safetynet.core.errors import ValidationFailed
from safetynet.record import relationships
from safetynet.record.chart import chart
from safetynet.record.episodes import service as episodes
from safetynet.record.episodes.schemas import EpisodeEndIn
from tests.access.conftest import Cast

REASON = "Seen in the emergency department at night; the crisis plan is needed now"


def test_the_key_worker_and_their_team_may_read_and_a_clinician_elsewhere_may_not(ctx: Context, cast: Cast) -> None:
    pid = cast.world.patient.id
    assert relationships.check(ctx.as_actor(cast.jo), "person.view", pid).basis is Basis.CARE_RELATIONSHIP
    assert relationships.check(ctx.as_actor(cast.kim), "person.view", pid).basis is Basis.CASELOAD
    refused = relationships.check(ctx.as_actor(cast.pat), "person.view", pid)
    assert not refused.allowed
    assert not relationships.check(ctx.as_actor(cast.charlie), "person.view", pid).allowed


def test_when_the_episode_ends_the_team_no_longer_has_the_person_on_its_caseload(
    ctx: Context, cast: Cast, clock: FixedClock
) -> None:
    clock.advance(timedelta(days=1))
    episodes.end_episode(
        ctx, cast.world.episode.fact_id, EpisodeEndIn(ended_at=clock.now(), reason="moved_away", destination="gp")
    )
    ctx.session.flush()
    clock.advance(timedelta(hours=1))
    assert not relationships.check(ctx.as_actor(cast.kim), "person.view", cast.world.patient.id).allowed


def test_break_glass_opens_access_for_a_while_and_is_audited_and_queued(
    ctx: Context, cast: Cast, clock: FixedClock
) -> None:
    pid = cast.world.patient.id
    pat = ctx.as_actor(cast.pat)
    grant = relationships.break_glass(pat, pid, REASON, minutes=30)
    ctx.session.flush()
    decision = relationships.check(pat, "person.view", pid)
    assert (decision.allowed, decision.basis, decision.break_glass_grant) == (True, Basis.BREAK_GLASS, grant.id)
    chart(pat, cast.world.patient.nhs_number)  # the read under the grant is audited as usual
    ctx.session.flush()
    logged = [e for e in audit.events_for_patient(ctx, pid) if e.actor_staff_id == cast.pat.staff_id]
    assert [e.action for e in logged] == ["break_glass", "read"]
    assert REASON in (logged[0].detail or "")
    [item] = relationships.review_queue(ctx)
    assert (item.grant_id, item.who, item.reads, item.writes) == (grant.id, "Pat Ward", 1, 0)
    clock.advance(timedelta(minutes=31))
    assert not relationships.check(pat, "person.view", pid).allowed  # expired


@pytest.mark.parametrize(("reason", "minutes"), [("urgent", 30), (REASON, 0), (REASON, 8 * 60 + 1)])
def test_break_glass_needs_a_real_reason_and_a_short_time(ctx: Context, cast: Cast, reason: str, minutes: int) -> None:
    with pytest.raises(ValidationFailed):
        relationships.break_glass(ctx.as_actor(cast.pat), cast.world.patient.id, reason, minutes)


def test_only_clinicians_may_break_the_glass(ctx: Context, cast: Cast) -> None:
    with pytest.raises(AccessDenied):
        relationships.break_glass(ctx.as_actor(cast.charlie), cast.world.patient.id, REASON)


def test_the_safety_lead_reviews_each_grant_once_and_it_leaves_the_queue(ctx: Context, cast: Cast) -> None:
    grant = relationships.break_glass(ctx.as_actor(cast.pat), cast.world.patient.id, REASON)
    ctx.session.flush()
    with pytest.raises(AccessDenied):
        break_glass.review(ctx.as_actor(cast.kim), grant.id, ReviewOutcome.APPROPRIATE, "fine")
    break_glass.review(ctx.as_actor(cast.dev), grant.id, ReviewOutcome.APPROPRIATE, "ED attendance confirmed")
    ctx.session.flush()
    assert relationships.review_queue(ctx) == []
    with pytest.raises(ValidationFailed, match="already been reviewed"):
        break_glass.review(ctx.as_actor(cast.dev), grant.id, ReviewOutcome.INAPPROPRIATE, "again")


def test_nobody_reviews_their_own_break_glass(ctx: Context, cast: Cast) -> None:
    other = relationships.break_glass(ctx.as_actor(cast.dev), cast.world.patient.id, REASON)
    ctx.session.flush()
    with pytest.raises(ValidationFailed, match="own"):
        break_glass.review(ctx.as_actor(cast.dev), other.id, ReviewOutcome.APPROPRIATE, "mine")
