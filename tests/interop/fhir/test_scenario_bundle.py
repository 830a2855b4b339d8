"""A review-derived story sent as one FHIR transaction Bundle makes the safety net raise the same tasks as loading
the scenario file does.

The helper turns the scenario into FHIR by loading it into a scratch database and exporting what the team had
recorded by the moment checked (each fact version a resource version, ``meta.lastUpdated`` its recorded time),
then removes Safetynet's own tags so the server must recognise every resource from its content, as it would from
another record system."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from safetynet import migrations
from safetynet.core.clock import FixedClock
from safetynet.core.context import Context
from safetynet.core.db import make_engine
from safetynet.core.ids import SeededIds
from safetynet.interop.fhir import bulk
from safetynet.interop.fhir.mapping import BY_RESOURCE
from safetynet.interop.fhir.mapping.base import parse_datetime
from safetynet.scenarios import format as fmt
from safetynet.scenarios import loader, runner
from safetynet.tasks.models import Task
from safetynet.tasks.runner import SAFETY_NET, reconcile_people
from safetynet.web.app import create_app
from safetynet.web.settings import WebSettings
from tests.conftest import SCENARIOS, Databases

STORIES = ["police-warrant-unread-inbox.yaml", "relapse-cycle-review-pattern.yaml", "section-2-after-section-3.yaml"]


def _busiest_check(scenario: fmt.Scenario) -> datetime:
    """The check at which the most findings are open: the moment the test asks about."""
    result = runner.run(scenario)
    best = max(result["checks"], key=lambda c: len(c["open"]))
    assert best["open"], "the story should have open findings at some check"
    moment = parse_datetime(best["on"])
    assert moment is not None
    return moment


def scenario_bundle(url: str, scenario: fmt.Scenario, at: datetime) -> dict[str, Any]:
    """Load the story into ``url`` and export, as a transaction Bundle, every version recorded by ``at``."""
    engine = make_engine(url)
    entries: list[dict[str, Any]] = []
    try:
        with Session(engine) as session, session.begin():
            loader.load(session, scenario, ids=SeededIds(scenario.id))
        with Session(engine) as session:
            for kind in ("Organization", "Practitioner", "Patient", *sorted(BY_RESOURCE)):
                for res in bulk.export_resources(session, kind):
                    stamp = parse_datetime(res["meta"]["lastUpdated"])
                    tags = [t["code"] for t in res["meta"].get("tag", [])]
                    if kind == "Task" and "cross_team_responses" not in tags:
                        continue  # the safety net's own tasks are not part of the story
                    if stamp is not None and stamp > at and kind not in ("Organization", "Practitioner"):
                        continue
                    res["meta"] = {"lastUpdated": res["meta"]["lastUpdated"]}
                    entries.append({"resource": res, "request": {"method": "PUT", "url": f"{kind}/{res['id']}"}})
    finally:
        engine.dispose()
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def tasks(url: str) -> list[tuple[Any, ...]]:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            rows = session.scalars(select(Task).order_by(Task.rule_id, Task.finding_key)).all()
            return [(t.rule_id, t.finding_key, t.summary, t.finding_since, t.due_at, t.status) for t in rows]
    finally:
        engine.dispose()


@pytest.mark.slow
@pytest.mark.parametrize("story", STORIES)
def test_transaction_bundle_raises_the_same_tasks_as_the_scenario(story: str, databases: Databases) -> None:
    scenario = fmt.parse(yaml.safe_load((SCENARIOS / story).read_text()))
    at = _busiest_check(scenario)
    scratch, loaded, posted = databases.new_url(), databases.new_url(), databases.new_url()
    for url in (scratch, loaded, posted):
        migrations.upgrade(url)
    bundle = scenario_bundle(scratch, scenario, at)

    # The reference: the scenario file loaded, the safety net asked at that moment.
    engine = make_engine(loaded)
    with Session(engine) as session, session.begin():
        person = loader.load(session, scenario, ids=SeededIds(scenario.id)).patient_id
        reconcile_people(Context(session, SAFETY_NET, FixedClock(at), SeededIds("x")), [person], at)
    engine.dispose()
    expected = tasks(loaded)
    assert expected, "the story should raise tasks at the moment checked"

    settings = WebSettings(database_url=posted, secure_cookies=False, clock=FixedClock(at))
    with TestClient(create_app(settings, api_clients=(("test-ehr", "token"),))) as client:
        response = client.post("/fhir", json=bundle, headers={"Authorization": "Bearer token"})
    assert response.status_code == 200, response.text[:2000]
    assert all(e["response"]["status"] in ("201 Created", "200 OK") for e in response.json()["entry"])
    assert tasks(posted) == expected


def test_stories_exist() -> None:
    for story in STORIES:
        assert Path(SCENARIOS / story).exists()
