"""A NUL character (U+0000) anywhere in a CDS request is a 400 with a message, and nothing is written: PostgreSQL
refuses NUL in text, and schemathesis found feedback carrying one failing with a 500 there."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from safetynet.audit.models import AuditEvent
from safetynet.tasks.models import TaskEvent
from tests.interop.cds_hooks.conftest import CASEY, PATIENT_VIEW, hook_request, session_on

MakeClient = Callable[..., TestClient]


def _written(url: str) -> tuple[int, int]:
    with session_on(url) as session:
        audit = session.scalar(select(func.count()).select_from(AuditEvent))
        history = session.scalar(select(func.count()).select_from(TaskEvent))
        return audit or 0, history or 0


def test_nul_characters_in_a_request_are_refused_with_nothing_written(make_client: MakeClient, stories: str) -> None:
    client = make_client("2022-03-22T10:00")
    (card,) = client.post(PATIENT_VIEW, json=hook_request("patient-view", CASEY)).json()["cards"]
    before = _written(stories)
    feedback = {
        "card": card["uuid"],
        "outcome": "accepted",
        "outcomeTimestamp": "2022-03-22T10:05:00Z",
        "acceptedSuggestions": [{"id": "acting\x00"}],
    }
    refused = client.post(f"{PATIENT_VIEW}/feedback", json={"feedback": [feedback]})
    assert refused.status_code == 400
    assert "NUL" in refused.json()["detail"]
    request = hook_request("patient-view", CASEY)
    request["context"]["patientId"] = "ehr\x00-7"
    assert client.post(PATIENT_VIEW, json=request).status_code == 400
    request = hook_request("patient-view", CASEY)
    request["extension"] = {"vendor\x00": "x"}
    assert client.post(PATIENT_VIEW, json=request).status_code == 400
    assert _written(stories) == before
