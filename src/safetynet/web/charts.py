"""Pictures for pages, drawn as inline SVG on the server (no JavaScript), each with the same facts as a table.

``depot_chart``: for each depot prescription, when each dose was due and when it was given or refused."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from html import escape

from safetynet.core.clock import LONDON
from safetynet.record.medication.models import DepotAdministration, DepotOutcome, Prescription, Route

WIDTH = 720
LEFT = 150
RIGHT = 20
ROW = 44
TOP = 30


@dataclass(frozen=True, slots=True)
class DepotRow:
    """One line of the table: a dose due, given or refused (and how late, for a dose given after it was due)."""

    day: date
    drug: str
    what: str  # due | given | refused | next due | overdue
    note: str = ""


@dataclass
class DepotChart:
    rows: list[DepotRow] = field(default_factory=list)
    svg: str = ""
    start: date | None = None
    end: date | None = None


def _day(moment: datetime) -> date:
    return moment.astimezone(LONDON).date()


def depot_chart(
    prescriptions: Sequence[Prescription],
    doses: Sequence[DepotAdministration],
    now: datetime,
    window_days: int = 365,
) -> DepotChart:
    """Due vs given for every depot prescription, over the last ``window_days`` up to the next dose due."""
    today = _day(now)
    start = today - timedelta(days=window_days)
    depots = [p for p in prescriptions if p.route == Route.DEPOT and p.interval_days and not p.entered_in_error]
    chart = DepotChart()
    lanes: list[tuple[str, list[DepotRow]]] = []
    for p in depots:
        interval = timedelta(days=p.interval_days or 0)
        stopped = _day(p.stopped_at) if p.stopped_at else None
        mine = sorted(
            (d for d in doses if d.prescription_fact_id == p.fact_id and not d.entered_in_error),
            key=lambda d: d.occurred_at,
        )
        rows: list[DepotRow] = []
        due = _day(p.occurred_at) + interval
        for dose in mine:
            given_on = _day(dose.occurred_at)
            if dose.outcome == DepotOutcome.GIVEN:
                late = (given_on - due).days
                rows.append(DepotRow(due, p.drug, "due"))
                rows.append(DepotRow(given_on, p.drug, "given", f"{late} days late" if late > 0 else "on time"))
                due = given_on + interval
            else:
                rows.append(DepotRow(given_on, p.drug, "refused", dose.note or ""))
        if stopped is None:
            rows.append(DepotRow(due, p.drug, "overdue" if due < today else "next due"))
        rows = [r for r in rows if r.day >= start]
        chart.rows.extend(rows)
        lanes.append((p.drug, rows))
    chart.rows.sort(key=lambda r: (r.day, r.drug))
    if not chart.rows:
        return chart
    chart.start = min(r.day for r in chart.rows) - timedelta(days=14)
    chart.end = max(today, max(r.day for r in chart.rows)) + timedelta(days=7)
    chart.svg = _svg(lanes, chart.start, chart.end, today)
    return chart


def _svg(lanes: list[tuple[str, list[DepotRow]]], start: date, end: date, today: date) -> str:
    span = max((end - start).days, 1)
    height = TOP + ROW * len(lanes) + 30

    def x(day: date) -> float:
        return round(LEFT + (WIDTH - LEFT - RIGHT) * (day - start).days / span, 1)

    parts = [
        f'<svg class="sn-chart" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" role="img" '
        'aria-labelledby="depot-chart-title depot-chart-desc" xmlns="http://www.w3.org/2000/svg">',
        '<title id="depot-chart-title">Depot injections: due and given</title>',
        '<desc id="depot-chart-desc">Hollow circles are doses due, green dots doses given, red crosses refusals; '
        "the table that follows lists the same.</desc>",
    ]
    month = date(start.year, start.month, 1)
    while month <= end:
        if month >= start:
            parts.append(
                f'<line x1="{x(month)}" y1="{TOP - 10}" x2="{x(month)}" y2="{height - 25}" stroke="#d8dde0"/>'
                f'<text x="{x(month)}" y="{height - 8}" font-size="11" fill="#4c6272" text-anchor="middle">'
                f"{month.strftime('%b %y')}</text>"
            )
        month = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    parts.append(
        f'<line x1="{x(today)}" y1="{TOP - 15}" x2="{x(today)}" y2="{height - 25}" stroke="#212b32" '
        'stroke-dasharray="4 3"/>'
        f'<text x="{x(today)}" y="{TOP - 18}" font-size="11" fill="#212b32" text-anchor="middle">today</text>'
    )
    for index, (drug, rows) in enumerate(lanes):
        y = TOP + ROW * index + ROW / 2
        parts.append(f'<text x="8" y="{y + 4}" font-size="13" fill="#212b32">{escape(drug[:20])}</text>')
        parts.append(f'<line x1="{LEFT}" y1="{y}" x2="{WIDTH - RIGHT}" y2="{y}" stroke="#aeb7bd"/>')
        for row in rows:
            cx = x(row.day)
            if row.what in ("due", "next due"):
                parts.append(f'<circle cx="{cx}" cy="{y}" r="7" fill="#ffffff" stroke="#005eb8" stroke-width="2"/>')
            elif row.what == "overdue":
                parts.append(f'<circle cx="{cx}" cy="{y}" r="8" fill="#ffffff" stroke="#d5281b" stroke-width="3"/>')
            elif row.what == "given":
                parts.append(f'<circle cx="{cx}" cy="{y}" r="5" fill="#007f3b"/>')
            else:
                parts.append(
                    f'<path d="M{cx - 6} {y - 6} L{cx + 6} {y + 6} M{cx - 6} {y + 6} L{cx + 6} {y - 6}" '
                    'stroke="#d5281b" stroke-width="3"/>'
                )
    parts.append("</svg>")
    return "".join(parts)


def caseload_bars(workers: Sequence[tuple[str, int]], chart_id: str = "caseload-chart") -> str:
    """People per key worker as horizontal bars (the team board), most first; the page follows it with the table."""
    if not workers:
        return ""
    bar_row, left, label_room = 26, 190, 40
    height = TOP + bar_row * len(workers) + 10
    most = max(1, max(n for _, n in workers))
    scale = (WIDTH - left - RIGHT - label_room) / most
    parts = [
        f'<svg class="sn-chart" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-title">Caseload per key worker</title>',
        f'<desc id="{chart_id}-desc">One bar per key worker, as long as the number of people they are key worker '
        "for on this team; the table that follows lists the same.</desc>",
        f'<text x="{left}" y="{TOP - 12}" font-size="11" fill="#4c6272">people</text>',
    ]
    for index, (name, count) in enumerate(workers):
        y = TOP + bar_row * index
        width = round(count * scale, 1)
        parts.append(
            f'<text x="8" y="{y + 15}" font-size="13" fill="#212b32">{escape(name[:26])}</text>'
            f'<rect x="{left}" y="{y + 3}" width="{width}" height="16" fill="#005eb8"/>'
            f'<text x="{left + width + 6}" y="{y + 15}" font-size="12" fill="#212b32">{count}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
