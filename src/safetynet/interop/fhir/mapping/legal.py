"""Admissions (Encounter with the UK Core LegalStatus extension), changes of legal status, community treatment
orders and their recalls (Basic: UK Core has no profile for them)."""

from __future__ import annotations

from typing import Any

from safetynet.interop.fhir import codes
from safetynet.interop.fhir.mapping.base import Mapper, Reader, Res, Row, instant, local, team_ref
from safetynet.record.legal.models import (
    LEGAL_STATUS_CODES,
    Admission,
    CommunityTreatmentOrder,
    CtoRecall,
    LegalStatusChange,
)


def legal_status_extension(code: str, context: str | None) -> Res:
    parts: list[Res] = []
    if context:
        parts.append(
            {
                "url": "legalStatusContext",
                "valueCodeableConcept": {
                    "coding": [{"system": codes.LEGAL_STATUS_CONTEXT, "code": context, "display": context.title()}]
                },
            }
        )
    parts.append(
        {
            "url": "legalStatusClassification",
            "valueCodeableConcept": {
                "coding": [
                    {"system": codes.LEGAL_STATUS_ENGLAND, "code": code, "display": LEGAL_STATUS_CODES.get(code, code)}
                ]
            },
        }
    )
    return {"url": codes.LEGAL_STATUS_URL, "extension": parts}


def read_legal_status(r: Reader) -> str | None:
    for n, ext in enumerate(r.res.get("extension") or []):
        if not isinstance(ext, dict) or ext.get("url") != codes.LEGAL_STATUS_URL:
            continue
        for part in ext.get("extension") or []:
            if isinstance(part, dict) and part.get("url") == "legalStatusClassification":
                for coding in (part.get("valueCodeableConcept") or {}).get("coding") or []:
                    if coding.get("system") == codes.LEGAL_STATUS_ENGLAND:
                        code = str(coding.get("code", "")).zfill(2)
                        if code not in LEGAL_STATUS_CODES:
                            r.problem(f"extension[{n}]", f"{code!r} is not a Mental Health Act legal status (England)")
                            return None
                        return code
        r.problem(f"extension[{n}]", f"legalStatusClassification must be coded in {codes.LEGAL_STATUS_ENGLAND}")
        return None
    r.problem(
        "extension",
        f"an admission needs its Mental Health Act legal status ({codes.LEGAL_STATUS_URL}); 99 means not known",
        "required",
    )
    return None


def _admission_out(row: Row, res: Res) -> None:
    res["status"] = "finished" if row["discharged_at"] else "in-progress"
    res["class"] = {
        "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
        "code": "IMP",
        "display": "inpatient encounter",
    }
    res["period"] = {
        "start": instant(row["occurred_at"]),
        "end": instant(row["discharged_at"]) if row["discharged_at"] else None,
    }
    res["serviceProvider"] = team_ref(row, "ward_id")
    res["extension"] = [legal_status_extension(row["legal_status"], "admission")]


def _admission_in(r: Reader) -> Row:
    return {
        "occurred_at": r.moment("period.start", required=True),
        "discharged_at": r.moment("period.end"),
        "ward_id": r.ref("serviceProvider", "Organization", required=True),
        "legal_status": read_legal_status(r),
    }


def _is_admission(res: Res) -> bool:
    klass: Any = res.get("class") or {}
    has_legal = any(isinstance(e, dict) and e.get("url") == codes.LEGAL_STATUS_URL for e in res.get("extension") or [])
    return klass.get("code") in ("IMP", "ACUTE", "NONAC") or has_legal


ADMISSION = Mapper(
    Admission,
    "Encounter",
    _admission_out,
    _admission_in,
    frozenset({"occurred_at", "discharged_at", "ward_id", "legal_status"}),
    matches=_is_admission,
)


def _basic_kind(code: str) -> Any:
    def matches(res: Res) -> bool:
        for coding in (res.get("code") or {}).get("coding") or []:
            if (
                isinstance(coding, dict)
                and coding.get("system") == codes.SAFETYNET_CODES
                and coding.get("code") == code
            ):
                return True
        return False

    return matches


def _change_out(row: Row, res: Res) -> None:
    res["code"] = local("legal-status-change", "Change of Mental Health Act legal status")
    res["created"] = row["occurred_at"].date().isoformat()
    res["extension"] = [legal_status_extension(row["legal_status"], None)]


def _change_in(r: Reader) -> Row:
    return {"occurred_at": r.moment("created", required=True), "legal_status": read_legal_status(r)}


LEGAL_STATUS_CHANGE = Mapper(
    LegalStatusChange,
    "Basic",
    _change_out,
    _change_in,
    frozenset({"legal_status"}),
    error_in="extension",
    matches=_basic_kind("legal-status-change"),
)


def _cto_out(row: Row, res: Res) -> None:
    res["code"] = local("community-treatment-order", "Community treatment order (Mental Health Act s17A)")
    res["created"] = row["occurred_at"].date().isoformat()


def _cto_in(r: Reader) -> Row:
    return {"occurred_at": r.moment("created", required=True)}


CTO = Mapper(
    CommunityTreatmentOrder,
    "Basic",
    _cto_out,
    _cto_in,
    frozenset(),
    error_in="extension",
    matches=_basic_kind("community-treatment-order"),
)


def _recall_out(row: Row, res: Res) -> None:
    res["code"] = local("cto-recall", "Recall to hospital under a community treatment order")
    res["created"] = row["occurred_at"].date().isoformat()


CTO_RECALL = Mapper(
    CtoRecall,
    "Basic",
    _recall_out,
    _cto_in,
    frozenset(),
    error_in="extension",
    matches=_basic_kind("cto-recall"),
)

MAPPERS = (ADMISSION, LEGAL_STATUS_CHANGE, CTO, CTO_RECALL)
