"""Contacts and appointments: a booked appointment is an Appointment (booked); a planned contact is an Appointment
whose status says what happened (fulfilled, noshow, cancelled) with the MHSDS AttendOrDNACode; an unplanned contact
is an Encounter (finished)."""

from __future__ import annotations

from typing import Any

from safetynet.interop.fhir import codes
from safetynet.interop.fhir.mapping.base import (
    Mapper,
    Reader,
    Res,
    Row,
    concept,
    instant,
    local,
    ref,
    team_ref,
)
from safetynet.record.contacts.models import ATTEND_OR_DNA_CODE, Appointment, Contact, ContactMode, ContactOutcome

MODE_SYSTEM = f"{codes.BASE}/CodeSystem/contact-mode"
OUTCOME_SYSTEM = f"{codes.BASE}/CodeSystem/contact-outcome"
# An AttendOrDNACode names the outcome where it is unambiguous (3 also covers "no access" on a home visit).
OUTCOME_FROM_CODE = {
    "5": "attended",
    "6": "attended",
    "3": "dna",
    "2": "cancelled_by_patient",
    "4": "cancelled_by_provider",
    "7": "late_not_seen",
}


def _attendance(code: str) -> Res:
    return {"url": codes.ATTEND_OR_DNA_URL, "valueCoding": {"system": codes.ATTEND_OR_DNA, "code": code}}


def _attendance_code(r: Reader) -> str | None:
    for ext in r.res.get("extension") or []:
        if isinstance(ext, dict) and ext.get("url") == codes.ATTEND_OR_DNA_URL:
            return str((ext.get("valueCoding") or {}).get("code"))
    return None


def _mode(r: Reader, path: str) -> str | None:
    return r.choice("mode", path, r.coded(path, MODE_SYSTEM) or "face_to_face", ContactMode)


def _outcome(r: Reader) -> str | None:
    outcome = r.coded("reasonCode", OUTCOME_SYSTEM) or OUTCOME_FROM_CODE.get(_attendance_code(r) or "")
    if outcome is None:
        status = r.get("status")
        outcome = {"fulfilled": "attended", "finished": "attended", "noshow": "dna"}.get(str(status))
        if outcome is None:
            r.problem("status", f"{status!r} does not say what happened (use the AttendOrDNACode extension)")
    return r.choice("outcome", "reasonCode", outcome, ContactOutcome)


def _contact_appointment_out(row: Row, res: Res) -> None:
    res["status"] = codes.OUTCOME_APPOINTMENT_STATUS.get(row["outcome"], "fulfilled")
    res["appointmentType"] = concept(MODE_SYSTEM, row["mode"])
    reason = concept(OUTCOME_SYSTEM, row["outcome"])
    if row["outcome"] in ("dna", "no_access"):
        reason["coding"].append({"system": codes.SNOMED, "code": codes.DNA_SNOMED[0], "display": codes.DNA_SNOMED[1]})
    res["reasonCode"] = [reason]
    res["start"] = instant(row["occurred_at"])
    res["end"] = instant(row["occurred_at"])
    res["participant"] = (
        [{"actor": ref("Practitioner", row["staff_id"]), "status": "accepted"}] if row["staff_id"] else []
    )
    res["extension"] = [_attendance(row["attend_or_dna_code"])]


def _contact_appointment_in(r: Reader) -> Row:
    outcome = _outcome(r)
    practitioner = None
    for participant in r.res.get("participant") or []:
        reference = str(((participant or {}).get("actor") or {}).get("reference", ""))
        if reference.startswith("Practitioner/"):
            practitioner = reference.partition("/")[2]
    return {
        "occurred_at": r.moment("start", required=True),
        "outcome": outcome,
        "mode": _mode(r, "appointmentType"),
        "planned": True,
        "staff_id": practitioner,
        "attend_or_dna_code": _attendance_code(r) or ATTEND_OR_DNA_CODE.get(outcome or "", "5"),
    }


def _planned(row: Row) -> bool:
    return bool(row.get("planned", True))


def _unplanned(row: Row) -> bool:
    return not _planned(row)


