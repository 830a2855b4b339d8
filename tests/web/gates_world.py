"""The chronology and discharge tests' own world (kept apart from ``world.py``, whose people other tests rely on).

- ``CHRONO``: the whole family-concern story (2021): the police incident of Sunday 4 April 22:10 reached the team at
  08:30 on Easter Monday, so the record as known at 08:00 that morning does not hold it.
- ``BLOCKED``, ``DISCHARGED``, ``WARD_PERSON``, ``BROWSER_DISCHARGE``: the disengaged-discharge story (EIP,
  2022) up to 24 March 11:00: two missed appointments (SN02 open), a three-section GP letter and a fresh safety
  plan. Discharging them for non-attendance is blocked by SN03 (and SN16, for the GP letter). ``DISCHARGED``
  (TestClient) and ``BROWSER_DISCHARGE`` (browser) are carried all the way through (GP letter sent, senior
  override, follow-up booked); the others stay as they are. (``WARD_PERSON`` is not on a ward: ``CHRONO``, still
  on Willow Ward, is the ward discharge.)

The clock stands at Friday 25 March 2022, 12:00."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from safetynet.access import accounts
from safetynet.core.clock import FixedClock
from safetynet.core.context import Actor, Context, Role
from safetynet.core.db import make_engine, unit_of_work
from safetynet.core.ids import SeededIds
from safetynet.record.org import service as org
from safetynet.record.org.schemas import StaffIn
from safetynet.scenarios import format as fmt
from safetynet.scenarios.loader import Loading
from safetynet.tasks.runner import reconcile_people
from safetynet.web.app import create_app
from safetynet.web.settings import WebSettings
from tests.conftest import SCENARIOS, Databases
from tests.web.conftest import _free_port, _Server
from tests.web.gates_people import (
    ACCOUNTS,
    BLOCKED,
    BROWSER_DISCHARGE,
    CHRONO,
    DISCHARGED,
    DISENGAGED_UNTIL,
    NOW,
    WARD_PERSON,
    GatesWorld,
)
from tests.web.world import PASSWORD


def _load(session: Any, name: str, number: str, person: str, until: datetime | None) -> str:
    scenario = fmt.load_file(SCENARIOS / name)
    patient = scenario.patient.model_copy(update={"nhs_number": number, "name": person})
    story = scenario.model_copy(update={"patient": patient})
    loading = Loading(session, story, ids=SeededIds(f"gates-{number}"))
    for index in loading.order:
        if until is None or story.events[index].recorded_at <= until:
            loading.apply(index)
    return loading.loaded.patient_id


def build(url: str) -> GatesWorld:
    engine = make_engine(url)
    with unit_of_work(engine) as session:
        people = [
            _load(session, "family-concern-easter.yaml", CHRONO, "Jordan Chronology", None),
            _load(session, "disengaged-discharge-blocked.yaml", BLOCKED, "Casey Blocked", DISENGAGED_UNTIL),
            _load(session, "disengaged-discharge-blocked.yaml", DISCHARGED, "Casey Discharged", DISENGAGED_UNTIL),
            _load(session, "disengaged-discharge-blocked.yaml", WARD_PERSON, "Casey Third", DISENGAGED_UNTIL),
            _load(session, "disengaged-discharge-blocked.yaml", BROWSER_DISCHARGE, "Casey Fourth", DISENGAGED_UNTIL),
        ]
        ctx = Context(session, Actor("Gates test set-up", Role.SYSTEM), FixedClock(NOW), SeededIds("gates"))
        reconcile_people(ctx, people)
        for name, role, team in ACCOUNTS.values():
            if org.find_staff(ctx, name) is None:
                org.create_staff(ctx, StaffIn(name=name, role=role, team=team))
        session.flush()
        for username, (name, _, _) in ACCOUNTS.items():
            staff = org.find_staff(ctx, name)
            assert staff is not None
            accounts.create(ctx, staff_id=staff.id, username=username, password=PASSWORD)
    engine.dispose()
    return GatesWorld(url=url, clock=FixedClock(NOW))


@pytest.fixture(scope="session")
def gates_world(databases: Databases) -> GatesWorld:
    from safetynet import migrations

    url = databases.new_url()
    migrations.upgrade(url)
    return build(url)


@pytest.fixture(scope="session")
def gates_app(gates_world: GatesWorld) -> FastAPI:
    settings = WebSettings(
        database_url=gates_world.url,
        secret_key="gates-tests-secret-key",
        secure_cookies=False,  # plain HTTP on loopback in tests only
        clock=gates_world.clock,
    )
    return create_app(settings)


@pytest.fixture
def gates_client(gates_app: FastAPI, gates_world: GatesWorld) -> Iterator[TestClient]:
    gates_world.reset_clock()
    with TestClient(gates_app, follow_redirects=False) as made:
        yield made
    gates_world.reset_clock()


@pytest.fixture(scope="session")
def gates_url(gates_app: FastAPI) -> Iterator[str]:
    """The real app on this world, under uvicorn on a free loopback port."""
    port = _free_port()
    server = _Server(uvicorn.Config(gates_app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
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
def gates_page(browser: Any, gates_url: str, gates_world: GatesWorld) -> Iterator[Any]:
    gates_world.reset_clock()
    # bypass_csp: the page's Content-Security-Policy would (rightly) refuse the axe-core script the tests inject.
    context = browser.new_context(base_url=gates_url, bypass_csp=True)
    context.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/])"), lambda route: route.abort())  # loopback only
    made = context.new_page()
    made.set_default_timeout(10_000)
    yield made
    context.close()
    gates_world.reset_clock()
