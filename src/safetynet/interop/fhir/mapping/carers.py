"""Carers (RelatedPerson; their consent to share is also shown as a Consent), family concerns and the team's
responses, and partner agencies' information (Communication)."""

from __future__ import annotations

from safetynet.interop.fhir import codes
from safetynet.interop.fhir.mapping.base import Mapper, Reader, Res, Row, concept, instant, local, ref
from safetynet.interop.fhir.mapping.clinical import _category
from safetynet.record.carers.models import Carer, Channel, FamilyConcern, FamilyConcernResponse
from safetynet.record.partners.models import Agency, PartnerInformation

CHANNEL_SYSTEM = f"{codes.BASE}/CodeSystem/channel"
AGENCY_SYSTEM = f"{codes.BASE}/CodeSystem/agency"
KIND_SYSTEM = f"{codes.BASE}/CodeSystem/partner-information-kind"


def _carer_out(row: Row, res: Res) -> None:
    res["active"] = True
    res["name"] = [{"text": row["name"]}]
    res["relationship"] = [{"text": row["relationship"]}]
    res["period"] = {"start": instant(row["occurred_at"])}


def _carer_in(r: Reader) -> Row:
    name = r.text("name.text")
    if name is None:
        parts = r.get("name") or {}
        if isinstance(parts, list):
            parts = parts[0] if parts else {}
        given = " ".join(parts.get("given") or []) if isinstance(parts, dict) else ""
        name = " ".join(p for p in (given, parts.get("family") if isinstance(parts, dict) else None) if p) or None
    if name is None:
        r.problem("name", "a carer has a name", "required")
    relationship = r.text("relationship.text") or _first_display(r.get("relationship"))
    if relationship is None:
        r.problem("relationship", "say how the carer is related to the person", "required")
    return {
        "occurred_at": r.moment("period.start", required=True),
        "name": name,
        "relationship": relationship,
    }


def _first_display(value: object) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        for coding in value.get("coding") or []:
            if isinstance(coding, dict) and (coding.get("display") or coding.get("code")):
                return str(coding.get("display") or coding.get("code"))
    return None


CARER = Mapper(
    Carer,
    "RelatedPerson",
    _carer_out,
    _carer_in,
    frozenset({"occurred_at", "name", "relationship"}),
    subject="patient",
    error_in="extension",
)


def _concern_out(row: Row, res: Res) -> None:
    res["status"] = "completed"
    res["category"] = [local("family-concern", "Concern raised by family or a carer")]
    res["medium"] = [concept(CHANNEL_SYSTEM, row["channel"])]
    res["sent"] = instant(row["occurred_at"])
    sender = ref("RelatedPerson", row["carer_fact_id"]) or {}
    res["sender"] = sender | {"display": row["raised_by"]}
    res["payload"] = [{"contentString": row["text"]}]


def _concern_in(r: Reader) -> Row:
    sender = r.get("sender") or {}
    carer = r.ref("sender", "RelatedPerson") if isinstance(sender, dict) and sender.get("reference") else None
    channel = r.coded("medium", CHANNEL_SYSTEM)
    if channel is None:
        r.problem(
            "medium", f"say how the concern came in ({CHANNEL_SYSTEM}: phone, email, in_person, letter)", "required"
        )
    return {
        "occurred_at": r.moment("sent", required=True),
        "raised_by": sender.get("display") if isinstance(sender, dict) else None,
        "carer_fact_id": carer,
        "channel": r.choice("channel", "medium", channel, Channel),
        "text": r.text("payload.contentString", required=True),
    }


CONCERN = Mapper(
    FamilyConcern,
    "Communication",
    _concern_out,
    _concern_in,
    frozenset({"occurred_at", "raised_by", "carer_fact_id", "channel", "text"}),
    matches=lambda res: _category(res) in (None, "family-concern") and not res.get("inResponseTo"),
)


def _response_out(row: Row, res: Res) -> None:
    res["status"] = "completed"
    res["category"] = [local("family-concern-response", "The team's response to a family concern")]
    res["sent"] = instant(row["occurred_at"])
    res["inResponseTo"] = [ref("Communication", row["concern_fact_id"])]
    res["payload"] = [{"contentString": row["text"]}]


def _response_in(r: Reader) -> Row:
    return {
        "occurred_at": r.moment("sent", required=True),
        "concern_fact_id": r.ref("inResponseTo", "Communication", required=True),
        "text": r.text("payload.contentString", required=True),
    }


RESPONSE = Mapper(
    FamilyConcernResponse,
    "Communication",
    _response_out,
    _response_in,
    frozenset({"occurred_at", "concern_fact_id", "text"}),
    matches=lambda res: _category(res) in (None, "family-concern-response") and bool(res.get("inResponseTo")),
)


def _partner_out(row: Row, res: Res) -> None:
    res["status"] = "completed"
    res["category"] = [
        local("partner-information", "Information from a partner agency"),
        concept(KIND_SYSTEM, row["kind"]),
    ]
    res["sent"] = instant(row["occurred_at"])
    res["sender"] = {"display": row["agency"], "identifier": {"system": AGENCY_SYSTEM, "value": row["agency"]}}
    res["payload"] = [{"contentString": row["detail"]}]


def _partner_in(r: Reader) -> Row:
    agency = r.get("sender.identifier.value")
    kind = None
    for item in r.res.get("category") or []:
        for coding in (item or {}).get("coding") or []:
            if coding.get("system") == KIND_SYSTEM:
                kind = coding.get("code")
    return {
        "occurred_at": r.moment("sent", required=True),
        "agency": r.choice("agency", "sender.identifier.value", agency, Agency),
        "kind": kind or "other",
        "detail": r.text("payload.contentString", required=True),
    }


PARTNER = Mapper(
    PartnerInformation,
    "Communication",
    _partner_out,
    _partner_in,
    frozenset({"occurred_at", "agency", "kind", "detail"}),
    matches=lambda res: _category(res) == "partner-information",
)

MAPPERS = (CARER, CONCERN, RESPONSE, PARTNER)
