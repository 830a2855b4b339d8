"""The trust's indicator figures: computed into the database by a refresh, read back by the dashboards.

``refresh`` runs the whole catalogue (``oversight.indicators``) over the trust's database for the last complete
months, through the same definitions the national tier runs, and keeps the result as one ``IndicatorRun``. The
dashboards read the latest run: ``overview`` (every indicator's SPC verdict) and ``trend`` (one indicator, the
trust's or one team's). A month is only counted once it is over, so a half-month never looks like a fall.
"""

from __future__ import annotations

import csv
import io
import time
from dataclasses import dataclass
from datetime import date

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from safetynet.core.clock import LONDON
from safetynet.core.context import Context
from safetynet.oversight import charts, schema, spc
from safetynet.oversight.indicators import Indicator, catalogue, run
from safetynet.oversight.models import IndicatorFigure, IndicatorRun
from safetynet.oversight.trend import Trend, TrendError, from_rows, month, months_between
from safetynet.record.org.models import Team

MONTHS = 24  # two years of months: enough for a baseline of 12 and a year to judge against it


def complete_months(today: date, months: int = MONTHS) -> tuple[date, date]:
    """The first days of the first and last of the ``months`` complete months before ``today``'s month."""
    if months < 2:
        raise ValueError("an SPC chart needs at least two months")
    index = today.year * 12 + today.month - 1 - 1  # the month before this one, counted from year 0
    first = index - (months - 1)
    return date(first // 12, first % 12 + 1, 1), date(index // 12, index % 12 + 1, 1)


def refresh(ctx: Context, url: str, months: int = MONTHS) -> IndicatorRun:
    """Compute every indicator for every team and each of the last ``months`` complete months on the trust
    database at ``url`` (the one ``ctx.session`` writes to), as the record is known now, and keep it as a run."""
    import pandas as pd

    from safetynet.oversight import trustviews

    started = time.perf_counter()
    first, last = complete_months(ctx.clock.now().astimezone(LONDON).date(), months)
    con, views = trustviews.views(url, None, first, schema.month_end(last))
    frame = run(views.materialise(), con)
    rows = [
        {
            "indicator": str(r["indicator"]),
            "team_id": str(r["team"]),
            "month": str(r["month"]),
            "numerator": int(r["numerator"]),
            "denominator": None if pd.isna(r["denominator"]) else int(r["denominator"]),
        }
        for r in frame.to_dict("records")
    ]
    computed = IndicatorRun(
        id=ctx.ids.new_id(),
        computed_at=ctx.clock.now(),
        computed_by=ctx.actor.name,
        first_month=f"{first:%Y-%m}",
        last_month=f"{last:%Y-%m}",
        figures=len(rows),
        seconds=round(time.perf_counter() - started, 3),
    )
    ctx.session.add(computed)
    ctx.session.flush()
    if rows:
        ctx.session.execute(insert(IndicatorFigure), [{"run_id": computed.id, **row} for row in rows])
    return computed


def latest(session: Session) -> IndicatorRun | None:
    """The most recent run, or None before the first."""
    return session.scalars(
        select(IndicatorRun).order_by(IndicatorRun.computed_at.desc(), IndicatorRun.id.desc()).limit(1)
    ).first()


@dataclass(frozen=True)
class Figures:
    """A run's figures, ready to draw: its rows (as ``indicator.run`` gives them) and the teams they are about."""

    run: IndicatorRun
    rows: list[dict[str, object]]
    teams: dict[str, str]  # team id -> name, for the teams with figures

    @property
    def months(self) -> list[str]:
        return months_between(month(self.run.first_month), month(self.run.last_month))

    def team(self, team_id: str | None) -> str | None:
        """A team id the figures know, or None for the whole trust; anything else is refused."""
        if team_id in (None, ""):
            return None
        if team_id not in self.teams:
            raise TrendError(f"No team {team_id!r} has figures in this run")
        return team_id


def figures(session: Session, computed: IndicatorRun) -> Figures:
    stored = session.execute(
        select(
            IndicatorFigure.indicator,
            IndicatorFigure.team_id,
            IndicatorFigure.month,
            IndicatorFigure.numerator,
            IndicatorFigure.denominator,
        ).where(IndicatorFigure.run_id == computed.id)
    ).all()
    rows: list[dict[str, object]] = [
        {"indicator": i, "team": t, "month": m, "numerator": n, "denominator": d} for i, t, m, n, d in stored
    ]
    ids = {str(r["team"]) for r in rows}
    names = dict(session.execute(select(Team.id, Team.name).where(Team.id.in_(ids))).tuples().all()) if ids else {}
    teams = {team_id: names.get(team_id, team_id) for team_id in sorted(ids, key=lambda t: names.get(t, t))}
    return Figures(computed, rows, teams)


def trend(data: Figures, indicator_id: str, team_id: str | None = None) -> Trend:
    """One indicator month by month from a run's figures: the whole trust's, or one team's."""
    indicators = catalogue()
    if indicator_id not in indicators:
        raise TrendError(f"No indicator {indicator_id!r}")
    team = data.team(team_id)
    return from_rows(indicators[indicator_id], data.rows, data.months, team=team, team_name=data.teams.get(team or ""))


@dataclass(frozen=True)
class Line:
    """One indicator on the overview: its trend, or why there is none."""

    indicator: Indicator
    trend: Trend | None
    reason: str | None

    @property
    def latest(self) -> str:
        if self.trend is None:
            return ""
        return f"{charts.number(self.trend.values[-1])}{self.trend.suffix}"

    @property
    def variation(self) -> str:
        return "" if self.trend is None else spc.VARIATION_TEXT[self.trend.chart.variation]


def overview(data: Figures, team_id: str | None = None) -> list[Line]:
    """Every indicator in the catalogue with its SPC verdict over the run's months."""
    team = data.team(team_id)
    lines = []
    for indicator in catalogue().values():
        try:
            lines.append(Line(indicator, trend(data, indicator.id, team), None))
        except TrendError as exc:
            lines.append(Line(indicator, None, str(exc)))
    return lines


def csv_text(found: Trend) -> str:
    """The trend as CSV (plain numbers, for a spreadsheet): each month's numerator, denominator and value with the
    SPC mean, process limits and what the point shows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        [
            "indicator",
            "team",
            "month",
            "numerator",
            "denominator",
            "value",
            "mean",
            "lower_limit",
            "upper_limit",
            "variation",
            "rule",
        ]
    )
    where = found.team_name or found.team or "whole trust"
    for point, numerator, denominator in zip(found.chart.points, found.numerators, found.denominators, strict=True):
        writer.writerow(
            [
                found.indicator.id,
                where,
                point.label,
                numerator,
                "" if denominator is None else denominator,
                *(round(v, 4) for v in (point.value, point.mean, point.lower_limit, point.upper_limit)),
                "common cause" if point.rule is None else charts.point_words(point),
                "" if point.rule is None else point.rule.value.replace("_", " "),
            ]
        )
    return buffer.getvalue()
