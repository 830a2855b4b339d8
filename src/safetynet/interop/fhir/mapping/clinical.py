"""Risk (Flag, RiskAssessment), diagnoses (Condition), decisions (ClinicalImpression, Observation), care plans
(CarePlan), GP handover letters (Communication), notes (DocumentReference) and zones (Flag)."""

from __future__ import annotations

import base64
import binascii

from safetynet.interop.fhir import codes
from safetynet.interop.fhir.mapping.base import Mapper, Reader, Res, Row, concept, instant, local, note_text, notes
from safetynet.record.careplans.models import CarePlanReview, GpHandoverLetter
from safetynet.record.decisions.models import CapacityAssessment, CapacityOutcome, DecisionTopic, MdtDecision
from safetynet.record.diagnoses.models import CODE_SYSTEM_URIS, Diagnosis
from safetynet.record.notes.models import ClinicalNote
from safetynet.record.risk.models import FactorStatus, RiskAssessment, RiskCategory, RiskEvent
from safetynet.record.zoning.models import Zone, ZoneAssignment

RISK_CATEGORY = f"{codes.BASE}/CodeSystem/risk-category"
FLAG_CATEGORY = "http://terminology.hl7.org/CodeSystem/flag-category"
ZONE_SYSTEM = f"{codes.BASE}/CodeSystem/zone"
CATEGORIES = frozenset(str(c) for c in RiskCategory)
STATUSES = frozenset(str(s) for s in FactorStatus)
SYSTEM_FROM_URI = {uri: str(system) for system, uri in CODE_SYSTEM_URIS.items()}


def _has_code(res: Res, path: str, system: str) -> bool:
    value = res.get(path)
    concepts = value if isinstance(value, list) else [value]
    return any(
        isinstance(c, dict) and any(isinstance(x, dict) and x.get("system") == system for x in c.get("coding") or [])
        for c in concepts
    )


# --- risk events: a Flag of the risk, with the event's SNOMED CT risk finding where there is one -----------------


def _risk_event_out(row: Row, res: Res) -> None:
    code = concept(RISK_CATEGORY, row["category"], text=row["description"])
    snomed = codes.RISK_FLAG_SNOMED.get(row["category"])
    if snomed:
        code["coding"].append({"system": codes.SNOMED, "code": snomed[0], "display": snomed[1]})
    res["status"] = "active"
    res["category"] = [concept(FLAG_CATEGORY, "safety", "Safety")]
    res["code"] = code
    res["period"] = {"start": instant(row["occurred_at"])}


def _risk_event_in(r: Reader) -> Row:
    category = r.coded("code", RISK_CATEGORY)
    if category is None:
        r.problem("code", f"a risk event needs its Safetynet risk category ({RISK_CATEGORY})", "required")
    return {
        "occurred_at": r.moment("period.start", required=True),
        "category": r.choice("category", "code", category, RiskCategory),
        "description": r.text("code.text", required=True),
    }


RISK_EVENT = Mapper(
    RiskEvent,
    "Flag",
    _risk_event_out,
    _risk_event_in,
    frozenset({"occurred_at", "category", "description"}),
    matches=lambda res: not _has_code(res, "code", ZONE_SYSTEM),
)


def _zone_out(row: Row, res: Res) -> None:
    res["status"] = "active"
    res["category"] = [local("zone", "Red, amber, green zone")]
    res["code"] = concept(ZONE_SYSTEM, row["zone"], text=row["rationale"])
    res["period"] = {"start": instant(row["occurred_at"])}


def _zone_in(r: Reader) -> Row:
    return {
        "occurred_at": r.moment("period.start", required=True),
        "zone": r.choice("zone", "code", r.coded("code", ZONE_SYSTEM), Zone),
        "rationale": r.text("code.text", required=True),
    }


ZONE = Mapper(
    ZoneAssignment,
    "Flag",
    _zone_out,
    _zone_in,
    frozenset({"occurred_at", "zone", "rationale"}),
    matches=lambda res: _has_code(res, "code", ZONE_SYSTEM),
)


# --- risk assessments: outcome per category, never a probability ------------------------------------------------


