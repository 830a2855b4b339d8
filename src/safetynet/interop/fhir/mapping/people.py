"""The person (Patient: the ``patients`` row and its ``patient_details`` versions), the trust and its teams
(Organization) and staff (Practitioner)."""

from __future__ import annotations

from datetime import date
from typing import Any

from safetynet.interop.fhir import codes
from safetynet.interop.fhir.mapping.base import (
    Reader,
    Refused,
    Res,
    Row,
    concept,
    fact_extension,
    instant,
    parse_datetime,
    prune,
    read_fact_extension,
    ref,
)
from safetynet.record.patients.models import PatientDetails, Sex
from safetynet.record.patients.schemas import check_nhs_number

DETAILS = PatientDetails.__table__
REGISTERED_URL = f"{codes.BASE}/StructureDefinition/registered"  # when the person first became known
TEAM_URL = f"{codes.BASE}/StructureDefinition/team"
# Columns of patient_details that the Patient's own elements carry.
PATIENT_NATURAL = frozenset({"name", "born", "sex", "gp_practice"})


def patient_resource(patient: Row, details: Row) -> Res:
    res: Res = {
        "resourceType": "Patient",
        "id": patient["id"],
        "meta": {
            "versionId": str(details["version"]),
            "lastUpdated": instant(details["recorded_at"]),
            "tag": [{"system": codes.RECORD_TABLE, "code": "patient_details"}],
        },
        "identifier": [{"system": codes.NHS_NUMBER, "value": patient["nhs_number"]}],
        "name": [{"text": details["name"]}],
        "gender": details["sex"],
        "birthDate": details["born"].isoformat(),
        "generalPractitioner": [
            {"type": "Organization", "identifier": {"system": codes.ODS_CODE, "value": details["gp_practice"]}}
        ]
        if details["gp_practice"]
        else None,
        "extension": [{"url": REGISTERED_URL, "valueDateTime": instant(patient["recorded_at"])}],
    }
    extra = ["fact_id", "occurred_at", "recorded_by_id", "team_id", "amendment_reason", "note"]
    if details["entered_in_error"]:
        extra.append("entered_in_error")
    extension = fact_extension(DETAILS, details, extra)  # type: ignore[arg-type]
    if extension:
        res["extension"].append(extension)
    made: Res = prune(res)
    return made


def patient_fields(res: Res) -> tuple[Row, Row]:
    """(the ``patients`` row's fields, the ``patient_details`` fields) a Patient carries, or Refused."""
    r = Reader(res)
    nhs_number = None
    for n, identifier in enumerate(res.get("identifier") or []):
        if isinstance(identifier, dict) and identifier.get("system") == codes.NHS_NUMBER:
            try:
                nhs_number = check_nhs_number(str(identifier.get("value", "")))
            except ValueError as exc:
                r.problem(f"identifier[{n}].value", str(exc))
                nhs_number = ""
    if nhs_number is None:
        r.problem("identifier", f"a person is identified by their NHS number ({codes.NHS_NUMBER})", "required")
    name = r.text("name.text")
    if name is None:
        first = (res.get("name") or [{}])[0] if isinstance(res.get("name"), list) else {}
        if isinstance(first, dict):
            name = " ".join([*(first.get("given") or []), first.get("family") or ""]).strip() or None
    if name is None:
        r.problem("name", "a person has a name", "required")
    born: date | None = None
    if isinstance(res.get("birthDate"), str):
        try:
            born = date.fromisoformat(res["birthDate"])
        except ValueError:
            r.problem("birthDate", "must be a full date (YYYY-MM-DD)")
    else:
        r.problem("birthDate", "a person's date of birth is required", "required")
    sex = res.get("gender") or "unknown"
    if sex not in set(Sex):
        r.problem("gender", f"{sex!r} is not male, female, other or unknown")
    gp = None
    for n, practitioner in enumerate(res.get("generalPractitioner") or []):
        identifier = (practitioner or {}).get("identifier") or {}
        if identifier.get("system") == codes.ODS_CODE:
            gp = str(identifier.get("value", "")).upper()
            if not (len(gp) == 6 and gp[0].isalpha() and gp.isalnum()):
                r.problem(f"generalPractitioner[{n}].identifier.value", f"{gp!r} is not a GP practice ODS code")
    registered = None
    for ext in res.get("extension") or []:
        if isinstance(ext, dict) and ext.get("url") == REGISTERED_URL:
            registered = _moment(r, ext.get("valueDateTime"))
    extension = read_fact_extension(r, DETAILS, frozenset({"fact_id"}))  # type: ignore[arg-type]
    if r.issues:
        raise Refused(r.issues)
    patient: Row = {"id": res.get("id"), "nhs_number": nhs_number, "recorded_at": registered}
    details: Row = dict(extension) | {
        "name": name,
        "born": born,
        "sex": sex,
        "gp_practice": gp,
        "entered_in_error": bool(extension.get("entered_in_error", False)),
    }
    return patient, details


