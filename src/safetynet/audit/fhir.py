"""Audit events as FHIR R4 AuditEvent resources (plain dicts), in the style of IHE Basic Audit Log Patterns.

One event, one resource: who (``agent``, with their role and whether they asked), what (``entity``: the person's
record and the thing read or written), when (``recorded``), why (``purposeOfEvent``), and the event's place in the
hash chain (``entity.detail``: seq, prev_hash, event_hash), so a copy exported elsewhere can be checked against the
chain. Validated against fhir.resources' R4B AuditEvent model in the tests."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC
from typing import Any

import orjson

from safetynet.audit.models import AuditEvent

DCM = "http://dicom.nema.org/resources/ontology/DCM"
INTERACTION = "http://hl7.org/fhir/restful-interaction"
SAFETYNET_ACTIONS = "https://safetynet.example/fhir/CodeSystem/audit-action"
OBJECT_ROLE = "http://terminology.hl7.org/CodeSystem/object-role"
ENTITY_TYPE = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
SOURCE_TYPE = "http://terminology.hl7.org/CodeSystem/security-source-type"

# Safetynet's action -> (FHIR AuditEvent.action, RESTful interaction it corresponds to, if any)
ACTIONS: dict[str, tuple[str, str | None]] = {
    "create": ("C", "create"),
    "read": ("R", "read"),
    "amend": ("U", "update"),
    "enter_in_error": ("U", "update"),
}


def _instant(event: AuditEvent) -> str:
    return event.at.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def to_fhir(event: AuditEvent) -> dict[str, Any]:
    """One audit event as an R4 AuditEvent resource."""
    action, interaction = ACTIONS.get(event.action, ("E", None))
    subtype = [{"system": SAFETYNET_ACTIONS, "code": event.action}]
    if interaction:
        subtype.insert(0, {"system": INTERACTION, "code": interaction})
    who: dict[str, Any] = {"display": event.actor_name}
    if event.actor_staff_id:
        who["reference"] = f"Practitioner/{event.actor_staff_id}"
    entities: list[dict[str, Any]] = []
    if event.patient_id:
        entities.append(
            {
                "what": {"reference": f"Patient/{event.patient_id}"},
                "type": {"system": ENTITY_TYPE, "code": "1", "display": "Person"},
                "role": {"system": OBJECT_ROLE, "code": "1", "display": "Patient"},
            }
        )
    record: dict[str, Any] = {
        "what": {"display": event.entity if event.entity_id is None else f"{event.entity}/{event.entity_id}"},
        "type": {"system": ENTITY_TYPE, "code": "2", "display": "System Object"},
        "detail": [
            {"type": name, "valueString": str(value)}
            for name, value in (("seq", event.seq), ("prev_hash", event.prev_hash), ("event_hash", event.event_hash))
            if value is not None
        ],
    }
    if event.detail:
        record["description"] = event.detail
    if not record["detail"]:
        del record["detail"]
    entities.append(record)
    return {
        "resourceType": "AuditEvent",
        "id": str(event.id),
        "type": {"system": DCM, "code": "110110", "display": "Patient Record"},
        "subtype": subtype,
        "action": action,
        "recorded": _instant(event),
        "outcome": "0",
        "purposeOfEvent": [{"text": event.purpose}],
        "agent": [{"who": who, "role": [{"text": event.actor_role}], "requestor": True}],
        "source": {
            "site": "Safetynet",
            "observer": {"display": "Safetynet"},
            "type": [{"system": SOURCE_TYPE, "code": "4", "display": "Application Server"}],
        },
        "entity": entities,
    }


def ndjson(events: Iterable[AuditEvent]) -> Iterator[bytes]:
    """Events as FHIR NDJSON lines (bulk data style), one resource per line."""
    for event in events:
        yield orjson.dumps(to_fhir(event)) + b"\n"