def _assessment_out(row: Row, res: Res) -> None:
    res["status"] = "final"
    res["occurrenceDateTime"] = instant(row["occurred_at"])
    res["prediction"] = [
        {"outcome": concept(RISK_CATEGORY, category, text=status), "rationale": status}
        for category, status in (row["factors"] or {}).items()
    ]
    res["mitigation"] = row["safety_plan_detail"]
    res["note"] = notes(row)


def _assessment_in(r: Reader) -> Row:
    factors: dict[str, str] = {}
    for n, prediction in enumerate(r.res.get("prediction") or []):
        if not isinstance(prediction, dict):
            continue
        if "probabilityDecimal" in prediction or "probabilityRange" in prediction or "qualitativeRisk" in prediction:
            r.problem(
                f"prediction[{n}]",
                "Safetynet records risk as present, absent or not assessed with a formulation, never a probability or "
                "a low / medium / high grade (NICE NG225)",
                "business-rule",
            )
            continue
        category = None
        for coding in (prediction.get("outcome") or {}).get("coding") or []:
            if coding.get("system") == RISK_CATEGORY:
                category = coding.get("code")
        status = prediction.get("rationale")
        if category not in CATEGORIES or status not in STATUSES:
            r.problem(
                f"prediction[{n}]",
                f"outcome must be a Safetynet risk category ({RISK_CATEGORY}) and rationale present, absent or "
                "not_assessed",
            )
            continue
        factors[str(category)] = str(status)
    if not factors and not r.issues:
        r.problem(
            "prediction", "a risk assessment says, for each risk category, present, absent or not assessed", "required"
        )
    return {
        "occurred_at": r.moment("occurrenceDateTime", required=True),
        "factors": factors,
        "safety_plan_detail": r.text("mitigation"),
        "note": note_text(r),
    }


RISK_ASSESSMENT = Mapper(
    RiskAssessment,
    "RiskAssessment",
    _assessment_out,
    _assessment_in,
    frozenset({"occurred_at", "factors", "safety_plan_detail", "note"}),
)


# --- diagnoses ------------------------------------------------------------------------------------------------


def _diagnosis_out(row: Row, res: Res) -> None:
    uri = str(CODE_SYSTEM_URIS.get(row["system"], row["system"]))
    res["clinicalStatus"] = concept("http://terminology.hl7.org/CodeSystem/condition-clinical", "active")
    res["code"] = concept(uri, row["code"], row["display"])
    res["onsetDateTime"] = instant(row["occurred_at"])
    res["note"] = notes(row)


def _diagnosis_in(r: Reader) -> Row:
    found: tuple[str, str, str | None] | None = None
    for coding in (r.get("code") or {}).get("coding") or []:
        system = SYSTEM_FROM_URI.get(str(coding.get("system")))
        if system and coding.get("code"):
            found = (system, str(coding["code"]).upper(), coding.get("display"))
            break
    if found is None:
        r.problem("code", "a diagnosis is coded in ICD-10 or SNOMED CT", "code-invalid")
    elif not all(ch.isalnum() or ch == "." for ch in found[1]):
        r.problem("code", f"{found[1]!r} is not an ICD-10 or SNOMED CT code")
    when = r.moment("onsetDateTime") or r.moment("recordedDate")
    if when is None:
        r.problem("onsetDateTime", "a diagnosis needs onsetDateTime or recordedDate", "required")
    system, code, display = found or (None, None, None)
    return {"occurred_at": when, "system": system, "code": code, "display": display, "note": note_text(r)}


DIAGNOSIS = Mapper(
    Diagnosis,
    "Condition",
    _diagnosis_out,
    _diagnosis_in,
    frozenset({"occurred_at", "system", "code", "display", "note"}),
    error_in="verificationStatus",
)


# --- decisions and capacity -------------------------------------------------------------------------------------

TOPIC_SYSTEM = f"{codes.BASE}/CodeSystem/decision-topic"


def _decision_out(row: Row, res: Res) -> None:
    res["status"] = "completed"
    res["code"] = concept(TOPIC_SYSTEM, row["topic"], text="MDT decision")
    res["effectiveDateTime"] = instant(row["occurred_at"])
    res["summary"] = row["decision"]
    res["description"] = row["rationale"]


