"""Small builders for a person with a team, so each test states only what it is about."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from safetynet.core.context import Context, Role
from safetynet.record.episodes import service as episodes
from safetynet.record.episodes.models import Episode
from safetynet.record.episodes.schemas import EpisodeIn
from safetynet.record.org import service as org
from safetynet.record.org.models import Pathway, Staff, Team
from safetynet.record.org.schemas import OrganisationIn, StaffIn, TeamIn
from safetynet.record.patients import service as patients
from safetynet.record.patients.models import Patient
from safetynet.record.patients.schemas import PatientIn

NHS_NUMBERS = ["9990000018", "9990000026", "9990000034", "9990000042", "9990000050", "9990000069"]


@dataclass
class World:
    team: Team
    ward: Team
    key_worker: Staff
    patient: Patient
    episode: Episode


def world(ctx: Context, nhs_number: str = NHS_NUMBERS[0]) -> World:
    organisation = org.create_organisation(ctx, OrganisationIn(ods_code="RZZ", name="Test Trust"))
    ctx.session.flush()
    team = org.create_team(ctx, organisation, TeamIn(name="CMHT North", pathway=Pathway.CMHT))
    ward = org.create_team(ctx, organisation, TeamIn(name="Willow Ward", pathway=Pathway.INPATIENT))
    ctx.session.flush()
    key_worker = org.create_staff(ctx, StaffIn(name="Jo Smith", role=Role.KEY_WORKER, team="CMHT North"))
    patient = patients.register(
        ctx, PatientIn(nhs_number=nhs_number, name="Sam Example", born=date(1990, 5, 1), gp_practice="Y00001")
    )
    episode = episodes.start_episode(ctx, patient.id, EpisodeIn(occurred_at=ctx.clock.now(), team_id=team.id))
    ctx.session.flush()
    return World(team=team, ward=ward, key_worker=key_worker, patient=patient, episode=episode)
