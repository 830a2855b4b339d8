"""schemathesis over the app's whole OpenAPI document (CDS Hooks and every JSON API it describes): for requests
generated from the schema, valid and invalid, as a registered record system presenting its bearer token, no answer
is a server error and every answer conforms to what the document says (status, content type, body, headers).

The FHIR API is described by its CapabilityStatement rather than OpenAPI (docs/fhir.md): it gets an OpenAPI document
written here from that CapabilityStatement, and the same treatment for what such a document can say (no 5xx; every
answer FHIR JSON in application/fhir+json)."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    positive_data_acceptance,
    response_schema_conformance,
)

from safetynet import migrations
from safetynet.core.clock import FixedClock
from safetynet.interop.cds_hooks.services import ENCOUNTER_DISCHARGE as DISCHARGE
from safetynet.interop.cds_hooks.services import PATIENT_VIEW, SERVICES
from safetynet.interop.cds_hooks.settings import CdsSettings
from safetynet.web.app import create_app
from safetynet.web.settings import WebSettings
from tests.conftest import Databases
from tests.interop.cds_hooks.conftest import CASEY, NICO, at, fhir_patient, hook_request, load

TOKEN = "schemathesis-token"
EXAMPLES = 40  # per operation and mode: the whole run stays well under a minute
# "Schema-valid data is accepted" asks more than an OpenAPI document can say: a CDS request must carry the hook of the
# service it is sent to, a known service id, fhirServer with fhirAuthorization. Those are 400 or 404 by design (with a
# message), and every other check runs: no 5xx, status codes, content types, headers and bodies as documented,
# invalid data rejected, authentication not ignored.
NOT_EXPRESSIBLE = [positive_data_acceptance]


@pytest.fixture(scope="module")
def api_app(databases: Databases) -> FastAPI:
    url = databases.new_url()
    migrations.upgrade(url)
    load(url, "disengaged-discharge-blocked.yaml", "relapse-cycle-review-pattern.yaml")
    app = create_app(
        WebSettings(database_url=url, secure_cookies=False, clock=FixedClock(at("2022-03-22T10:00"))),
        api_clients=(("schemathesis", TOKEN),),
    )
    app.state.cds_settings = CdsSettings(max_cards=5, app_url=None, rulebook_url=None)
    return app


@pytest.fixture(scope="module")
def api_schema(api_app: FastAPI) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_asgi("/openapi.json", api_app)


# Hypothesis drives schemathesis's strategies directly: its pytest plugin (``from_fixture``) does not run on pytest 9.
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
def test_no_operation_fails_or_breaks_its_schema(api_schema: schemathesis.BaseSchema, mode: GenerationMode) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 4, "CDS Hooks discovery, rulebook, service and feedback at least"
    for operation in operations:
        has_input = any((operation.path_parameters, operation.query, operation.headers, operation.body))
        if mode is GenerationMode.NEGATIVE and not has_input:
            continue  # nothing in the request to make invalid (discovery, the rulebook page)

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def conforms(case: schemathesis.Case) -> None:
            case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN}"}, excluded_checks=NOT_EXPRESSIBLE)

        conforms()


def test_requests_about_people_safetynet_knows_conform_too(
    api_app: FastAPI, api_schema: schemathesis.BaseSchema
) -> None:
    """Generated requests mostly name nobody; these name the stories' people, so that the cards, the discharge gates
    and feedback on real cards (the paths that read and write the record) are checked against the document too."""
    call = api_schema["/cds-services/{service_id}"]["POST"]
    feedback = api_schema["/cds-services/{service_id}/feedback"]["POST"]
    with TestClient(api_app, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        shown = client.post(f"/cds-services/{PATIENT_VIEW}", json=hook_request("patient-view", CASEY))
        assert shown.status_code == 200, shown.text
        cards = [card["uuid"] for card in shown.json()["cards"]]
    assert cards, "Casey is disengaged on 22 March 2022: SN02 is open"

    @given(data=st.data())
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def conforms(data: st.DataObject) -> None:
        service = data.draw(st.sampled_from(sorted(SERVICES)), label="service")
        person = data.draw(st.sampled_from([CASEY, NICO]), label="person")
        case = data.draw(call.as_strategy(path_parameters={"service_id": service}))
        body = {k: v for k, v in dict(case.body).items() if k not in ("fhirServer", "fhirAuthorization", "prefetch")}
        context = {"userId": "Practitioner/1", "patientId": person, "encounterId": "enc-1"}
        if data.draw(st.booleans(), label="prefetch"):
            body["prefetch"] = {"patient": fhir_patient(f"ehr-{person}", person)}
            context["patientId"] = f"ehr-{person}"
        case.body = body | {"hook": SERVICES[service].hook, "context": context}
        answered = case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN}"}, excluded_checks=NOT_EXPRESSIBLE)
        seen.add((service, answered.status_code, bool(answered.json().get("cards"))))
        told = data.draw(feedback.as_strategy(path_parameters={"service_id": PATIENT_VIEW}))
        items = [dict(item) | {"card": data.draw(st.sampled_from(cards))} for item in told.body["feedback"]]
        told.body = {"feedback": items}
        recorded = told.call_and_validate(headers={"Authorization": f"Bearer {TOKEN}"}, excluded_checks=NOT_EXPRESSIBLE)
        seen.add(("feedback", recorded.status_code, False))

    seen: set[tuple[str, int, bool]] = set()
    conforms()
    # The real paths were reached: cards for both hooks (Casey's discharge is blocked) and feedback recorded.
    assert {(PATIENT_VIEW, 200, True), (DISCHARGE, 200, True), ("feedback", 200, False)} <= seen, seen


def _fhir_document(capability: dict[str, Any]) -> dict[str, Any]:
    """An OpenAPI document for the FHIR API written from its CapabilityStatement (the FHIR API is not in the app's
    own document): every interaction it states, and every search parameter as a free string. The answer must be FHIR
    JSON (a resource: an object with a resourceType) in ``application/fhir+json``, whatever the status."""
    served = capability["rest"][0]["resource"]
    kinds = sorted(r["type"] for r in served)
    search = sorted({p["name"] for r in served for p in r.get("searchParam", [])})
    kind = {"name": "kind", "in": "path", "required": True, "schema": {"type": "string"}}
    ident = {"name": "ident", "in": "path", "required": True, "schema": {"type": "string"}}
    version = {"name": "version", "in": "path", "required": True, "schema": {"type": "string"}}
    query = [{"name": name, "in": "query", "required": False, "schema": {"type": "string"}} for name in search]
    reference = {"type": "object", "properties": {"reference": {"type": "string"}}}
    resource = {
        "type": "object",
        "required": ["resourceType"],
        "properties": {
            "resourceType": {"enum": [*kinds, "Bundle", "OperationOutcome"]},
            "id": {"type": "string"},
            "meta": {"type": "object", "properties": {"versionId": {"type": "string"}}},
            "status": {"type": "string"},
            "subject": reference,
            "patient": reference,
        },
    }
    any_resource = {
        "type": "object",
        "required": ["resourceType"],
        "properties": {"resourceType": {"type": "string", "pattern": "^[A-Z][A-Za-z]+$"}},
    }
    fhir_json = {"application/fhir+json": {"schema": any_resource}}
    answer = {"default": {"description": "a FHIR resource (an OperationOutcome when refused)", "content": fhir_json}}
    body = {"required": True, "content": {"application/fhir+json": {"schema": resource}}}

    def op(*parameters: dict[str, Any], with_body: bool = False) -> dict[str, Any]:
        made: dict[str, Any] = {"parameters": list(parameters), "responses": answer}
        return made | ({"requestBody": body} if with_body else {})

    return {
        "openapi": "3.0.3",
        "info": {"title": "Safetynet FHIR R4 (from its CapabilityStatement)", "version": capability["fhirVersion"]},
        "paths": {
            "/fhir/metadata": {"get": op()},
            "/fhir": {"post": op(with_body=True)},
            "/fhir/{kind}": {"get": op(kind, *query), "post": op(kind, with_body=True)},
            "/fhir/{kind}/{ident}": {"get": op(kind, ident), "put": op(kind, ident, with_body=True)},
            "/fhir/{kind}/{ident}/_history": {"get": op(kind, ident)},
            "/fhir/{kind}/{ident}/_history/{version}": {"get": op(kind, ident, version)},
        },
    }


def test_the_fhir_api_never_fails_and_always_answers_fhir(api_app: FastAPI) -> None:
    """Generated requests, steered half the time to what the record holds: a resource type it serves, the id of a
    resource it has, a search for a person it knows, an update sending back a resource as it was read."""
    held: dict[str, list[dict[str, Any]]] = {}
    with TestClient(api_app, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        capability = client.get("/fhir/metadata").json()
        for served in capability["rest"][0]["resource"]:
            found = client.get(f"/fhir/{served['type']}", params={"_count": "3"}).json()
            held[served["type"]] = [entry["resource"] for entry in found.get("entry", [])]
    kinds = sorted(held)
    people = [r["id"] for r in held["Patient"]]
    assert people, "the stories' people are served as Patient resources"
    fhir = schemathesis.openapi.from_dict(_fhir_document(capability))
    fhir.app = api_app
    checks = [not_a_server_error, content_type_conformance, response_schema_conformance]
    statuses: set[int] = set()

    def exercise(operation: Any) -> None:
        @given(data=st.data())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def answers_fhir(data: st.DataObject) -> None:
            steer = data.draw(st.booleans(), label="steer")
            kind = data.draw(st.sampled_from(kinds), label="kind") if steer else None
            mine = [r["id"] for r in held[kind]] if kind else []
            path: dict[str, Any] = {}
            if "{kind}" in operation.path and kind:
                path["kind"] = kind
            if "{ident}" in operation.path and mine:
                path["ident"] = data.draw(st.sampled_from(mine), label="ident")
            searching = operation.path == "/fhir/{kind}" and operation.method.upper() == "GET"
            query = {"patient": f"Patient/{data.draw(st.sampled_from(people))}"} if steer and searching else None
            case = data.draw(operation.as_strategy(path_parameters=path, query=query))
            if case.method == "PUT" and "ident" in path:
                case.body = next(r for r in held[kind or ""] if r["id"] == path["ident"])  # sent back as read
            answered = case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN}"}, checks=checks)
            statuses.add(answered.status_code)

        answers_fhir()

    for result in fhir.get_all_operations():
        exercise(result.ok())
    assert {200, 400, 404} <= statuses, statuses  # reads that found something, refusals, and unknowns
