"""A person on CMHT North's caseload, and staff with and without a relationship to them."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from safetynet.core.context import Actor, Context, Role
from safetynet.record.episodes import service as episodes
from safetynet.record.episodes.schemas import KeyWorkerIn
from safetynet.record.org import service as org
from safetynet.record.org.schemas import StaffIn
from tests.factories import World, world


@dataclass
class Cast:
    world: World
    jo: Actor  # key worker, CMHT North, allocated to the person
    kim: Actor  # clinician on CMHT North, not allocated
    pat: Actor  # clinician on Willow Ward: no relationship
    dev: Actor  # safety lead, no team
    charlie: Actor  # no access at all


def _staff(ctx: Context, name: str, role: Role, team: str | None) -> Actor:
    member = org.create_staff(ctx, StaffIn(name=name, role=role, team=team))
    ctx.session.flush()
    return Actor(name=name, role=role, staff_id=member.id, purpose="direct care")


@pytest.fixture
def cast(ctx: Context) -> Cast:
    w = world(ctx)
    episodes.assign_key_worker(
        ctx,
        w.patient.id,
        KeyWorkerIn(occurred_at=ctx.clock.now(), episode_fact_id=w.episode.fact_id, staff_id=w.key_worker.id),
    )
    ctx.session.flush()
    jo = Actor(name=w.key_worker.name, role=Role.KEY_WORKER, staff_id=w.key_worker.id, purpose="direct care")
    return Cast(
        world=w,
        jo=jo,
        kim=_staff(ctx, "Kim North", Role.KEY_WORKER, "CMHT North"),
        pat=_staff(ctx, "Pat Ward", Role.KEY_WORKER, "Willow Ward"),
        dev=_staff(ctx, "Dev Lead", Role.SAFETY_LEAD, None),
        charlie=_staff(ctx, "Charlie Outsider", Role.SYSTEM, None),
    )
