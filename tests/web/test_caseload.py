"""My work's caseload: ``record.caseload.key_worker_caseload`` (the people a key worker holds now) and the last
attended contact the database works out for every caseload."""

from __future__ import annotations

from datetime import timedelta

from safetynet.core.context import Context, Role
from safetynet.record import caseload
from safetynet.record.contacts import service as contacts
from safetynet.record.contacts.models import ContactMode, ContactOutcome
from safetynet.record.contacts.schemas import ContactIn
from safetynet.record.episodes import service as episodes
from safetynet.record.episodes.schemas import EpisodeIn, KeyWorkerIn
from safetynet.record.org import service as org
from safetynet.record.org.schemas import StaffIn
from safetynet.record.patients import service as patients
from safetynet.record.patients.schemas import PatientIn
from tests.factories import NHS_NUMBERS, world


def _contact(ctx: Context, patient_id: str, days_ago: int, outcome: ContactOutcome, mode: ContactMode) -> str:
    data = ContactIn(occurred_at=ctx.clock.now() - timedelta(days=days_ago), outcome=outcome, mode=mode)
    return contacts.record_contact(ctx, patient_id, data).fact_id


def test_a_key_workers_caseload_is_their_people_only_with_the_last_attended_direct_contact(ctx: Context) -> None:
    w = world(ctx)
    episodes.assign_key_worker(
        ctx,
        w.patient.id,
        KeyWorkerIn(
            occurred_at=ctx.clock.now() - timedelta(days=60),
            episode_fact_id=w.episode.fact_id,
            staff_id=w.key_worker.id,
        ),
    )
    other_worker = org.create_staff(ctx, StaffIn(name="Kim Other", role=Role.KEY_WORKER, team="CMHT North"))
    other = patients.register(
        ctx, PatientIn(nhs_number=NHS_NUMBERS[1], name="Alex Other", born=w.patient.recorded_at.date())
    )
    episode = episodes.start_episode(ctx, other.id, EpisodeIn(occurred_at=ctx.clock.now(), team_id=w.team.id))
    ctx.session.flush()
    episodes.assign_key_worker(
        ctx,
        other.id,
        KeyWorkerIn(occurred_at=ctx.clock.now(), episode_fact_id=episode.fact_id, staff_id=other_worker.id),
    )
    _contact(ctx, w.patient.id, 20, ContactOutcome.ATTENDED, ContactMode.FACE_TO_FACE)
    _contact(ctx, w.patient.id, 10, ContactOutcome.ATTENDED, ContactMode.TEXT)  # not direct
    _contact(ctx, w.patient.id, 8, ContactOutcome.DNA, ContactMode.HOME_VISIT)  # not attended
    corrected = _contact(ctx, w.patient.id, 5, ContactOutcome.ATTENDED, ContactMode.HOME_VISIT)
    ctx.session.flush()
    contacts.correct_outcome(ctx, corrected, ContactOutcome.DNA, reason="He was out; recorded on the wrong form")
    ctx.session.flush()

    (entry,) = caseload.key_worker_caseload(ctx, w.key_worker)
    assert entry.name == "Sam Example"
    assert entry.key_worker == "Jo Smith"
    assert entry.last_attended_contact == ctx.clock.now() - timedelta(days=20)
    (theirs,) = caseload.key_worker_caseload(ctx, other_worker)
    assert theirs.name == "Alex Other"
    assert theirs.last_attended_contact is None
    team = {e.name: e.last_attended_contact for e in caseload.team_caseload(ctx, w.team)}
    assert team == {"Alex Other": None, "Sam Example": ctx.clock.now() - timedelta(days=20)}
