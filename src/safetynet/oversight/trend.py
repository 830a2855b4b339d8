"""A trust indicator month by month, as a Making Data Count SPC chart: the same indicator definitions the national
tier runs (``oversight.indicators``), on the trust's own database through ``oversight.trustviews``.

Each month's value is the indicator over the whole trust (or one team): numerators and denominators summed across
teams first, so a month with few people counts for what it is, then the indicator's value. The record is read as
known now: later corrections and late entries count in the month they are about. Months without a value (no
denominator) are left out and named, never drawn as zero.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from safetynet.oversight import schema, spc
from safetynet.oversight.indicators import Direction, Indicator, Unit, catalogue, run, with_values

IMPROVEMENT = {Direction.UP: spc.Direction.INCREASE, Direction.DOWN: spc.Direction.DECREASE}


class TrendError(ValueError):
    """A request the trend cannot answer: an unknown indicator or team, or a bad range of months."""


@dataclass(frozen=True)
class Trend:
    indicator: Indicator
    team: str | None
    months: list[str]  # those with a value, in order
    numerators: list[int]
    denominators: list[int | None]
    values: list[float]
    without_value: list[str]  # months with no denominator
    chart: spc.SpcResult
    team_name: str | None = None  # how people know the team, where the caller knows it

    @property
    def suffix(self) -> str:
        """How a value is written after its number in words: 12.5%, 3.1 days."""
        return {Unit.PERCENT: "%", Unit.MEAN_DAYS: " days", Unit.RATE: " per clinician"}.get(self.indicator.unit, "")

    @property
    def title(self) -> str:
        where = f"team {self.team_name or self.team}" if self.team else "the whole trust"
        return f"{self.indicator.id} {self.indicator.title}: {where}, {self.months[0]} to {self.months[-1]}"


def month(text: str) -> date:
    """The first day of a ``YYYY-MM`` month."""
    try:
        return date.fromisoformat(f"{text}-01")
    except ValueError:
        raise TrendError(f"{text!r} is not a month: use YYYY-MM") from None


def months_between(first: date, last: date) -> list[str]:
    """Every month from ``first`` to ``last`` as ``YYYY-MM``."""
    labels, current = [], date(first.year, first.month, 1)
    while current <= last:
        labels.append(f"{current:%Y-%m}")
        current = date(current.year + current.month // 12, current.month % 12 + 1, 1)
    return labels


def monthly(url: str, indicator_id: str, first: str, last: str, *, team: str | None = None) -> Trend:
    """The indicator for each month from ``first`` to ``last`` (``YYYY-MM``) on the trust database at ``url``."""
    from safetynet.oversight import trustviews

    indicator = _indicator(indicator_id)
    start, end = month(first), month(last)
    if end < start:
        raise TrendError(f"{last} is before {first}")
    con, views = trustviews.views(url, None, start, schema.month_end(end))
    rows = with_values(run(views.materialise(), con, only=[indicator_id]))
    return from_rows(indicator, rows, months_between(start, end), team=team)


def _indicator(indicator_id: str) -> Indicator:
    indicators = catalogue()
    if indicator_id not in indicators:
        raise TrendError(f"No indicator {indicator_id!r}: choose one of {', '.join(sorted(indicators))}")
    return indicators[indicator_id]


def from_rows(
    indicator: Indicator,
    rows: Iterable[Mapping[str, Any]],
    labels: list[str],
    *,
    team: str | None = None,
    team_name: str | None = None,
) -> Trend:
    """The trend of ``indicator`` over the months ``labels`` from result rows (``indicator.run``'s, or stored
    figures): each with team, month, numerator and denominator; rows of other indicators are ignored."""
    rows = [r for r in rows if r["indicator"] == indicator.id]
    if team is not None and team not in {r["team"] for r in rows}:
        raise TrendError(f"No team {team!r} has figures for {indicator.id} in these months")
    totals: dict[str, list[int | None]] = defaultdict(lambda: [0, None])
    for row in rows:
        if team is not None and row["team"] != team:
            continue
        total = totals[row["month"]]
        total[0] = (total[0] or 0) + row["numerator"]
        if row["denominator"] is not None:
            total[1] = (total[1] or 0) + row["denominator"]
    months, numerators, denominators, values, without = [], [], [], [], []
    for label in labels:
        numerator, denominator = totals.get(label, [0, None])  # no rows: a count of 0; a rate without a value
        value = indicator.value(int(numerator or 0), denominator)
        if value is None:
            without.append(label)
        else:
            months.append(label)
            numerators.append(int(numerator or 0))
            denominators.append(denominator)
            values.append(value)
    if len(values) < 2:
        raise TrendError(f"{indicator.id} has a value in fewer than two of these months: an SPC chart needs more")
    options = spc.SpcOptions(improvement=IMPROVEMENT.get(indicator.direction, spc.Direction.NEUTRAL))
    chart = spc.xmr(values, months, options)
    return Trend(indicator, team, months, numerators, denominators, values, without, chart, team_name)
