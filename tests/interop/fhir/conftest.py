"""An app with a FHIR client registered, on a fresh database, and a small directory to write about."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from safetynet.core.clock import FixedClock
from safetynet.core.db import make_engine
from safetynet.migrations import metadata
from safetynet.web.app import create_app
from safetynet.web.settings import WebSettings
from tests.factories import NHS_NUMBERS

TOKEN = "token"
TRUST = "trust-1"
TEAM = "team-cmht"
WARD = "ward-1"
STAFF = "staff-1"
PATIENT = "patient-1"


@pytest.fixture
def fhir_clock() -> FixedClock:
    return FixedClock(datetime(2024, 3, 1, 12, 0, tzinfo=UTC))


@pytest.fixture
def client(fresh_url: str, fhir_clock: FixedClock) -> Iterator[TestClient]:
    settings = WebSettings(database_url=fresh_url, secure_cookies=False, clock=fhir_clock)
    app = create_app(settings, api_clients=(("test-ehr", TOKEN),))
    with TestClient(app, headers={"Authorization": f"Bearer {TOKEN}"}) as made:
        yield made


def put(client: TestClient, res: dict[str, Any], **headers: str) -> Any:
    return client.put(f"/fhir/{res['resourceType']}/{res['id']}", json=res, headers=headers)


def directory(client: TestClient) -> None:
    """The trust, a CMHT, a ward, a key worker and one person, written through FHIR."""
    for res in (
        {
            "resourceType": "Organization",
            "id": TRUST,
            "name": "Synthetic Trust",
            "identifier": [{"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "RZZ"}],
        },
        {
            "resourceType": "Organization",
            "id": TEAM,
            "name": "CMHT North",
            "partOf": {"reference": f"Organization/{TRUST}"},
            "type": [
                {"coding": [{"system": "https://fhir.safetynet.example/fhir/CodeSystem/pathway", "code": "cmht"}]}
            ],
        },
        {
            "resourceType": "Organization",
            "id": WARD,
            "name": "Oak Ward",
            "partOf": {"reference": f"Organization/{TRUST}"},
            "type": [
                {"coding": [{"system": "https://fhir.safetynet.example/fhir/CodeSystem/pathway", "code": "inpatient"}]}
            ],
        },
        {"resourceType": "Practitioner", "id": STAFF, "name": [{"text": "Chris Taylor"}]},
        patient(PATIENT, NHS_NUMBERS[0]),
    ):
        response = put(client, res)
        assert response.status_code in (200, 201), response.text


def patient(ident: str, nhs_number: str, name: str = "Sam Example") -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "id": ident,
        "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": nhs_number}],
        "name": [{"text": name}],
        "gender": "male",
        "birthDate": "1990-05-01",
    }


def counts(url: str) -> dict[str, int]:
    """Rows in every table: what "nothing was written" is checked against."""
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            return {
                name: session.scalar(select(func.count()).select_from(t)) or 0 for name, t in metadata().tables.items()
            }
    finally:
        engine.dispose()
