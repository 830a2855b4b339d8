"""The trust's indicators (``/trust/indicators``): every indicator's Making Data Count verdict over the last
complete months, one indicator's SPC chart with its table alternative, and its figures as CSV.

The pages read the latest stored run (``oversight.figures``); computing the catalogue over a large trust takes too
long for a request, so ``safetynet indicators refresh`` and the app's nightly scheduler compute it. Each page says
when the figures were computed. These are the trust's own management figures (``trust.read``), not publications:
the national tier's outputs are the ones under disclosure control.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from safetynet.oversight import charts, figures, spc
from safetynet.oversight.indicators import catalogue
from safetynet.oversight.trend import TrendError
from safetynet.web import deps
from safetynet.web.auth import SignedIn, requires
from safetynet.web.templating import csv_download, render

router = APIRouter(include_in_schema=False)
PURPOSE = "clinical governance: trust indicators"
TeamQuery = Annotated[str | None, Query(max_length=64, description="A team's id; none for the whole trust.")]


def _stored(request: Request, user: SignedIn) -> figures.Figures | None:
    with deps.unit_of_work(request, user.actor(PURPOSE)) as ctx:
        computed = figures.latest(ctx.session)
        return None if computed is None else figures.figures(ctx.session, computed)


def _not_found(request: Request, message: str) -> Response:
    return render(request, "not_found.html", {"message": message}, status=404)


@router.get("/trust/indicators")
def overview(request: Request, user: Annotated[SignedIn, requires("trust.read")], team: TeamQuery = None) -> Response:
    data = _stored(request, user)
    if data is None:
        return render(request, "indicators/overview.html", {"data": None})
    try:
        lines = figures.overview(data, team)
    except TrendError as exc:
        return _not_found(request, str(exc))
    return render(
        request,
        "indicators/overview.html",
        {"data": data, "lines": lines, "team": team or "", "team_name": data.teams.get(team or "")},
    )


@router.get("/trust/indicators/{indicator_id}.csv")
def download(
    request: Request, indicator_id: str, user: Annotated[SignedIn, requires("trust.read")], team: TeamQuery = None
) -> Response:
    data = _stored(request, user)
    if data is None:
        return _not_found(request, "The trust's indicators have not been computed yet.")
    try:
        found = figures.trend(data, indicator_id, team)
    except TrendError as exc:
        return _not_found(request, str(exc))
    name = f"{indicator_id}-{found.team_name or 'trust'}-{data.run.first_month}-{data.run.last_month}.csv"
    return csv_download(figures.csv_text(found), name)


@router.get("/trust/indicators/{indicator_id}")
def indicator(
    request: Request, indicator_id: str, user: Annotated[SignedIn, requires("trust.read")], team: TeamQuery = None
) -> Response:
    data = _stored(request, user)
    if data is None:
        return RedirectResponse("/trust/indicators", status_code=303)
    try:
        found = figures.trend(data, indicator_id, team)
    except TrendError as exc:
        if indicator_id not in catalogue():
            return _not_found(request, str(exc))
        return render(
            request,
            "indicators/indicator.html",
            {"data": data, "indicator": catalogue()[indicator_id], "reason": str(exc), "team": team or ""},
        )
    return render(
        request,
        "indicators/indicator.html",
        {
            "data": data,
            "indicator": found.indicator,
            "trend": found,
            "team": team or "",
            "svg": charts.spc_svg(found.chart, title=found.title, unit=found.suffix, id_prefix="spc-chart"),
            "description": charts.spc_description(found.chart, found.title, found.suffix),
            "table": charts.spc_table(found.chart, f"{found.title}: the chart's figures"),
            "variation": spc.VARIATION_TEXT[found.chart.variation],
        },
    )
