"""Real-world input: every official HL7 R4 example in ../shared/data/fhir-r4-examples/ either becomes part of the
record or is refused with an OperationOutcome that says where and why; none causes a server error or a partial
write. People the examples refer to are registered first (with NHS numbers) so that what can map, does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from tests.factories import NHS_NUMBERS
from tests.interop.fhir.conftest import counts, directory, patient, put

EXAMPLES = Path(__file__).resolve().parents[4] / "shared" / "data" / "fhir-r4-examples"
FILES = sorted(EXAMPLES.glob("*.json")) if EXAMPLES.is_dir() else []
# The people most examples refer to.
PEOPLE = ["example", "pat1", "f001", "f201", "1"]


@pytest.mark.slow
@pytest.mark.skipif(not FILES, reason=f"the HL7 example corpus is not at {EXAMPLES}")
def test_every_example_maps_or_is_refused_clearly(client: TestClient, fresh_url: str) -> None:
    directory(client)
    for n, ident in enumerate(PEOPLE):
        assert put(client, patient(ident, NHS_NUMBERS[n + 1])).status_code in (200, 201)
    accepted: list[str] = []
    refused: dict[str, Any] = {}
    for path in FILES:
        resource = orjson.loads(path.read_bytes())
        kind = resource.get("resourceType")
        before = counts(fresh_url)
        if kind == "Bundle":
            response = client.post("/fhir", json=resource)
        else:
            response = client.post(f"/fhir/{kind}", json=resource)
        assert response.status_code < 500, f"{path.name}: {response.status_code} {response.text[:500]}"
        body = response.json()
        if response.status_code < 300:
            accepted.append(path.name)
            assert body["resourceType"] in (kind, "Bundle")
        else:
            refused[path.name] = body
            assert body["resourceType"] == "OperationOutcome", path.name
            assert body["issue"], path.name
            assert all(i["diagnostics"] and i.get("expression") for i in body["issue"]), path.name
            assert counts(fresh_url) == before, f"{path.name} was refused but wrote something"
    assert accepted, "some examples should map into the record"
    assert refused, "some examples should be refused"
    # Examples of resources Safetynet records map; the refusals say what Safetynet does not record.
    assert any(name.startswith("Condition-") for name in accepted)
    # A person without an NHS number cannot be matched to the record, so it is refused, saying so.
    nhs = [n for n, b in refused.items() if n.startswith("Patient-")]
    assert all("NHS number" in refused[n]["issue"][0]["diagnostics"] for n in nhs)
