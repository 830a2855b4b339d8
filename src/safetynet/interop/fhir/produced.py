"""What Safetynet itself produces, read as FHIR: each task as a Task with its finding as a DetectedIssue, a carer's
consent to share as a Consent, and the audit trail as AuditEvent (IHE Basic Audit Log Patterns style). Read-only."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from safetynet.interop.fhir import codes
from safetynet.interop.fhir.mapping.base import Res, Row, concept, instant, local, prune, ref
from safetynet.interop.text import whole_number

TASK_STATUS = {
    "open": "ready",
    "acknowledged": "in-progress",
    "snoozed": "on-hold",
    "dismissed": "cancelled",
    "monitor": "draft",
    "closed": "completed",
}


def _tables() -> dict[str, Any]:
    from safetynet.core.db import Base

    return dict(Base.metadata.tables)


def task_resource(row: Row) -> Res:
    made: Res = prune(
        {
            "resourceType": "Task",
            "id": row["id"],
            "meta": {"versionId": "1", "lastUpdated": instant(row["closed_at"] or row["created_at"])},
            "status": TASK_STATUS.get(row["status"], "ready"),
            "businessStatus": concept(codes.TASK_STATUS, row["status"]),
            "intent": "order",
            "priority": "urgent" if row["escalation_level"] else "routine",
            "code": concept(codes.RULE_SYSTEM, row["rule_id"], text=f"{row['rule_id']} version {row['rule_version']}"),
            "description": row["summary"],
            "focus": ref("DetectedIssue", row["id"]),
            "for": ref("Patient", row["patient_id"]),
            "authoredOn": instant(row["created_at"]),
            "restriction": {"period": {"end": instant(row["due_at"])}},
            "owner": ref("Practitioner", row["owner_staff_id"]) or ref("Organization", row["team_id"]),
            "statusReason": {"text": row["close_reason"]} if row["close_reason"] else None,
        }
    )
    return made


def detected_issue_resource(row: Row) -> Res:
    made: Res = prune(
        {
            "resourceType": "DetectedIssue",
            "id": row["id"],
            "meta": {"versionId": "1", "lastUpdated": instant(row["closed_at"] or row["created_at"])},
            "status": "cancelled" if row["closed_at"] else "final",
            "code": concept(codes.RULE_SYSTEM, row["rule_id"]),
            "severity": "high" if row["escalation_level"] else "moderate",
            "patient": ref("Patient", row["patient_id"]),
            "identifiedDateTime": instant(row["finding_since"]),
            "detail": row["summary"],
            "reference": f"{codes.BASE}/rules/{row['rule_id']}",
            "evidence": [
                {"detail": [{"display": f"{e.get('kind')} {e.get('fact_id')}: {e.get('text')}"}]}
                for e in row["evidence"] or []
            ],
        }
    )
    return made


def consent_resource(row: Row) -> Res:
    made: Res = prune(
        {
            "resourceType": "Consent",
            "id": row["fact_id"],
            "meta": {"versionId": str(row["version"]), "lastUpdated": instant(row["recorded_at"])},
            "status": "entered-in-error"
            if row["entered_in_error"]
            else ("active" if row["consent_to_share"] else "rejected"),
            "scope": concept(
                "http://terminology.hl7.org/CodeSystem/consentscope", "patient-privacy", "Privacy Consent"
            ),
            "category": [concept("http://loinc.org", "59284-0", "Patient Consent")],
            "patient": ref("Patient", row["patient_id"]),
            "dateTime": instant(row["occurred_at"]),
            "policyRule": concept(
                "http://terminology.hl7.org/CodeSystem/v3-ActCode", "OPTIN" if row["consent_to_share"] else "OPTOUT"
            ),
            "provision": {
                "type": "permit" if row["consent_to_share"] else "deny",
                "actor": [
                    {
                        "role": concept("http://terminology.hl7.org/CodeSystem/v3-RoleClass", "CAREGIVER", "caregiver"),
                        "reference": ref("RelatedPerson", row["fact_id"]),
                    }
                ],
                "purpose": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/v3-ActReason",
                        "code": "TREAT",
                        "display": "treatment",
                    }
                ],
            },
            "extension": [
                {"url": f"{codes.BASE}/StructureDefinition/consent-scope", "valueString": row["consent_scope"]}
            ]
            if row["consent_scope"]
            else None,
        }
    )
    return made


AUDIT_ACTION = {"create": "C", "read": "R", "amend": "U", "enter_in_error": "U"}


def audit_resource(row: Row) -> Res:
    made: Res = prune(
        {
            "resourceType": "AuditEvent",
            "id": str(row["id"]),
            "meta": {"versionId": "1", "lastUpdated": instant(row["at"])},
            "type": {
                "system": "http://dicom.nema.org/resources/ontology/DCM",
                "code": "110110",
                "display": "Patient Record",
            },
            "subtype": [{"system": f"{codes.BASE}/CodeSystem/audit-action", "code": row["action"]}],
            "action": AUDIT_ACTION.get(row["action"], "E"),
            "recorded": instant(row["at"]),
            "outcome": "0",
            "purposeOfEvent": [{"text": row["purpose"]}],
            "agent": [
                {
                    "who": (ref("Practitioner", row["actor_staff_id"]) or {}) | {"display": row["actor_name"]},
                    "role": [{"text": row["actor_role"]}],
                    "requestor": True,
                }
            ],
            "source": {"observer": {"display": "Safetynet"}},
            "entity": [
                {
                    "what": ref("Patient", row["patient_id"]),
                    "role": {
                        "system": "http://terminology.hl7.org/CodeSystem/object-role",
                        "code": "1",
                        "display": "Patient",
                    },
                }
                if row["patient_id"]
                else None,
                {
                    "what": {"display": f"{row['entity']}/{row['entity_id']}" if row["entity_id"] else row["entity"]},
                    "description": row["detail"],
                },
            ],
        }
    )
    return made


def _table_for(kind: str) -> tuple[Any, str, Any]:
    tables = _tables()
    if kind in ("Task", "DetectedIssue"):
        return tables["tasks"], "id", task_resource if kind == "Task" else detected_issue_resource
    if kind == "Consent":
        return tables["carers"], "fact_id", consent_resource
    return tables["audit_events"], "id", audit_resource


def history(session: Session, kind: str, ident: str) -> list[Res]:
    table, key, maker = _table_for(kind)
    if key == "id" and table.name == "audit_events":
        value: Any = whole_number(ident)
        if value is None:
            return []
    else:
        value = ident
    stmt = select(table).where(table.c[key] == value)
    if "version" in table.c:
        stmt = stmt.order_by(table.c.version.desc())
    return [maker(dict(row)) for row in session.execute(stmt).mappings()]


def search(session: Session, kind: str, patient: str | None, ids: list[str]) -> list[Res]:
    table, key, maker = _table_for(kind)
    stmt = select(table)
    if "version" in table.c:
        from safetynet.interop.fhir.store import current_select

        stmt = current_select(table)
    if patient:
        stmt = stmt.where(table.c.patient_id == patient)
    if ids:
        stmt = stmt.where(
            table.c[key].in_(
                [n for i in ids if (n := whole_number(i)) is not None] if table.name == "audit_events" else ids
            )
        )
    stmt = stmt.order_by(table.c[key])
    return [maker(dict(row)) for row in session.execute(stmt).mappings()]


__all__ = [
    "audit_resource",
    "consent_resource",
    "detected_issue_resource",
    "history",
    "local",
    "search",
    "task_resource",
]
