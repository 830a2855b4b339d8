"""The recording forms' own world (kept apart from ``world.py``, whose people other tests rely on).

- ``RISKY``: the family-concern story (CMHT North, key worker Chris Taylor) up to Maundy Thursday 2021, 17:00, with
  more on top: a violence risk event the police reported (serious harm), a self-harm event entered in error, a depot
  prescription, two more unanswered family concerns and two unanswered requests from CMHT North to EIP.
- ``OUTSIDER``: a person open only to EIP, on no team of Chris Taylor's.

Staff with accounts: Chris Taylor (key worker, CMHT North), Dr Robin Second (consultant, CMHT North), Jo Early
(key worker, EIP) and Ada Admin (administrator). The clock stands at Good Friday 2021, 09:00."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from safetynet.access import accounts
from safetynet.core.clock import LONDON, FixedClock
from safetynet.core.context import Actor, Context, Role
from safetynet.core.db import make_engine, unit_of_work
from safetynet.core.ids import SeededIds
from safetynet.record.carers import service as carers
from safetynet.record.carers.schemas import FamilyConcernIn
from safetynet.record.episodes import service as episodes
from safetynet.record.episodes.schemas import EpisodeIn
from safetynet.record.medication import service as medication
from safetynet.record.medication.schemas import PrescriptionIn
from safetynet.record.org import service as org
from safetynet.record.org.schemas import StaffIn, TeamIn
from safetynet.record.patients import service as patients
from safetynet.record.patients.schemas import PatientIn
from safetynet.record.requests import service as requests
from safetynet.record.requests.schemas import CrossTeamRequestIn
from safetynet.record.risk import service as risk
from safetynet.record.risk.schemas import RiskEventIn
from safetynet.scenarios import format as fmt
from safetynet.scenarios.loader import Loading
from safetynet.tasks.runner import reconcile_people
from safetynet.web.app import create_app
from safetynet.web.settings import WebSettings
from tests.conftest import SCENARIOS, Databases
from tests.web.conftest import _free_port, _Server
from tests.web.world import PASSWORD

LOADED_UNTIL = datetime(2021, 4, 1, 17, 0, tzinfo=LONDON)
NOW = datetime(2021, 4, 2, 9, 0, tzinfo=LONDON)
RISKY = "9993000000"
OUTSIDER = "9993000019"
VIOLENCE_ON = datetime(2020, 11, 2, 21, 15, tzinfo=LONDON)

ACCOUNTS = {
    "chris": ("Chris Taylor", Role.KEY_WORKER, "CMHT North"),
    "robin": ("Dr Robin Second", Role.CONSULTANT, "CMHT North"),
    "jo": ("Jo Early", Role.KEY_WORKER, "EIP"),
    "ada": ("Ada Admin", Role.ADMINISTRATOR, None),
}


@dataclass
class RecordingWorld:
    url: str
    clock: FixedClock

    def reset_clock(self) -> None:
        self.clock.set(NOW)


def build(url: str) -> RecordingWorld:
    engine = make_engine(url)
    scenario = fmt.load_file(SCENARIOS / "family-concern-easter.yaml")
    with unit_of_work(engine) as session:
        patient = scenario.patient.model_copy(update={"nhs_number": RISKY, "name": "Sam Recording"})
        story = scenario.model_copy(update={"patient": patient})
        loading = Loading(session, story, ids=SeededIds("recording"))
        for index in loading.order:
            if story.events[index].recorded_at <= LOADED_UNTIL:
                loading.apply(index)
        risky = loading.loaded.patient_id
        ctx = Context(session, Actor("Recording test set-up", Role.SYSTEM), FixedClock(LOADED_UNTIL), SeededIds("rec"))
        eip = org.create_team(ctx, org.the_organisation(ctx), TeamIn(name="EIP", pathway="eip"))
        cmht = org.get_team(ctx, "CMHT North")
        session.flush()
        for name, role, team in ACCOUNTS.values():
            if org.find_staff(ctx, name) is None:
                org.create_staff(ctx, StaffIn(name=name, role=role, team=team))
        session.flush()
        for username, (name, _, _) in ACCOUNTS.items():
            staff = org.find_staff(ctx, name)
            assert staff is not None
            accounts.create(ctx, staff_id=staff.id, username=username, password=PASSWORD)
        chris = org.find_staff(ctx, "Chris Taylor")
        assert chris is not None
        acting = ctx.as_actor(Actor("Chris Taylor", Role.KEY_WORKER, staff_id=chris.id))
        risk.record_risk_event(
            acting,
            risky,
            RiskEventIn(
                occurred_at=VIOLENCE_ON,
                category="violence_to_others",
                harm="serious",
                source="police",
                description="Punched a stranger at a bus stop while unwell; arrested and released",
            ),
        )
        wrong = risk.record_risk_event(
            acting,
            risky,
            RiskEventIn(
                occurred_at=LOADED_UNTIL - timedelta(days=20),
                category="self_harm",
                harm="minor",
                source="family",
                description="Cut his arm (recorded against the wrong person)",
            ),
        )
        session.flush()
        risk.enter_risk_event_in_error(acting, risky, wrong.fact_id, "Recorded on the wrong person's record")
        medication.prescribe(
            acting,
            risky,
            PrescriptionIn(
                occurred_at=LOADED_UNTIL - timedelta(days=40),
                drug="aripiprazole depot",
                route="depot",
                dose="400 mg",
                interval_days=28,
            ),
        )
        for minutes, text in ((10, "He is not eating and will not open the door"), (5, "He is up all night again")):
            carers.record_concern(
                acting,
                risky,
                FamilyConcernIn(
                    occurred_at=LOADED_UNTIL - timedelta(minutes=minutes),
                    raised_by="Dee Placeholder",
                    channel="email",
                    text=text,
                ),
            )
        for ask in ("depot", "review"):
            requests.make_request(
                acting,
                risky,
                CrossTeamRequestIn(
                    occurred_at=LOADED_UNTIL - timedelta(days=3), team_id=cmht.id, to_team_id=eip.id, ask=ask
                ),
            )
        outsider = patients.register(
            ctx, PatientIn(nhs_number=OUTSIDER, name="Alex Elsewhere", born=date(2001, 6, 14), sex="female")
        )
        session.flush()
        episodes.start_episode(
            ctx, outsider.id, EpisodeIn(occurred_at=LOADED_UNTIL - timedelta(days=90), team_id=eip.id)
        )
        reconcile_people(ctx, [risky, outsider.id])
    engine.dispose()
    return RecordingWorld(url=url, clock=FixedClock(NOW))


@pytest.fixture(scope="session")
def recording_world(databases: Databases) -> RecordingWorld:
    from safetynet import migrations

    url = databases.new_url()
    migrations.upgrade(url)
    return build(url)


@pytest.fixture(scope="session")
def recording_app(recording_world: RecordingWorld) -> FastAPI:
    settings = WebSettings(
        database_url=recording_world.url,
        secret_key="recording-tests-secret-key",
        secure_cookies=False,  # plain HTTP on loopback in tests only
        clock=recording_world.clock,
    )
    return create_app(settings)


@pytest.fixture
def recording_client(recording_app: FastAPI, recording_world: RecordingWorld) -> Iterator[TestClient]:
    recording_world.reset_clock()
    with TestClient(recording_app, follow_redirects=False) as made:
        yield made
    recording_world.reset_clock()


@pytest.fixture(scope="session")
def recording_url(recording_app: FastAPI) -> Iterator[str]:
    """The real app on this world, under uvicorn on a free loopback port."""
    port = _free_port()
    server = _Server(uvicorn.Config(recording_app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def recording_page(browser: Any, recording_url: str, recording_world: RecordingWorld) -> Iterator[Any]:
    recording_world.reset_clock()
    # bypass_csp: the page's Content-Security-Policy would (rightly) refuse the axe-core script the tests inject.
    context = browser.new_context(base_url=recording_url, bypass_csp=True)
    context.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/])"), lambda route: route.abort())  # loopback only
    made = context.new_page()
    made.set_default_timeout(10_000)
    yield made
    context.close()
    recording_world.reset_clock()
