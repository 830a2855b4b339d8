"""An open safety-net task lets the people asked to act open the record to act, even once the person has left their
caseload (a follow-up after discharge to the GP): the task's owner and their team may read, record and act on the
task, not discharge or share; when the task closes, so does that door; staff elsewhere stay refused."""

from __future__ import annotations

from datetime import timedelta

from safetynet.access.decide import Basis
from safetynet.core.context import Actor, Context, Role
from safetynet.record import relationships
from safetynet.record.episodes import service as episodes
from safetynet.record.episodes.schemas import EpisodeEndIn
from safetynet.record.org import service as org
from safetynet.record.org.schemas import StaffIn, TeamIn
from safetynet.tasks import service
from safetynet.tasks.runner import SAFETY_NET, reconcile
from safetynet.tasks.schemas import DismissIn
from tests.tasks.conftest import Trust


def _access(trust: Trust, actor: Actor, patient_id: str, action: str = "person.view") -> tuple[bool, Basis | None]:
    ctx = trust.ctx(actor)
    decision = relationships.check(ctx, action, patient_id, task_holder=service.held_by(ctx, patient_id))
    return decision.allowed, decision.basis


def test_an_open_task_opens_the_record_to_its_team_after_the_person_leaves_the_caseload(trust: Trust) -> None:
    (task,) = [t for t in reconcile(trust.ctx(SAFETY_NET), trust.history()).opened if t.rule_id == "SN01"]
    patient_id = task.patient_id
    jo, tess = trust.staff("Jo Smith"), trust.staff("Tess Manager")  # the task's owner; her team's manager
    setup = Context(trust.session, Actor("Setup", Role.ADMINISTRATOR), trust.clock)  # fresh ids, unlike trust.ctx
    org.create_team(setup, org.the_organisation(setup), TeamIn(name="CMHT South", pathway="cmht"))
    elsewhere = org.create_staff(setup, StaffIn(name="Robin South", role=Role.KEY_WORKER, team="CMHT South"))
    robin = Actor("Robin South", Role.KEY_WORKER, elsewhere.id)
    assert _access(trust, tess, patient_id) == (True, Basis.CASELOAD)

    (episode,) = episodes.episodes(setup, patient_id)
    trust.clock.advance(timedelta(hours=1))
    episodes.end_episode(
        setup,
        episode.fact_id,
        EpisodeEndIn(ended_at=trust.clock.now(), reason="recovered", destination="gp"),
    )
    trust.session.flush()
    assert not service.held_by(trust.ctx(robin), patient_id)
    assert _access(trust, robin, patient_id) == (False, None)
    for actor in (jo, tess):
        assert service.held_by(trust.ctx(actor), patient_id)
        assert _access(trust, actor, patient_id) == (True, Basis.OPEN_TASK)
        assert _access(trust, actor, patient_id, "person.record")[0]
        assert _access(trust, actor, patient_id, "task.acknowledge")[0]
        assert not _access(trust, actor, patient_id, "discharge.request")[0]
        assert not _access(trust, actor, patient_id, "person.share")[0]

    service.dismiss(trust.ctx(jo), task.id, DismissIn(rationale="Spoke to his mother: he is staying with her and well"))
    trust.session.flush()
    assert not service.held_by(trust.ctx(tess), patient_id)  # dismissed: nobody is asked to act any more
    assert _access(trust, tess, patient_id) == (False, None)
