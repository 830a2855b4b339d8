"""CDS Hooks 2.0 at /cds-services, over the review-derived stories: every message checked against the JSON Schemas
written from the specification, and the behaviour the issue asks for (urgency order, limit, summary length,
prefetch, the discharge gates, feedback into the task history and the audit trail)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from fhir.resources.R4B.appointment import Appointment
from sqlalchemy import func, select

from safetynet.audit.models import AuditEvent
from safetynet.core.clock import FixedClock
from safetynet.core.context import Context
from safetynet.record.episodes.models import Episode
from safetynet.record.patients.models import Patient
from safetynet.tasks import service as tasks
from safetynet.tasks.models import Task, TaskEvent
from safetynet.tasks.schemas import AcknowledgeIn
from tests import personas
from tests.factories import NHS_NUMBERS
from tests.interop.cds_hooks.conftest import (
    APP_URL,
    CASEY,
    DISCHARGE,
    NICO,
    PATIENT_VIEW,
    at,
    fhir_patient,
    hook_request,
    session_on,
    valid,
)

MakeClient = Callable[..., TestClient]
# relapse-cycle-review-pattern.yaml, check 4 (18 January 2021, 18:00): four findings overdue, two not yet due; most
# urgent first is critical before warning, and the earliest deadline first within each.
NICO_MOMENT = "2021-01-18T18:00"
NICO_ORDER = ["SN11", "SN11", "SN04", "SN01", "SN08", "SN07"]
NICO_INDICATORS = ["critical"] * 4 + ["warning"] * 2


def cards(client: TestClient, patient_id: str, **kwargs: Any) -> list[dict[str, Any]]:
    response = client.post(PATIENT_VIEW, json=hook_request("patient-view", patient_id, **kwargs))
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = valid("response", response.json())["cards"]
    return found


def test_discovery_lists_both_services_with_their_prefetch(make_client: MakeClient) -> None:
    client = make_client("2022-03-22T10:00")
    body = valid("discovery", client.get("/cds-services").json())
    by_id = {s["id"]: s for s in body["services"]}
    assert by_id["safetynet-patient-view"]["hook"] == "patient-view"
    assert by_id["safetynet-encounter-discharge"]["hook"] == "encounter-discharge"
    for service in by_id.values():
        assert service["prefetch"] == {"patient": "Patient/{{context.patientId}}"}
        assert service["title"]
        assert service["description"]


def test_every_endpoint_needs_a_registered_record_systems_token(make_client: MakeClient) -> None:
    client = make_client("2022-03-22T10:00")
    assert client.get("/cds-services", headers={"Authorization": "Bearer wrong"}).status_code == 401
    request = hook_request("patient-view", CASEY)
    assert client.post(PATIENT_VIEW, json=request, headers={"Authorization": ""}).status_code == 401


def test_patient_view_shows_the_open_findings_most_urgent_first(make_client: MakeClient, stories: str) -> None:
    client = make_client(NICO_MOMENT)
    found = cards(client, NICO)
    assert [c["source"]["topic"]["code"] for c in found] == NICO_ORDER
    assert [c["indicator"] for c in found] == NICO_INDICATORS
    for card in found:
        rule = card["source"]["topic"]["code"]
        assert len(card["summary"]) < 140
        assert card["source"]["url"].endswith(f"/cds-services/rulebook#{rule.lower()}")
        assert rule in card["source"]["label"]
        assert card["links"] == [
            {"label": "Open this person in Safetynet", "url": f"{APP_URL}/people/{NICO}", "type": "absolute"}
        ]
        assert "Source: " in card["detail"]
        assert "Why: " in card["detail"]
    family = found[3]
    assert "Evidence, as recorded:" in family["detail"]
    assert "Thu 14 Jan 2021" in family["detail"]
    assert found[0]["summary"].startswith("SN11 overdue: ")
    assert found[4]["summary"].startswith("SN08: ")
    # Someone acknowledges the police information (not yet due): it becomes info, and goes to the end.
    with session_on(stories) as session, session.begin():
        ctx = Context(session, personas.ALICE, FixedClock(at(NICO_MOMENT)))
        tasks.acknowledge(ctx, found[4]["uuid"], AcknowledgeIn(rationale="Reading the police report today"))
    again = cards(client, NICO)
    assert [c["indicator"] for c in again] == ["critical"] * 4 + ["warning", "info"]
    assert again[-1]["uuid"] == found[4]["uuid"]


def test_at_most_the_configured_number_of_cards_the_most_urgent(make_client: MakeClient) -> None:
    found = cards(make_client(NICO_MOMENT, max_cards=3), NICO)
    assert [c["source"]["topic"]["code"] for c in found] == NICO_ORDER[:3]
    assert "3 more open finding(s)" in found[-1]["detail"]


def test_cards_are_the_safety_nets_tasks_and_asking_twice_opens_nothing_new(
    make_client: MakeClient, stories: str
) -> None:
    client = make_client(NICO_MOMENT)
    first = {c["uuid"] for c in cards(client, NICO)}
    second = {c["uuid"] for c in cards(client, NICO)}
    assert first == second
    with session_on(stories) as session:
        nico = session.scalars(select(Patient).where(Patient.nhs_number == NICO)).one()
        live = session.scalars(select(Task).where(Task.patient_id == nico.id, Task.closed_at.is_(None))).all()
        assert {t.id for t in live} == first


def test_a_person_safetynet_does_not_know_gets_no_cards(make_client: MakeClient) -> None:
    client = make_client("2022-03-22T10:00")
    assert cards(client, NHS_NUMBERS[3]) == []
    assert cards(client, "ehr-local-id-123") == []
    # known to Safetynet only later than now: not yet known
    assert cards(make_client("2019-01-01T10:00"), NICO) == []


def test_the_prefetched_patients_nhs_number_identifies_the_person(make_client: MakeClient) -> None:
    client = make_client("2022-03-22T10:00")
    # The record system's own Patient id, with the NHS number on the prefetched Patient.
    by_prefetch = cards(client, "ehr-42", prefetch={"patient": fhir_patient("ehr-42", CASEY)})
    assert [c["source"]["topic"]["code"] for c in by_prefetch] == ["SN02"]
    assert by_prefetch[0]["links"][0]["url"].endswith(f"/people/{CASEY}")
    # The prefetched identifier wins over a patientId that reads as another NHS number.
    winner = cards(client, NICO, prefetch={"patient": fhir_patient(NICO, CASEY)})
    assert [c["uuid"] for c in winner] == [c["uuid"] for c in by_prefetch]
    # A null prefetch (the record system had nothing): looked up directly.
    direct = cards(client, CASEY, prefetch={"patient": None})
    assert [c["uuid"] for c in direct] == [c["uuid"] for c in by_prefetch]


def test_malformed_requests_are_400_with_a_message(make_client: MakeClient) -> None:
    client = make_client("2022-03-22T10:00")
    good = hook_request("patient-view", CASEY)
    cases: list[tuple[Any, str]] = [
        ({k: v for k, v in good.items() if k != "hookInstance"}, "hookInstance"),
        (good | {"hookInstance": "not-a-uuid"}, "hookInstance"),
        (good | {"hook": "order-sign"}, "patient-view"),
        (good | {"context": {"patientId": CASEY}}, "userId"),
        (
            good
            | {
                "fhirAuthorization": {
                    "access_token": "x",
                    "token_type": "Bearer",
                    "expires_in": 60,
                    "scope": "patient/*.read",
                    "subject": "svc",
                }
            },
            "fhirServer",
        ),
        (good | {"prefetch": {"patient": {"resourceType": "Observation"}}}, "Patient"),
        (good | {"prefetch": {"patient": fhir_patient("other-id", CASEY)}}, "context.patientId"),
        (good | {"prefetch": {"patient": fhir_patient(CASEY, "1234567890")}}, "NHS number"),
        (good | {"prefetch": {"patient": {"resourceType": "Patient", "id": CASEY, "gender": 7}}}, "gender"),
    ]
    for body, words in cases:
        response = client.post(PATIENT_VIEW, json=body)
        assert response.status_code == 400, (body, response.text)
        assert words in response.json()["detail"], response.json()
    raw = client.post(PATIENT_VIEW, content=b"{not json", headers={"Content-Type": "application/json"})
    assert raw.status_code == 400
    assert client.post("/cds-services/no-such-service", json=good).status_code == 404


def test_a_discharge_while_disengaged_is_blocked_with_a_critical_card(make_client: MakeClient, stories: str) -> None:
    client = make_client("2022-03-22T10:00")

    def episodes() -> int:
        with session_on(stories) as session:
            return session.scalar(select(func.count()).select_from(Episode)) or 0

    before = episodes()
    body = hook_request("encounter-discharge", CASEY, encounterId="enc-1")
    response = client.post(DISCHARGE, json=body)
    assert response.status_code == 200, response.text
    (card,) = valid("response", response.json())["cards"]
    assert card["indicator"] == "critical"
    assert "SN03" in card["summary"]
    assert "SN16" in card["summary"]
    assert "disengagement (SN02) is open" in card["detail"]
    assert "no risk assessment with a safety plan in the last 14 days" in card["detail"]
    assert "consultant or team manager may override" in card["detail"]
    labels = [s["label"] for s in card["suggestions"]]
    assert labels[0] == "Book a follow-up within 72 hours"
    assert any("disengagement steps" in label for label in labels)
    action = card["suggestions"][0]["actions"][0]
    assert action["type"] == "create"
    appointment = Appointment.model_validate(action["resource"])
    actor = appointment.participant[0].actor
    assert actor is not None
    assert actor.reference == f"Patient/{CASEY}"
    assert {r["code"] for r in card["overrideReasons"]} >= {"senior-override", "capacitous-refusal"}
    assert card["links"][0]["url"] == f"{APP_URL}/people/{CASEY}"
    assert episodes() == before  # a check only: nothing discharged


def test_a_discharge_the_gates_allow_gets_no_card(make_client: MakeClient) -> None:
    # 31 March 2022: seen again (SN02 closed), a safety plan from 24 March: nothing blocks an episode discharge.
    response = make_client("2022-03-31T14:00").post(
        DISCHARGE, json=hook_request("encounter-discharge", CASEY, encounterId="e")
    )
    assert valid("response", response.json()) == {"cards": []}


def _feedback(client: TestClient, service: str, card: str, outcome: str, **extra: Any) -> Any:
    body = valid(
        "feedback",
        {"feedback": [{"card": card, "outcome": outcome, "outcomeTimestamp": "2022-03-22T10:05:00Z", **extra}]},
    )
    return client.post(f"{service}/feedback", json=body)


def test_feedback_on_a_finding_goes_into_the_tasks_history_and_the_audit(make_client: MakeClient, stories: str) -> None:
    client = make_client("2022-03-22T10:00")
    (card,) = cards(client, CASEY)
    reason = {"reason": card["overrideReasons"][0], "userComment": "Visit booked for Thursday"}
    assert _feedback(client, PATIENT_VIEW, card["uuid"], "overridden", overrideReason=reason).status_code == 200
    accepted = [{"id": card["suggestions"][0]["uuid"]}]
    assert _feedback(client, PATIENT_VIEW, card["uuid"], "accepted", acceptedSuggestions=accepted).status_code == 200
    with session_on(stories) as session:
        events = session.scalars(
            select(TaskEvent).where(TaskEvent.task_id == card["uuid"]).order_by(TaskEvent.id)
        ).all()
        assert [e.action for e in events][-2:] == ["cds_overridden", "cds_accepted"]
        assert events[-2].rationale == "Already being acted on (acting): Visit booked for Thursday"
        assert events[-2].actor_name == "test-ehr"
        assert card["suggestions"][0]["uuid"] in (events[-1].detail or "")
        audited = session.scalars(select(AuditEvent.action).where(AuditEvent.entity_id == card["uuid"])).all()
        assert {"task_cds_overridden", "task_cds_accepted"} <= set(audited)


def test_feedback_on_a_card_never_issued_is_404_and_records_nothing(make_client: MakeClient, stories: str) -> None:
    client = make_client("2022-03-22T10:00")
    (card,) = cards(client, CASEY)

    def events() -> int:
        with session_on(stories) as session:
            return session.scalar(select(func.count()).select_from(TaskEvent)) or 0

    before = events()
    body = {
        "feedback": [
            {"card": card["uuid"], "outcome": "overridden", "outcomeTimestamp": "2022-03-22T10:05:00Z"},
            {
                "card": "3f1f0a52-7f55-4a8e-9a3c-1d2c3b4a5e6f",
                "outcome": "overridden",
                "outcomeTimestamp": "2022-03-22T10:05:00Z",
            },
        ]
    }
    assert client.post(f"{PATIENT_VIEW}/feedback", json=valid("feedback", body)).status_code == 404
    assert _feedback(client, DISCHARGE, card["uuid"], "overridden").status_code == 404  # not a discharge card
    assert events() == before
    bad = client.post(f"{PATIENT_VIEW}/feedback", json={"feedback": [{"card": card["uuid"], "outcome": "ignored"}]})
    assert bad.status_code == 400


def test_overriding_a_blocked_discharge_is_recorded_on_the_disengagement_task(
    make_client: MakeClient, stories: str
) -> None:
    client = make_client("2022-03-22T10:00")
    (card,) = client.post(DISCHARGE, json=hook_request("encounter-discharge", CASEY, encounterId="e")).json()["cards"]
    reason = {
        "reason": {"system": card["overrideReasons"][0]["system"], "code": "senior-override"},
        "userComment": "Consultant reviewed",
    }
    assert _feedback(client, DISCHARGE, card["uuid"], "overridden", overrideReason=reason).status_code == 200
    with session_on(stories) as session:
        audited = session.scalars(
            select(AuditEvent).where(AuditEvent.entity_id == card["uuid"]).order_by(AuditEvent.id)
        ).all()
        assert [a.action for a in audited] == ["cds_card", "cds_overridden"]
        assert "senior-override" in (audited[-1].detail or "")
        assert "SN03" in (audited[-1].detail or "")
        sn02 = session.scalars(select(Task).where(Task.rule_id == "SN02", Task.closed_at.is_(None))).one()
        actions = session.scalars(select(TaskEvent.action).where(TaskEvent.task_id == sn02.id)).all()
        assert "cds_overridden" in actions
