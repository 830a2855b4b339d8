"""The national dashboard (``/national``) for national analysts: which provider extracts are loaded, and a funnel
plot across providers of a proportion indicator for one period, with its table alternative and CSV.

Everything shown here is under disclosure control (``oversight.funnel_report``), because it is what a national
body publishes: providers with 1 to 7 in a count are in the funnel's limits but not shown or named, counts are
rounded to 5. The figures come from the national database (DuckDB) of pseudonymised extracts; a period's funnel
is computed once per loaded state of that database and kept in memory.
"""

from __future__ import annotations

import csv
import io
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from safetynet.oversight import charts, national
from safetynet.oversight.funnel import Funnel
from safetynet.oversight.funnel_report import disclosed
from safetynet.oversight.indicators import Unit, catalogue
from safetynet.web import deps
from safetynet.web.auth import SignedIn, requires
from safetynet.web.templating import render

router = APIRouter(include_in_schema=False)
PeriodQuery = Annotated[str | None, Query(max_length=7, description="A loaded period, YYYY-MM.")]
IndicatorQuery = Annotated[str | None, Query(max_length=20, description="A proportion indicator's id.")]


def _database(request: Request) -> Path:
    return national.database_path(deps.settings(request).national_database)


def proportions() -> dict[str, str]:
    """The indicators a funnel can show (a numerator out of a denominator): id -> title."""
    return {i.id: i.title for i in catalogue().values() if i.unit is Unit.PERCENT}


@lru_cache(maxsize=64)
def _funnel(db: str, loaded_at: float, period: str, indicator_id: str) -> tuple[Funnel, dict[str, Any]]:
    """One period's funnel; ``loaded_at`` (the database file's modification time) keys the cache, so an ingest
    shows at once."""
    return disclosed(national.provider_units(Path(db), period, indicator_id))


def _chosen(
    request: Request, period: str | None, indicator_id: str | None
) -> tuple[Path, list[tuple[str, str]], str | None, str]:
    db = _database(request)
    extracts = national.loaded(db)
    periods = sorted({p for _, p in extracts})
    return db, extracts, period or (periods[-1] if periods else None), indicator_id or next(iter(proportions()))


def _compute(db: Path, period: str, indicator_id: str) -> tuple[Funnel, dict[str, Any]]:
    if indicator_id not in proportions():
        raise national.NationalError(f"No proportion indicator {indicator_id!r}: a funnel needs one")
    return _funnel(str(db), db.stat().st_mtime, period, indicator_id)


@router.get("/national")
def dashboard(
    request: Request,
    user: Annotated[SignedIn, requires("national.read")],
    period: PeriodQuery = None,
    indicator: IndicatorQuery = None,
) -> Response:
    db, extracts, period, indicator_id = _chosen(request, period, indicator)
    context: dict[str, Any] = {
        "extracts": extracts,
        "periods": sorted({p for _, p in extracts}, reverse=True),
        "proportions": proportions(),
        "period": period,
        "indicator": indicator_id,
    }
    if period is not None:
        if period not in context["periods"]:
            return render(request, "not_found.html", {"message": f"No extracts are loaded for {period}."}, 404)
        try:
            shown, report = _compute(db, period, indicator_id)
        except (national.NationalError, ValueError) as exc:
            context["reason"] = str(exc)
        else:
            title = f"{indicator_id} {proportions()[indicator_id]} by provider, {period}"
            context.update(
                report=report,
                title=title,
                svg=charts.funnel_svg(shown, title=title, x_label="denominator", id_prefix="funnel-chart"),
                description=charts.funnel_description(shown, title),
            )
    status = 404 if indicator is not None and indicator not in proportions() else 200
    return render(request, "national/dashboard.html", context, status)


@router.get("/national/funnel.csv")
def download(
    request: Request,
    user: Annotated[SignedIn, requires("national.read")],
    period: Annotated[str, Query(max_length=7)],
    indicator: Annotated[str, Query(max_length=20)],
) -> Response:
    db, extracts, _, _ = _chosen(request, period, indicator)
    if period not in {p for _, p in extracts}:
        return render(request, "not_found.html", {"message": f"No extracts are loaded for {period}."}, 404)
    try:
        _, report = _compute(db, period, indicator)
    except (national.NationalError, ValueError) as exc:
        return render(request, "not_found.html", {"message": str(exc)}, 404)
    buffer = io.StringIO()
    columns = ["code", "numerator", "denominator", "percent", "lower_998", "lower_95", "upper_95", "upper_998"]
    writer = csv.DictWriter(buffer, fieldnames=["indicator", "period", *columns, "position"], extrasaction="ignore")
    writer.writeheader()
    for unit in report["units"]:
        writer.writerow({"indicator": indicator, "period": period, **unit})
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{indicator}-{period}-providers.csv"'},
    )