def _decision_in(r: Reader) -> Row:
    return {
        "occurred_at": r.moment("effectiveDateTime", required=True),
        "topic": r.choice("topic", "code", r.coded("code", TOPIC_SYSTEM) or "other", DecisionTopic),
        "decision": r.text("summary", required=True),
        "rationale": r.text("description", required=True),
    }


MDT_DECISION = Mapper(
    MdtDecision,
    "ClinicalImpression",
    _decision_out,
    _decision_in,
    frozenset({"occurred_at", "topic", "decision", "rationale"}),
)

CAPACITY_SYSTEM = f"{codes.BASE}/CodeSystem/capacity-outcome"


def _capacity_out(row: Row, res: Res) -> None:
    res["status"] = "final"
    res["code"] = local("capacity-assessment", "Mental Capacity Act assessment")
    res["code"]["text"] = row["decision_about"]
    res["effectiveDateTime"] = instant(row["occurred_at"])
    res["valueCodeableConcept"] = concept(CAPACITY_SYSTEM, row["outcome"])


def _capacity_in(r: Reader) -> Row:
    return {
        "occurred_at": r.moment("effectiveDateTime", required=True),
        "decision_about": r.text("code.text", required=True),
        "outcome": r.choice(
            "outcome", "valueCodeableConcept", r.coded("valueCodeableConcept", CAPACITY_SYSTEM), CapacityOutcome
        ),
    }


CAPACITY = Mapper(
    CapacityAssessment,
    "Observation",
    _capacity_out,
    _capacity_in,
    frozenset({"occurred_at", "decision_about", "outcome"}),
)


# --- care plans, letters, notes ------------------------------------------------------------------------------


def _review_out(row: Row, res: Res) -> None:
    res["status"] = "active"
    res["intent"] = "plan"
    res["category"] = [local("care-plan-review", "Care plan review")]
    res["created"] = instant(row["occurred_at"])
    res["description"] = row["summary"]
    res["note"] = notes(row)


def _review_in(r: Reader) -> Row:
    return {
        "occurred_at": r.moment("created") or r.moment("period.start", required=True),
        "summary": r.text("description"),
        "note": note_text(r),
    }


CARE_PLAN_REVIEW = Mapper(
    CarePlanReview,
    "CarePlan",
    _review_out,
    _review_in,
    frozenset({"occurred_at", "summary", "note"}),
)


def _letter_out(row: Row, res: Res) -> None:
    res["status"] = "completed"
    res["category"] = [local("gp-handover-letter", "GP handover letter")]
    res["sent"] = instant(row["occurred_at"])
    res["payload"] = [{"contentString": row["body"]}] if row["body"] else []


def _letter_in(r: Reader) -> Row:
    return {"occurred_at": r.moment("sent", required=True), "body": r.text("payload.contentString")}


GP_LETTER = Mapper(
    GpHandoverLetter,
    "Communication",
    _letter_out,
    _letter_in,
    frozenset({"occurred_at", "body"}),
    matches=lambda res: _category(res) == "gp-handover-letter",
)


def _category(res: Res) -> str | None:
    for item in res.get("category") or []:
        for coding in (item or {}).get("coding") or []:
            if coding.get("system") == codes.SAFETYNET_CODES:
                return str(coding.get("code"))
    return None


def _note_out(row: Row, res: Res) -> None:
    res["status"] = "current"
    res["type"] = local("clinical-note", "Clinical note")
    res["date"] = instant(row["occurred_at"])
    res["description"] = row["title"]
    text = row["note"] or ""
    res["content"] = [
        {"attachment": {"contentType": "text/plain; charset=utf-8", "data": base64.b64encode(text.encode()).decode()}}
    ]


def _note_in(r: Reader) -> Row:
    data = r.get("content.attachment.data")
    text = None
    if isinstance(data, str):
        try:
            text = base64.b64decode(data, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            r.problem("content[0].attachment.data", "is not base64 UTF-8 text")
    return {"occurred_at": r.moment("date", required=True), "title": r.text("description"), "note": text}


NOTE = Mapper(
    ClinicalNote,
    "DocumentReference",
    _note_out,
    _note_in,
    frozenset({"occurred_at", "title", "note"}),
)

MAPPERS = (RISK_EVENT, ZONE, RISK_ASSESSMENT, DIAGNOSIS, MDT_DECISION, CAPACITY, CARE_PLAN_REVIEW, GP_LETTER, NOTE)
