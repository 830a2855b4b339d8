"""A Safetynet app with a record system registered, on a fresh database holding review-derived scenario stories,
and the CDS Hooks JSON Schemas (written from the specification, in ``schemas/``) to check every message against."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from safetynet.core.clock import LONDON, FixedClock
from safetynet.core.db import make_engine, unit_of_work
from safetynet.core.ids import SeededIds
from safetynet.interop.cds_hooks.settings import CdsSettings
from safetynet.scenarios import format as scenario_format
from safetynet.scenarios import loader
from safetynet.web.app import create_app
from safetynet.web.settings import WebSettings

SCENARIOS = Path(__file__).parents[2] / "scenarios"
SCHEMAS = Path(__file__).parent / "schemas"
TOKEN = "token"
APP_URL = "https://safetynet.trust.example"
CASEY = "9991000151"  # disengaged-discharge-blocked.yaml
NICO = "9991001271"  # relapse-cycle-review-pattern.yaml
PATIENT_VIEW = "/cds-services/safetynet-patient-view"
DISCHARGE = "/cds-services/safetynet-encounter-discharge"


def schema(name: str) -> jsonschema_rs.Validator:
    return jsonschema_rs.validator_for(json.loads((SCHEMAS / f"{name}.json").read_text()), validate_formats=True)


def valid(name: str, document: Any) -> Any:
    """The document, after checking it against the specification's shape (every error listed on failure)."""
    errors = [f"{e.instance_path}: {e.message}" for e in schema(name).iter_errors(document)]
    assert errors == [], f"{name}: {errors}"
    return document


def load(url: str, *files: str) -> None:
    """Write scenario stories into the database (the safety net has not been run: the hooks do that)."""
    engine = make_engine(url)
    try:
        for index, name in enumerate(files):
            with unit_of_work(engine) as session:
                loader.load(session, scenario_format.load_file(SCENARIOS / name), ids=SeededIds(f"cds-{index}"))
    finally:
        engine.dispose()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


def client_for(url: str, moment: datetime, max_cards: int = 20) -> TestClient:
    app = create_app(
        WebSettings(database_url=url, secure_cookies=False, clock=FixedClock(moment)),
        api_clients=(("test-ehr", TOKEN),),
    )
    app.state.cds_settings = CdsSettings(max_cards=max_cards, app_url=APP_URL, rulebook_url=None)
    return TestClient(app, headers={"Authorization": f"Bearer {TOKEN}"})


def hook_request(hook: str, patient_id: str, prefetch: dict[str, Any] | None = None, **context: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "hook": hook,
        "hookInstance": str(uuid.uuid4()),
        "context": {"userId": "Practitioner/ehr-clinician-1", "patientId": patient_id, **context},
    }
    if prefetch is not None:
        body["prefetch"] = prefetch
    valid("request", body)
    return body


def fhir_patient(ident: str, nhs_number: str) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "id": ident,
        "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": nhs_number}],
        "name": [{"text": "From the record system"}],
    }


@pytest.fixture
def stories(fresh_url: str) -> str:
    load(fresh_url, "disengaged-discharge-blocked.yaml", "relapse-cycle-review-pattern.yaml")
    return fresh_url


@pytest.fixture
def make_client(stories: str) -> Iterator[Callable[..., TestClient]]:
    made: list[TestClient] = []

    def make(moment: str, max_cards: int = 20) -> TestClient:
        client = client_for(stories, at(moment), max_cards)
        client.__enter__()
        made.append(client)
        return client

    yield make
    for client in made:
        client.__exit__(None, None, None)


@contextmanager
def session_on(url: str) -> Iterator[Session]:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()
