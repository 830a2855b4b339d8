"""The CapabilityStatement served at ``/fhir/metadata``: what this server reads, searches and writes."""

from __future__ import annotations

from datetime import datetime

from safetynet.interop.fhir.mapping import PRODUCED_TYPES, READABLE_TYPES, WRITABLE_TYPES
from safetynet.interop.fhir.mapping.base import Res, instant
from safetynet.interop.fhir.store import SEARCH_PARAMETERS

PARAMETER_TYPES = {
    "patient": "reference",
    "subject": "reference",
    "identifier": "token",
    "date": "date",
    "status": "token",
    "_count": "number",
    "_offset": "number",
    "_lastUpdated": "date",
    "_id": "token",
}


def capability_statement(at: datetime, base: str) -> Res:
    resources = []
    for kind in READABLE_TYPES:
        interactions = ["read", "vread", "search-type", "history-instance"]
        if kind in WRITABLE_TYPES:
            interactions += ["create", "update"]
        resources.append(
            {
                "type": kind,
                "versioning": "versioned-update" if kind not in PRODUCED_TYPES else "versioned",
                "readHistory": True,
                "updateCreate": kind in WRITABLE_TYPES,
                "conditionalUpdate": False,
                "interaction": [{"code": code} for code in interactions],
                "searchParam": [{"name": name, "type": PARAMETER_TYPES[name]} for name in SEARCH_PARAMETERS],
            }
        )
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": instant(at),
        "publisher": "Safetynet",
        "kind": "instance",
        "software": {"name": "Safetynet", "version": "0.1.0"},
        "implementation": {"description": "Safetynet clinical record, FHIR R4 (UK Core where it exists)", "url": base},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "rest": [
            {
                "mode": "server",
                "documentation": "Bearer token of a registered record system. Nothing is deleted: send status "
                "entered-in-error. meta.lastUpdated, when earlier than now and later than the version it follows, "
                "is kept as when the service learnt of the fact.",
                "security": {
                    "service": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                    "code": "OAuth",
                                }
                            ],
                            "text": "Bearer token",
                        }
                    ]
                },
                "resource": resources,
                "interaction": [{"code": "transaction"}, {"code": "batch"}],
                "operation": [
                    {"name": "import", "definition": f"{base}/OperationDefinition/import"},
                    {"name": "export", "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export"},
                ],
            }
        ],
    }
