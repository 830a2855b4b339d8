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

from safetynet.oversight import charts, national, published
from safetynet.oversight.funnel import Funnel
from safetynet.oversight.funnel_report import disclosed
from safetynet.oversight.indicators import Unit, catalogue
from safetynet.web import deps
from safetynet.web.auth import SignedIn, requires
from safetynet.web.templating import csv_download, render

router = APIRouter(include_in_schema=False)
PeriodQuery = Annotated[str | None, Query(max_length=7, description="A loaded period, YYYY-MM.")]
IndicatorQuery = Annotated[str | None, Query(max_length=20, description="A proportion indicator's id.")]


PROVIDERS = {"unit_name": "provider", "units_name": "providers"}  # what a funnel's points are, in words


def _drawn(shown: Funnel, report: dict[str, Any], title: str, x_label: str) -> dict[str, Any]:
    """What ``national/_funnel.html`` draws: the figures, the chart and its description in words."""
    return {
        "report": report,
        "title": title,
        "svg": charts.funnel_svg(shown, title=title, x_label=x_label, id_prefix="funnel-chart"),
        "description": charts.funnel_description(shown, title),
    }


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
        **PROVIDERS,
        "published": _published_periods(db),
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
            context.update(_drawn(shown, report, title, "denominator"))
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
    return _csv(report, {"indicator": indicator, "period": period}, f"{indicator}-{period}-providers.csv")


def _csv(report: dict[str, Any], leading: dict[str, str], filename: str) -> Response:
    """A funnel's shown units as CSV (already under disclosure control), after columns saying what they are of."""
    buffer = io.StringIO()
    columns = ["code", "name", "numerator", "denominator", "percent", "lower_998", "lower_95", "upper_95"]
    writer = csv.DictWriter(buffer, fieldnames=[*leading, *columns, "upper_998", "position"], extrasaction="ignore")
    writer.writeheader()
    for unit in report["units"]:
        writer.writerow({**leading, **unit})
    return csv_download(buffer.getvalue(), filename)


# --- NHS England's published MHSDS figures (``safetynet national import-published``) ---------------------------------


def _published_periods(db: Path) -> list[str]:
    try:
        return published.periods(db)
    except published.PublishedError:
        return []


@lru_cache(maxsize=64)
def _published_funnel(db: str, loaded_at: float, measure: str, period: str) -> dict[str, Any]:
    return published.funnel_report(published.proportion(Path(db), measure, period))


@router.get("/national/published")
def published_page(
    request: Request,
    user: Annotated[SignedIn, requires("national.read")],
    period: PeriodQuery = None,
    measure: Annotated[str | None, Query(max_length=20, description="A published proportion, e.g. MRS01b.")] = None,
) -> Response:
    """NHS England's published figures for a proportion measure, as a funnel of providers for one period."""
    db = _database(request)
    periods = _published_periods(db)
    measure = measure or next(iter(published.PROPORTIONS))
    period = period or (periods[-1] if periods else None)
    context: dict[str, Any] = {
        "periods": sorted(periods, reverse=True),
        "measures": list(published.PROPORTIONS),
        "measure": measure,
        "period": period,
        **PROVIDERS,
    }
    status = 200
    if period is not None:
        try:
            report = _published_funnel(str(db), db.stat().st_mtime, measure, period)
        except (published.PublishedError, ValueError) as exc:
            context["reason"], status = str(exc), 404
        else:
            title = (
                f"{measure} by provider, {report['period_start']} to {report['period_end']} (NHS England, published)"
            )
            context.update(_drawn(report["_shown"], report, title, report["denominator"]))
    return render(request, "national/published.html", context, status)


@router.get("/national/published.csv")
def published_download(
    request: Request,
    user: Annotated[SignedIn, requires("national.read")],
    period: Annotated[str, Query(max_length=7)],
    measure: Annotated[str, Query(max_length=20)],
) -> Response:
    db = _database(request)
    try:
        report = _published_funnel(str(db), db.stat().st_mtime if db.exists() else 0.0, measure, period)
    except (published.PublishedError, ValueError) as exc:
        return render(request, "not_found.html", {"message": str(exc)}, 404)
    return _csv(report, {"measure": measure, "period": period}, f"{measure}-{period}-providers-published.csv")