def _has_outcome(res: Res) -> bool:
    return res.get("status") != "booked"


CONTACT_APPOINTMENT = Mapper(
    Contact,
    "Appointment",
    _contact_appointment_out,
    _contact_appointment_in,
    frozenset({"occurred_at", "outcome", "mode", "planned", "staff_id", "attend_or_dna_code"}),
    subject="participant",
    status_columns=frozenset({"outcome"}),
    matches=_has_outcome,
    rows=_planned,
    where=lambda model: model.planned.is_(True),
)


def _contact_encounter_out(row: Row, res: Res) -> None:
    res["status"] = "finished" if row["outcome"] == "attended" else "cancelled"
    res["class"] = {
        "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
        "code": "AMB",
        "display": "ambulatory",
    }
    res["type"] = [concept(MODE_SYSTEM, row["mode"])]
    res["reasonCode"] = [concept(OUTCOME_SYSTEM, row["outcome"])]
    res["period"] = {"start": instant(row["occurred_at"])}
    res["participant"] = [{"individual": ref("Practitioner", row["staff_id"])}] if row["staff_id"] else []
    res["serviceProvider"] = team_ref(row)
    res["extension"] = [_attendance(row["attend_or_dna_code"])]


def _contact_encounter_in(r: Reader) -> Row:
    outcome = _outcome(r)
    return {
        "occurred_at": r.moment("period.start", required=True),
        "outcome": outcome,
        "mode": _mode(r, "type"),
        "planned": False,
        "staff_id": r.ref("participant.individual", "Practitioner"),
        "team_id": r.ref("serviceProvider", "Organization"),
        "attend_or_dna_code": _attendance_code(r) or ATTEND_OR_DNA_CODE.get(outcome or "", "5"),
    }


def _not_admission(res: Res) -> bool:
    klass: Any = res.get("class") or {}
    has_legal = any(isinstance(e, dict) and e.get("url") == codes.LEGAL_STATUS_URL for e in res.get("extension") or [])
    return klass.get("code") not in ("IMP", "ACUTE", "NONAC") and not has_legal


CONTACT_ENCOUNTER = Mapper(
    Contact,
    "Encounter",
    _contact_encounter_out,
    _contact_encounter_in,
    frozenset({"occurred_at", "outcome", "mode", "planned", "staff_id", "team_id", "attend_or_dna_code"}),
    status_columns=frozenset({"outcome"}),
    matches=_not_admission,
    rows=_unplanned,
    where=lambda model: model.planned.is_(False),
)


def _appointment_out(row: Row, res: Res) -> None:
    res["status"] = "booked"
    res["appointmentType"] = concept(MODE_SYSTEM, row["mode"])
    res["created"] = instant(row["occurred_at"])
    res["start"] = instant(row["due_at"])
    res["end"] = instant(row["due_at"])
    res["participant"] = (
        [{"actor": ref("Practitioner", row["staff_id"]), "status": "accepted"}] if row["staff_id"] else []
    )
    res["extension"] = [_attendance("0")]
    res["serviceCategory"] = [local("mental-health", "Mental health")]


def _appointment_in(r: Reader) -> Row:
    if r.get("status") not in ("booked", "proposed", "pending"):
        r.problem("status", "a booked appointment is booked, proposed or pending")
    practitioner = None
    for participant in r.res.get("participant") or []:
        reference = str(((participant or {}).get("actor") or {}).get("reference", ""))
        if reference.startswith("Practitioner/"):
            practitioner = reference.partition("/")[2]
    due = r.moment("start", required=True)
    return {
        "occurred_at": r.moment("created") or due,
        "due_at": due,
        "mode": _mode(r, "appointmentType"),
        "staff_id": practitioner,
    }


APPOINTMENT = Mapper(
    Appointment,
    "Appointment",
    _appointment_out,
    _appointment_in,
    frozenset({"occurred_at", "due_at", "mode", "staff_id"}),
    subject="participant",
    matches=lambda res: res.get("status") in ("booked", "proposed", "pending"),
    search_date="due_at",
)

MAPPERS = (APPOINTMENT, CONTACT_APPOINTMENT, CONTACT_ENCOUNTER)
