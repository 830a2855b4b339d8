"""Cross-team requests (ServiceRequest from one team to another) and their answers (Task on the request)."""

from __future__ import annotations

from safetynet.interop.fhir import codes
from safetynet.interop.fhir.mapping.base import Mapper, Reader, Res, Row, concept, instant, local, ref, team_ref
from safetynet.record.requests.models import Answer, Ask, CrossTeamRequest, CrossTeamResponse

ASK_SYSTEM = f"{codes.BASE}/CodeSystem/cross-team-ask"
ANSWER_STATUS = {"accepted": "accepted", "declined": "rejected", "other": "completed"}
STATUS_ANSWER = {v: k for k, v in ANSWER_STATUS.items()}


def _request_out(row: Row, res: Res) -> None:
    res["status"] = "active"
    res["intent"] = "order"
    res["category"] = [local("cross-team-request", "A request from one team to another")]
    res["code"] = concept(ASK_SYSTEM, row["ask"], text=row["detail"])
    res["authoredOn"] = instant(row["occurred_at"])
    res["requester"] = team_ref(row)
    res["performer"] = [ref("Organization", row["to_team_id"])]


def _request_in(r: Reader) -> Row:
    return {
        "occurred_at": r.moment("authoredOn", required=True),
        "team_id": r.ref("requester", "Organization", required=True),
        "to_team_id": r.ref("performer", "Organization", required=True),
        "ask": r.choice("ask", "code", r.coded("code", ASK_SYSTEM) or "other", Ask),
        "detail": r.text("code.text"),
    }


def _is_request(res: Res) -> bool:
    return str((res.get("requester") or {}).get("reference", "")).startswith("Organization/")


CROSS_TEAM_REQUEST = Mapper(
    CrossTeamRequest,
    "ServiceRequest",
    _request_out,
    _request_in,
    frozenset({"occurred_at", "team_id", "to_team_id", "ask", "detail"}),
    matches=_is_request,
)


def _response_out(row: Row, res: Res) -> None:
    res["status"] = ANSWER_STATUS.get(row["answer"], "completed")
    res["intent"] = "order"
    res["code"] = local("cross-team-response", "Answer to a cross-team request")
    res["basedOn"] = [ref("ServiceRequest", row["request_fact_id"])]
    res["focus"] = ref("ServiceRequest", row["request_fact_id"])
    res["authoredOn"] = instant(row["occurred_at"])
    res["owner"] = team_ref(row)
    res["statusReason"] = {"text": row["rationale"]}


def _response_in(r: Reader) -> Row:
    answer = STATUS_ANSWER.get(str(r.get("status")))
    if answer is None:
        r.problem("status", "an answer is accepted, rejected (declined) or completed (other)")
    return {
        "occurred_at": r.moment("authoredOn", required=True),
        "request_fact_id": r.ref("focus", "ServiceRequest") or r.ref("basedOn", "ServiceRequest", required=True),
        "answer": r.choice("answer", "status", answer, Answer),
        "rationale": r.text("statusReason.text", required=True),
        "team_id": r.ref("owner", "Organization"),
    }


def _is_response(res: Res) -> bool:
    based_on = res.get("basedOn") or [res.get("focus") or {}]
    return any(str((b or {}).get("reference", "")).startswith("ServiceRequest/") for b in based_on)


CROSS_TEAM_RESPONSE = Mapper(
    CrossTeamResponse,
    "Task",
    _response_out,
    _response_in,
    frozenset({"occurred_at", "request_fact_id", "answer", "rationale", "team_id"}),
    subject="for",
    status_columns=frozenset({"answer"}),
    matches=_is_response,
)

MAPPERS = (CROSS_TEAM_REQUEST, CROSS_TEAM_RESPONSE)