def _moment(r: Reader, value: Any) -> Any:
    parsed = parse_datetime(value)
    if value is not None and parsed is None:
        r.problem("extension", f"{value!r} is not a dateTime")
    return parsed


# --- the trust, its teams, its staff ----------------------------------------------------------------------------


def organisation_resource(row: Row) -> Res:
    made: Res = prune(
        {
            "resourceType": "Organization",
            "id": row["id"],
            "meta": {"versionId": "1", "lastUpdated": instant(row["created_at"])},
            "identifier": [{"system": codes.ODS_CODE, "value": row["ods_code"]}],
            "active": True,
            "type": [concept("http://terminology.hl7.org/CodeSystem/organization-type", "prov", "Healthcare Provider")],
            "name": row["name"],
        }
    )
    return made


def team_resource(row: Row) -> Res:
    made: Res = prune(
        {
            "resourceType": "Organization",
            "id": row["id"],
            "meta": {"versionId": "1", "lastUpdated": instant(row["created_at"])},
            "active": bool(row["active"]),
            "type": [concept(codes.PATHWAY, row["pathway"], text="team")],
            "name": row["name"],
            "partOf": ref("Organization", row["organisation_id"]),
        }
    )
    return made


def staff_resource(row: Row) -> Res:
    extension = [{"url": TEAM_URL, "valueReference": ref("Organization", row["team_id"])}] if row["team_id"] else None
    made: Res = prune(
        {
            "resourceType": "Practitioner",
            "id": row["id"],
            "meta": {"versionId": "1", "lastUpdated": instant(row["created_at"])},
            "active": bool(row["active"]),
            "name": [{"text": row["name"]}],
            "qualification": [{"code": concept(codes.STAFF_ROLE, row["role"])}],
            "extension": extension,
        }
    )
    return made


def organization_fields(res: Res) -> tuple[str, Row]:
    """("organisations" or "teams", fields), or Refused. A team names its pathway; the trust its ODS code."""
    r = Reader(res)
    name = r.text("name", required=True)
    pathway = r.coded("type", codes.PATHWAY)
    ods = None
    for identifier in res.get("identifier") or []:
        if isinstance(identifier, dict) and identifier.get("system") == codes.ODS_CODE:
            ods = str(identifier.get("value", "")).upper()
    created = _moment(r, (res.get("meta") or {}).get("lastUpdated"))
    if pathway is not None:
        from safetynet.record.org.models import Pathway

        r.choice("pathway", "type", pathway, Pathway)
        fields: Row = {
            "id": res.get("id"),
            "name": name,
            "pathway": pathway,
            "active": res.get("active", True) is not False,
            "organisation_id": r.ref("partOf", "Organization"),
            "created_at": created,
        }
        kind = "teams"
    elif ods is not None:
        if not (ods.isalnum() and 1 <= len(ods) <= 10):
            r.problem("identifier", f"{ods!r} is not an ODS code")
        fields = {"id": res.get("id"), "ods_code": ods, "name": name, "created_at": created}
        kind = "organisations"
    else:
        r.problem(
            "type",
            f"an Organization is either a team (type coded in {codes.PATHWAY}) or the trust (an ODS code identifier)",
            "required",
        )
        kind, fields = "teams", {}
    if name is not None and len(name) > 200:
        r.problem("name", "is longer than 200 characters")
    if r.issues:
        raise Refused(r.issues)
    return kind, fields


def practitioner_fields(res: Res) -> Row:
    from safetynet.core.context import Role

    r = Reader(res)
    name = r.text("name.text")
    if name is None:
        first = (res.get("name") or [{}])[0] if isinstance(res.get("name"), list) else {}
        if isinstance(first, dict):
            name = " ".join(
                [*(first.get("prefix") or []), *(first.get("given") or []), first.get("family") or ""]
            ).strip()
    if not name:
        r.problem("name", "a member of staff has a name", "required")
    role = r.coded("qualification.code", codes.STAFF_ROLE) or "key_worker"
    r.choice("role", "qualification", role, [str(x) for x in Role if x is not Role.SYSTEM])
    team = None
    for ext in res.get("extension") or []:
        if isinstance(ext, dict) and ext.get("url") == TEAM_URL:
            team = ((ext.get("valueReference") or {}).get("reference") or "").rpartition("/")[2] or None
    if name and len(name) > 200:
        r.problem("name", "is longer than 200 characters")
    if r.issues:
        raise Refused(r.issues)
    return {
        "id": res.get("id"),
        "name": name,
        "role": role,
        "team_id": team,
        "active": res.get("active", True) is not False,
        "created_at": _moment(r, (res.get("meta") or {}).get("lastUpdated")),
    }
