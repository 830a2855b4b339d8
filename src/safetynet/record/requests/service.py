"""Cross-team requests: each is owed an explicit answer with a rationale (R9)."""

from __future__ import annotations

from datetime import datetime

from safetynet.core.context import Context
from safetynet.core.errors import Problem, ValidationFailed
from safetynet.core.facts import known_at
from safetynet.record import writes
from safetynet.record.common import record
from safetynet.record.org.models import Team
from safetynet.record.requests.models import CrossTeamRequest, CrossTeamResponse
from safetynet.record.requests.schemas import CrossTeamRequestIn, CrossTeamResponseIn


def make_request(ctx: Context, patient_id: str, data: CrossTeamRequestIn) -> CrossTeamRequest:
    problems = [
        Problem(field, f"no team with id {team_id}")
        for field, team_id in (("team_id", data.team_id), ("to_team_id", data.to_team_id))
        if ctx.session.get(Team, team_id) is None
    ]
    if data.team_id == data.to_team_id:
        problems.append(Problem("to_team_id", "a team cannot send a request to itself"))
    if problems:
        raise ValidationFailed(problems)
    return record(ctx, CrossTeamRequest, patient_id, data)


def respond(ctx: Context, patient_id: str, data: CrossTeamResponseIn) -> CrossTeamResponse:
    request = writes.latest(ctx, CrossTeamRequest, data.request_fact_id)
    if request.patient_id != patient_id:
        raise ValidationFailed([Problem("request_fact_id", "that request is about someone else")])
    return record(ctx, CrossTeamResponse, patient_id, data.model_copy(update={"team_id": request.to_team_id}))


def requests(ctx: Context, patient_id: str, at: datetime | None = None) -> list[CrossTeamRequest]:
    stmt = known_at(CrossTeamRequest, at).where(
        CrossTeamRequest.patient_id == patient_id, CrossTeamRequest.entered_in_error.is_(False)
    )
    return list(ctx.session.scalars(stmt.order_by(CrossTeamRequest.occurred_at, CrossTeamRequest.id)))


def responses(ctx: Context, patient_id: str, at: datetime | None = None) -> list[CrossTeamResponse]:
    stmt = known_at(CrossTeamResponse, at).where(
        CrossTeamResponse.patient_id == patient_id, CrossTeamResponse.entered_in_error.is_(False)
    )
    return list(ctx.session.scalars(stmt.order_by(CrossTeamResponse.occurred_at)))


def unanswered(ctx: Context, patient_id: str, at: datetime | None = None) -> list[CrossTeamRequest]:
    answered = {r.request_fact_id for r in responses(ctx, patient_id, at)}
    return [r for r in requests(ctx, patient_id, at) if r.fact_id not in answered]
