"""The team board (``/teams/{team_id}/board``) for the daily huddle, and confirming a person's zone from it.

``/board`` opens the signed-in user's own team's board. The zoning board shows the safety net's suggested zone with
its reasons beside the zone a clinician confirmed (R18: it suggests, never decides); confirming is a form on its own
page (works without JavaScript), recorded with the suggestion beside it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select

from safetynet.core.errors import ValidationFailed
from safetynet.record.org.models import Team
from safetynet.record.zoning.models import Zone
from safetynet.tasks import team_board
from safetynet.web import deps
from safetynet.web.auth import SignedIn, requires
from safetynet.web.charts import caseload_bars
from safetynet.web.templating import render

router = APIRouter(include_in_schema=False)
PURPOSE = "direct care: team huddle"
ZONES = [(Zone.RED, "Red: needs action today"), (Zone.AMBER, "Amber: closer watch this week"), (Zone.GREEN, "Green")]


@router.get("/board")
def my_board(request: Request, user: Annotated[SignedIn, requires("board.read")]) -> Response:
    """The signed-in user's team's board; someone on no team chooses one."""
    if user.team_id:
        return RedirectResponse(f"/teams/{user.team_id}/board", status_code=303)
    with deps.unit_of_work(request, user.actor(PURPOSE)) as ctx:
        teams = list(ctx.session.execute(select(Team.id, Team.name).where(Team.active.is_(True)).order_by(Team.name)))
    return render(request, "board_teams.html", {"teams": teams})


@router.get("/teams/{team_id}/board")
def board(
    team_id: str, request: Request, user: Annotated[SignedIn, requires("board.read")], zones: str = ""
) -> Response:
    """The whole board. Green people whose zone nobody set are counted, and listed with ``?zones=all``."""
    with deps.unit_of_work(request, user.actor(PURPOSE)) as ctx:
        made = team_board.board(ctx, team_id)
    show_all = zones == "all"
    rows = [r for r in made.zoning if show_all or r.rank < 2 or (r.confirmed and not r.agrees)]
    workers = [(w.name, w.people) for w in made.caseloads]
    return render(
        request,
        "board.html",
        {
            "board": made,
            "zone_rows": rows,
            "hidden_green": len(made.zoning) - len(rows),
            "show_all": show_all,
            "counts": made.zone_counts(),
            "chart": caseload_bars(workers),
            "next": f"/teams/{team_id}/board",
        },
    )


@router.get("/teams/{team_id}/board/zones/{nhs_number}")
def zone_form(
    team_id: str, nhs_number: str, request: Request, user: Annotated[SignedIn, requires("board.read")]
) -> Response:
    with deps.unit_of_work(request, user.actor(PURPOSE)) as ctx:
        team = team_board.get_team(ctx, team_id)
        row = team_board.zone_row(ctx, team_id, nhs_number)
    return render(request, "board_zone.html", _zone_values(team, row, {}, {}))


@router.post("/teams/{team_id}/board/zones/{nhs_number}")
def confirm_zone(
    team_id: str,
    nhs_number: str,
    request: Request,
    user: Annotated[SignedIn, requires("person.record")],
    zone: Annotated[str, Form()] = "",
    rationale: Annotated[str, Form()] = "",
) -> Response:
    """Record the zone a clinician chose, and why; back to the board at the person's row."""
    errors: dict[str, str] = {}
    if zone not in {z.value for z in Zone}:
        errors["zone"] = "Choose the zone: red, amber or green"
    if len(rationale.strip()) < 3:
        errors["rationale"] = "Enter why: what the team discussed and agreed"
    elif len(rationale) > 5000:
        errors["rationale"] = "The reason must be 5,000 characters or fewer"
    if not errors:
        try:
            with deps.unit_of_work(request, user.actor(PURPOSE)) as ctx:
                team_board.confirm_zone(ctx, team_id, nhs_number, Zone(zone), rationale.strip())
        except ValidationError as exc:
            errors["rationale"] = "; ".join(e["msg"] for e in exc.errors())
        except ValidationFailed as exc:
            errors["rationale"] = "; ".join(p.message for p in exc.problems)
    if not errors:
        return RedirectResponse(f"/teams/{team_id}/board?zones=all#zone-{nhs_number}", status_code=303)
    with deps.unit_of_work(request, user.actor(PURPOSE)) as ctx:
        team = team_board.get_team(ctx, team_id)
        row = team_board.zone_row(ctx, team_id, nhs_number)
    return render(
        request,
        "board_zone.html",
        _zone_values(team, row, errors, {"zone": zone, "rationale": rationale}),
        status=422,
    )


def _zone_values(
    team: Team, row: team_board.ZoneRow, errors: dict[str, str], form: dict[str, str]
) -> dict[str, object]:
    return {
        "team": team,
        "row": row,
        "errors": errors,
        "form": form or {"zone": "", "rationale": ""},
        "zones": ZONES,
        "next": f"/teams/{team.id}/board",
    }
