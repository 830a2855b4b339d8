"""The FHIR REST API: capability, auth, create / read / vread / history, update with ETag and If-Match,
search parameters and paging, transaction and batch Bundles, and refusals as OperationOutcome."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from safetynet.audit.models import AuditEvent
from safetynet.core.db import make_engine
from safetynet.interop.fhir import codes
from safetynet.record.diagnoses.models import Diagnosis
from safetynet.record.legal.models import Admission
from tests.factories import NHS_NUMBERS
from tests.interop.fhir.conftest import PATIENT, STAFF, TEAM, WARD, counts, directory, patient, put

FHIR = "application/fhir+json"


def condition(code: str = "F20.0", **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "subject": {"reference": f"Patient/{PATIENT}"},
        "code": {"coding": [{"system": codes.ICD10, "code": code, "display": "Paranoid schizophrenia"}]},
        "onsetDateTime": "2024-02-01T10:00:00Z",
        **extra,
    }


def admission(legal_status: str = "03") -> dict[str, Any]:
    return {
        "resourceType": "Encounter",
        "status": "in-progress",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP"},
        "subject": {"reference": f"Patient/{PATIENT}"},
        "period": {"start": "2024-02-10T09:00:00Z"},
        "serviceProvider": {"reference": f"Organization/{WARD}"},
        "extension": [
            {
                "url": codes.LEGAL_STATUS_URL,
                "extension": [
                    {
                        "url": "legalStatusContext",
                        "valueCodeableConcept": {
                            "coding": [{"system": codes.LEGAL_STATUS_CONTEXT, "code": "admission"}]
                        },
                    },
                    {
                        "url": "legalStatusClassification",
                        "valueCodeableConcept": {
                            "coding": [{"system": codes.LEGAL_STATUS_ENGLAND, "code": legal_status}]
                        },
                    },
                ],
            }
        ],
    }


def contact(start: str, status: str, attendance: str) -> dict[str, Any]:
    return {
        "resourceType": "Appointment",
        "status": status,
        "start": start,
        "end": start,
        "participant": [
            {"actor": {"reference": f"Patient/{PATIENT}"}, "status": "accepted"},
            {"actor": {"reference": f"Practitioner/{STAFF}"}, "status": "accepted"},
        ],
        "extension": [
            {"url": codes.ATTEND_OR_DNA_URL, "valueCoding": {"system": codes.ATTEND_OR_DNA, "code": attendance}}
        ],
    }


def test_capability_statement_describes_the_server(client: TestClient) -> None:
    response = client.get("/fhir/metadata")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(FHIR)
    body = response.json()
    assert body["resourceType"] == "CapabilityStatement"
    assert body["fhirVersion"] == "4.0.1"
    kinds = {r["type"]: r for r in body["rest"][0]["resource"]}
    assert {"Patient", "Encounter", "Condition", "Task", "DetectedIssue", "AuditEvent"} <= set(kinds)
    assert {"code": "update"} in kinds["Encounter"]["interaction"]
    assert {"code": "update"} not in kinds["DetectedIssue"]["interaction"]


def test_fhir_endpoints_are_not_in_openapi(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if p.startswith("/fhir")]


def test_a_token_is_required(client: TestClient) -> None:
    anonymous = TestClient(client.app)
    assert anonymous.get("/fhir/Patient").status_code == 401
    assert anonymous.post("/fhir/Condition", json=condition()).status_code == 401
    wrong = TestClient(client.app, headers={"Authorization": "Bearer nope"})
    assert wrong.get(f"/fhir/Patient/{PATIENT}").status_code == 401
    assert client.get("/fhir/Patient").status_code == 200


def test_numbers_in_the_url_are_ascii_digits_or_a_clear_400(client: TestClient) -> None:
    """Superscript two passes ``str.isdigit`` but not ``int``: schemathesis found it made a 500."""
    directory(client)
    ident = client.post("/fhir/Condition", json=condition()).json()["id"]
    for path in (f"/fhir/Condition/{ident}/_history/\u00b2", f"/fhir/Condition?patient={PATIENT}&_count=\u00b2"):
        answer = client.get(path)
        assert answer.status_code == 400, (path, answer.text)
        assert answer.json()["resourceType"] == "OperationOutcome"
    assert client.get(f"/fhir/Condition/{ident}/_history/1").status_code == 200
    assert client.get("/fhir/AuditEvent/\u00b2").status_code == 404


def test_create_read_update_with_etag_and_if_match(client: TestClient, fresh_url: str) -> None:
    directory(client)
    created = client.post("/fhir/Condition", json=condition())
    assert created.status_code == 201, created.text
    assert created.headers["etag"] == 'W/"1"'
    ident = created.json()["id"]
    assert created.headers["location"].endswith(f"/fhir/Condition/{ident}/_history/1")

    read = client.get(f"/fhir/Condition/{ident}")
    assert read.status_code == 200
    assert read.headers["etag"] == 'W/"1"'
    body = read.json()
    assert body["code"]["coding"][0] == {"system": codes.ICD10, "code": "F20.0", "display": "Paranoid schizophrenia"}

    body["note"] = [{"text": "confirmed at MDT"}]
    updated = client.put(f"/fhir/Condition/{ident}", json=body, headers={"If-Match": 'W/"1"'})
    assert updated.status_code == 200, updated.text
    assert updated.headers["etag"] == 'W/"2"'

    stale = client.put(
        f"/fhir/Condition/{ident}", json=body | {"note": [{"text": "other"}]}, headers={"If-Match": 'W/"1"'}
    )
    assert stale.status_code == 412
    assert stale.json()["resourceType"] == "OperationOutcome"

    same = client.put(f"/fhir/Condition/{ident}", json=updated.json())
    assert same.status_code == 200
    assert same.headers["etag"] == 'W/"2"'  # nothing changed: no new version

    history = client.get(f"/fhir/Condition/{ident}/_history").json()
    assert [e["resource"]["meta"]["versionId"] for e in history["entry"]] == ["2", "1"]
    first = client.get(f"/fhir/Condition/{ident}/_history/1").json()
    assert "note" not in first
    assert client.get(f"/fhir/Condition/{ident}/_history/3").status_code == 404

    engine = make_engine(fresh_url)
    with Session(engine) as session:
        versions = session.scalars(
            select(Diagnosis).where(Diagnosis.fact_id == ident).order_by(Diagnosis.version)
        ).all()
        assert [(v.version, v.note) for v in versions] == [(1, None), (2, "confirmed at MDT")]
        assert versions[1].amendment_reason == "updated through FHIR by test-ehr"
        actions = session.scalars(select(AuditEvent.action).where(AuditEvent.entity_id == ident)).all()
        assert actions == ["create", "amend"]
    engine.dispose()


def test_entered_in_error_travels_as_status(client: TestClient, fresh_url: str) -> None:
    directory(client)
    ident = client.post("/fhir/Condition", json=condition()).json()["id"]
    body = client.get(f"/fhir/Condition/{ident}").json()
    body["verificationStatus"] = {
        "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "entered-in-error"}]
    }
    response = client.put(f"/fhir/Condition/{ident}", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["verificationStatus"]["coding"][0]["code"] == "entered-in-error"
    engine = make_engine(fresh_url)
    with Session(engine) as session:
        latest = session.scalars(select(Diagnosis).where(Diagnosis.fact_id == ident, Diagnosis.version == 2)).one()
        assert latest.entered_in_error
        assert latest.code == "F20.0"
        assert session.scalar(
            select(AuditEvent.action).where(AuditEvent.entity_id == ident, AuditEvent.action == "enter_in_error")
        )
    engine.dispose()


def test_recorded_at_comes_from_meta_last_updated_when_it_is_in_the_past(client: TestClient, fresh_url: str) -> None:
    directory(client)
    earlier = client.post("/fhir/Condition", json=condition(meta={"lastUpdated": "2024-02-02T08:00:00Z"})).json()
    assert earlier["meta"]["lastUpdated"] == "2024-02-02T08:00:00Z"
    future = client.post("/fhir/Condition", json=condition(meta={"lastUpdated": "2030-01-01T00:00:00Z"})).json()
    assert future["meta"]["lastUpdated"] == "2024-03-01T12:00:00Z"  # the clock: never in the future


def test_admission_carries_uk_core_legal_status(client: TestClient, fresh_url: str) -> None:
    directory(client)
    created = client.post("/fhir/Encounter", json=admission("03"))
    assert created.status_code == 201, created.text
    body = client.get(f"/fhir/Encounter/{created.json()['id']}").json()
    legal = next(e for e in body["extension"] if e["url"] == codes.LEGAL_STATUS_URL)
    classification = next(p for p in legal["extension"] if p["url"] == "legalStatusClassification")
    assert classification["valueCodeableConcept"]["coding"][0] == {
        "system": codes.LEGAL_STATUS_ENGLAND,
        "code": "03",
        "display": "Section 3",
    }
    engine = make_engine(fresh_url)
    with Session(engine) as session:
        assert session.scalars(select(Admission.legal_status)).all() == ["03"]
    engine.dispose()
    refused = client.post("/fhir/Encounter", json=admission("11"))
    assert refused.status_code == 422
    assert "legal status" in refused.json()["issue"][0]["diagnostics"]


def test_search_parameters_and_paging(client: TestClient) -> None:
    directory(client)
    put(client, patient("patient-2", NHS_NUMBERS[1], "Alex Other"))
    for start, status, code in (
        ("2024-01-05T10:00:00Z", "fulfilled", "5"),
        ("2024-01-12T10:00:00Z", "noshow", "3"),
        ("2024-01-19T10:00:00Z", "noshow", "3"),
    ):
        assert client.post("/fhir/Appointment", json=contact(start, status, code)).status_code == 201
    other = contact("2024-01-06T10:00:00Z", "fulfilled", "5")
    other["participant"][0]["actor"]["reference"] = "Patient/patient-2"
    assert client.post("/fhir/Appointment", json=other).status_code == 201

    def ids(query: str) -> list[str]:
        response = client.get(f"/fhir/Appointment?{query}")
        assert response.status_code == 200, response.text
        return [e["resource"]["start"][:10] for e in response.json().get("entry", [])]

    assert ids(f"patient={PATIENT}") == ["2024-01-05", "2024-01-12", "2024-01-19"]
    assert ids(f"patient=Patient/{PATIENT}&status=noshow") == ["2024-01-12", "2024-01-19"]
    assert ids(f"patient={PATIENT}&date=ge2024-01-10&date=lt2024-01-19") == ["2024-01-12"]
    assert ids("_lastUpdated=gt2024-03-02") == []
    assert len(ids("_lastUpdated=le2024-03-01T12:00:00Z")) == 4
    first = client.get(f"/fhir/Appointment?patient={PATIENT}&_count=2").json()
    assert first["type"] == "searchset"
    assert first["total"] == 3
    assert len(first["entry"]) == 2
    next_url = next(link["url"] for link in first["link"] if link["relation"] == "next")
    second = client.get(next_url).json()
    assert [e["resource"]["start"][:10] for e in second["entry"]] == ["2024-01-19"]
    assert "next" not in {link["relation"] for link in second["link"]}
    found = client.get(f"/fhir/Patient?identifier={codes.NHS_NUMBER}|{NHS_NUMBERS[1]}").json()
    assert [e["resource"]["id"] for e in found["entry"]] == ["patient-2"]
    assert client.get(f"/fhir/Patient?_id={PATIENT}").json()["total"] == 1
    unknown = client.get("/fhir/Appointment?colour=red")
    assert unknown.status_code == 400
    assert unknown.json()["resourceType"] == "OperationOutcome"
    assert client.get("/fhir/Appointment?date=yesterday").status_code == 400


def test_refusals_are_operation_outcomes_and_write_nothing(client: TestClient, fresh_url: str) -> None:
    directory(client)
    before = counts(fresh_url)
    bad_json = client.post("/fhir/Condition", content=b"{not json", headers={"content-type": FHIR})
    assert bad_json.status_code == 400
    assert bad_json.json()["resourceType"] == "OperationOutcome"
    unknown_person = client.post("/fhir/Condition", json=condition() | {"subject": {"reference": "Patient/nobody"}})
    assert unknown_person.status_code == 422
    assert unknown_person.json()["issue"][0]["expression"] == ["Condition.subject"]
    structure = client.post("/fhir/Condition", json=condition() | {"colour": "red"})
    assert structure.status_code == 400
    assert structure.json()["issue"][0]["expression"] == ["Condition.colour"]
    scored = {
        "resourceType": "RiskAssessment",
        "status": "final",
        "subject": {"reference": f"Patient/{PATIENT}"},
        "occurrenceDateTime": "2024-02-01T10:00:00Z",
        "prediction": [{"outcome": {"text": "violence"}, "probabilityDecimal": 0.3}],
    }
    refused = client.post("/fhir/RiskAssessment", json=scored)
    assert refused.status_code == 422
    assert "NG225" in refused.json()["issue"][0]["diagnostics"]
    assert client.delete(f"/fhir/Patient/{PATIENT}").status_code == 405
    produced = client.post("/fhir/DetectedIssue", json={"resourceType": "DetectedIssue", "status": "final"})
    assert produced.status_code == 405
    assert client.get("/fhir/Condition/nothing-here").status_code == 404
    assert client.get("/fhir/Medication/x").status_code == 404
    duplicate = client.post("/fhir/Patient", json=patient("x", NHS_NUMBERS[0]))
    assert duplicate.status_code == 409
    assert counts(fresh_url) == before


def test_transaction_is_all_or_nothing(client: TestClient, fresh_url: str) -> None:
    directory(client)
    before = counts(fresh_url)
    new_person = patient("ignored", NHS_NUMBERS[2], "Jo New")
    new_person.pop("id")
    diagnosis = condition()
    diagnosis["subject"] = {"reference": "urn:uuid:0b5f8a8e-0000-4000-8000-000000000001"}
    bad = condition("F20.0") | {"subject": {"reference": "Patient/nobody"}}
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": "urn:uuid:0b5f8a8e-0000-4000-8000-000000000001",
                "resource": new_person,
                "request": {"method": "POST", "url": "Patient"},
            },
            {"resource": diagnosis, "request": {"method": "POST", "url": "Condition"}},
            {"resource": bad, "request": {"method": "POST", "url": "Condition"}},
        ],
    }
    refused = client.post("/fhir", json=bundle)
    assert refused.status_code == 422
    assert refused.json()["issue"][0]["expression"] == ["Bundle.entry[2].resource.Condition.subject"]
    assert counts(fresh_url) == before

    bundle["entry"] = bundle["entry"][:2]
    done = client.post("/fhir", json=bundle)
    assert done.status_code == 200, done.text
    entries = done.json()["entry"]
    assert [e["response"]["status"] for e in entries] == ["201 Created", "201 Created"]
    person = entries[0]["resource"]["id"]
    assert entries[1]["resource"]["subject"]["reference"] == f"Patient/{person}"


def test_batch_answers_each_entry(client: TestClient) -> None:
    directory(client)
    bundle = {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [
            {"resource": condition(), "request": {"method": "POST", "url": "Condition"}},
            {
                "resource": condition() | {"subject": {"reference": "Patient/nobody"}},
                "request": {"method": "POST", "url": "Condition"},
            },
            {"resource": condition(), "request": {"method": "DELETE", "url": "Condition/x"}},
        ],
    }
    response = client.post("/fhir", json=bundle)
    assert response.status_code == 200, response.text
    statuses = [e["response"]["status"] for e in response.json()["entry"]]
    assert statuses == ["201 Created", "422", "400"]
    assert client.get(f"/fhir/Condition?patient={PATIENT}").json()["total"] == 1


def test_team_and_staff_are_written_and_read(client: TestClient) -> None:
    directory(client)
    team = client.get(f"/fhir/Organization/{TEAM}").json()
    assert team["name"] == "CMHT North"
    assert team["partOf"]["reference"].endswith("trust-1")
    staff = client.get(f"/fhir/Practitioner/{STAFF}").json()
    assert staff["name"][0]["text"] == "Chris Taylor"
    renamed = put(
        client,
        {
            "resourceType": "Organization",
            "id": TEAM,
            "name": "CMHT North and West",
            "type": team["type"],
            "partOf": team["partOf"],
        },
    )
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "CMHT North and West"


def test_tasks_findings_consent_and_audit_are_readable(client: TestClient) -> None:
    directory(client)
    episode = {
        "resourceType": "EpisodeOfCare",
        "status": "active",
        "patient": {"reference": f"Patient/{PATIENT}"},
        "managingOrganization": {"reference": f"Organization/{TEAM}"},
        "type": [{"coding": [{"system": f"{codes.BASE}/CodeSystem/pathway", "code": "cmht"}]}],
        "period": {"start": "2024-01-02T09:00:00Z"},
        "meta": {"lastUpdated": "2024-01-02T09:00:00Z"},
    }
    carer = {
        "resourceType": "RelatedPerson",
        "id": "carer-1",
        "patient": {"reference": f"Patient/{PATIENT}"},
        "name": [{"text": "Pat Example"}],
        "relationship": [{"text": "mother"}],
        "period": {"start": "2024-01-02T09:00:00Z"},
        "extension": [{"url": codes.FACT_EXTENSION, "extension": [{"url": "consent_to_share", "valueBoolean": True}]}],
    }
    concern = {
        "resourceType": "Communication",
        "status": "completed",
        "subject": {"reference": f"Patient/{PATIENT}"},
        "medium": [{"coding": [{"system": f"{codes.BASE}/CodeSystem/channel", "code": "phone"}]}],
        "sender": {"reference": "RelatedPerson/carer-1", "display": "Pat Example"},
        "payload": [{"contentString": "He has stopped eating and will not open the door"}],
        "sent": "2024-02-05T10:00:00Z",
        "meta": {"lastUpdated": "2024-02-05T10:00:00Z"},
    }
    assert client.post("/fhir/EpisodeOfCare", json=episode).status_code == 201
    assert put(client, carer).status_code == 201
    assert client.post("/fhir/Communication", json=concern).status_code == 201

    tasks = client.get(f"/fhir/Task?patient={PATIENT}").json()
    sn01 = [e["resource"] for e in tasks["entry"] if e["resource"]["code"]["coding"][0]["code"] == "SN01"]
    assert len(sn01) == 1
    assert sn01[0]["status"] == "ready"
    assert sn01[0]["businessStatus"]["coding"][0]["code"] == "open"
    issue = client.get(f"/fhir/DetectedIssue/{sn01[0]['id']}").json()
    assert issue["resourceType"] == "DetectedIssue"
    assert issue["patient"]["reference"] == f"Patient/{PATIENT}"
    assert issue["code"]["coding"][0] == {"system": codes.RULE_SYSTEM, "code": "SN01"}
    consent = client.get("/fhir/Consent/carer-1").json()
    assert consent["status"] == "active"
    assert consent["provision"]["actor"][0]["reference"]["reference"] == "RelatedPerson/carer-1"
    audit = client.get(f"/fhir/AuditEvent?patient={PATIENT}").json()
    assert {e["resource"]["action"] for e in audit["entry"]} >= {"C", "R"}
    own_task = {k: v for k, v in sn01[0].items() if k not in ("id", "meta")}
    assert client.post("/fhir/Task", json=own_task).status_code == 405
