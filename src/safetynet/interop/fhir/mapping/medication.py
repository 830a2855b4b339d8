"""Prescriptions (MedicationRequest, a depot with its interval), depot injections given or refused
(MedicationAdministration) and adherence reports (MedicationStatement)."""

from __future__ import annotations

from safetynet.interop.fhir import codes
from safetynet.interop.fhir.mapping.base import Mapper, Reader, Res, Row, concept, instant, local, ref
from safetynet.record.medication.models import (
    AdherenceReport,
    DepotAdministration,
    DepotOutcome,
    Prescription,
)

ORAL = ("26643006", "Oral route")
INTRAMUSCULAR = ("78421000", "Intramuscular route")
ROUTE_SYSTEM = f"{codes.BASE}/CodeSystem/route"


def _prescription_out(row: Row, res: Res) -> None:
    depot = row["route"] == "depot"
    route = concept(codes.SNOMED, *(INTRAMUSCULAR if depot else ORAL))
    route["coding"].append({"system": ROUTE_SYSTEM, "code": row["route"]})
    dosage: Res = {"text": row["dose"], "route": route}
    if row["interval_days"]:
        dosage["timing"] = {"repeat": {"frequency": 1, "period": row["interval_days"], "periodUnit": "d"}}
    res["status"] = "stopped" if row["stopped_at"] else "active"
    res["intent"] = "order"
    res["medicationCodeableConcept"] = {"text": row["drug"]}
    res["authoredOn"] = instant(row["occurred_at"])
    res["dosageInstruction"] = [dosage]
    if depot:
        res["category"] = [local("depot", "Depot (long-acting injectable)")]


def _prescription_in(r: Reader) -> Row:
    drug = r.text("medicationCodeableConcept.text") or _display(r.get("medicationCodeableConcept"))
    if drug is None:
        r.problem(
            "medicationCodeableConcept", "the drug is named in medicationCodeableConcept (text or display)", "required"
        )
    dosage = (r.res.get("dosageInstruction") or [{}])[0] or {}
    route_codes = {(c.get("system"), c.get("code")) for c in (dosage.get("route") or {}).get("coding") or []}
    repeat = (dosage.get("timing") or {}).get("repeat") or {}
    interval = _interval_days(repeat)
    if (ROUTE_SYSTEM, "depot") in route_codes or (
        (codes.SNOMED, INTRAMUSCULAR[0]) in route_codes and interval and interval >= 7
    ):
        route = "depot"
    elif (ROUTE_SYSTEM, "oral") in route_codes or (codes.SNOMED, ORAL[0]) in route_codes or not route_codes:
        route = "oral"
    else:
        r.problem(
            "dosageInstruction[0].route",
            "Safetynet records oral medication and depot (long-acting) injections only; this route is neither",
            "not-supported",
        )
        route = None
    if route == "depot" and not interval:
        r.problem(
            "dosageInstruction[0].timing.repeat", "a depot needs its interval (period, periodUnit d or wk)", "required"
        )
    if interval is not None and not 1 <= interval <= 366:
        r.problem("dosageInstruction[0].timing.repeat", "the interval must be 1 to 366 days")
    status = r.get("status")
    if status not in ("active", "stopped", "completed", "on-hold", "draft", "cancelled"):
        r.problem("status", f"{status!r} is not a status Safetynet records")
    return {
        "occurred_at": r.moment("authoredOn", required=True),
        "drug": drug,
        "route": route,
        "dose": dosage.get("text") if isinstance(dosage.get("text"), str) else None,
        "interval_days": interval if route == "depot" else None,
    }


def _display(value: object) -> str | None:
    if isinstance(value, dict):
        for coding in value.get("coding") or []:
            if isinstance(coding, dict) and isinstance(coding.get("display"), str):
                return str(coding["display"])
    return None


def _interval_days(repeat: Res) -> int | None:
    period = repeat.get("period")
    if not isinstance(period, int | float):
        return None
    factor = {"d": 1, "wk": 7, "mo": 30, "a": 365}.get(str(repeat.get("periodUnit")))
    if factor is None:
        return None
    frequency = repeat.get("frequency") or 1
    return round(period * factor / frequency) if isinstance(frequency, int) and frequency else None


PRESCRIPTION = Mapper(
    Prescription,
    "MedicationRequest",
    _prescription_out,
    _prescription_in,
    frozenset({"occurred_at", "drug", "route", "dose", "interval_days"}),
)


def _depot_out(row: Row, res: Res) -> None:
    given = row["outcome"] == "given"
    res["status"] = "completed" if given else "not-done"
    if not given:
        res["statusReason"] = [concept(f"{codes.BASE}/CodeSystem/depot-outcome", "refused", "Refused by the person")]
    res["medicationCodeableConcept"] = {"text": row["drug"]}
    res["effectiveDateTime"] = instant(row["occurred_at"])
    res["request"] = ref("MedicationRequest", row["prescription_fact_id"])
    res["performer"] = [{"actor": ref("Practitioner", row["staff_id"])}] if row["staff_id"] else []


def _depot_in(r: Reader) -> Row:
    status = r.get("status")
    outcome = {"completed": "given", "not-done": "refused"}.get(str(status))
    if outcome is None:
        r.problem("status", "a depot is completed (given) or not-done (refused)")
    return {
        "occurred_at": r.moment("effectiveDateTime", required=True),
        "drug": r.text("medicationCodeableConcept.text") or _display(r.get("medicationCodeableConcept")),
        "outcome": r.choice("outcome", "status", outcome, DepotOutcome),
        "prescription_fact_id": r.ref("request", "MedicationRequest", required=True),
        "staff_id": r.ref("performer.actor", "Practitioner"),
    }


DEPOT = Mapper(
    DepotAdministration,
    "MedicationAdministration",
    _depot_out,
    _depot_in,
    frozenset({"occurred_at", "drug", "outcome", "prescription_fact_id", "staff_id"}),
    status_columns=frozenset({"outcome"}),
)


def _adherence_out(row: Row, res: Res) -> None:
    res["status"] = "not-taken" if row["status"] == "non_adherent" else "active"
    res["medicationCodeableConcept"] = {"text": "medication as prescribed"}
    res["effectiveDateTime"] = instant(row["occurred_at"])
    res["note"] = [{"text": row["detail"]}] if row["detail"] else None


def _adherence_in(r: Reader) -> Row:
    return {
        "occurred_at": r.moment("effectiveDateTime", required=True),
        "status": "non_adherent" if r.get("status") == "not-taken" else "adherent",
        "detail": r.text("note.text"),
    }


ADHERENCE = Mapper(
    AdherenceReport,
    "MedicationStatement",
    _adherence_out,
    _adherence_in,
    frozenset({"occurred_at", "detail"}),
)

MAPPERS = (PRESCRIPTION, DEPOT, ADHERENCE)
