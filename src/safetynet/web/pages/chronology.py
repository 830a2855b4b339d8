"""A person's chronology (``/people/{nhs_number}/chronology``): one timeline across every kind of fact, with the
safety net's findings and people's actions on its tasks overlaid, as known now or as known at a chosen past moment.

The page renders ``learning.chronology``, the same chronology the review pack prints: it never works out for itself
what was known when. Filters are a GET form (order, lanes, overlays, "as known at"), so the page works without
JavaScript and every view has its own address; HTMX only swaps the table in place."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from safetynet.core.clock import LONDON, parse_moment
from safetynet.core.context import Context
from safetynet.core.errors import NotFound, ValidationFailed
from safetynet.learning import chronology
from safetynet.learning.chronology import LANES, Chronology, Entry
from safetynet.record.patients import service as patients
from safetynet.web import deps
from safetynet.web.auth import SignedIn, requires
from safetynet.web.templating import render

router = APIRouter(prefix="/people", include_in_schema=False)

PURPOSE = "direct care: chronology"
OVERLAYS = {"findings": "Findings opening and closing", "tasks": "Actions on tasks"}
ORDERS = {"newest": "Newest first", "oldest": "Oldest first"}


@dataclass(frozen=True, slots=True)
class Line:
    """One row of the table: a fact, a finding opening or closing, or someone acting on a task."""

    happened: datetime
    known: datetime  # when the service learnt of it (a finding or a task action: the moment it happened)
    what: str  # fact | finding_opened | finding_closed | task
    kind: str  # the lane's name, or "Safety net finding" / "Task"
    text: str
    entry: Entry | None = None
    rule_id: str | None = None

    @property
    def days_late(self) -> int:
        return self.entry.days_late if self.entry is not None else 0


def lines(c: Chronology, lanes: set[str], overlays: set[str], newest_first: bool) -> list[Line]:
    """The chronology's merged stream, kept to the chosen lanes and overlays, in the chosen order."""
    made: list[Line] = []
    for row in c.rows():
        if row.what == "fact":
            assert row.entry is not None
            if row.entry.lane in lanes:
                made.append(Line(row.at, row.entry.recorded_at, "fact", row.entry.lane_name, row.line, row.entry))
        elif row.what == "task":
            if "tasks" in overlays:
                made.append(Line(row.at, row.at, "task", "Task", row.line, rule_id=_rule(row)))
        elif "findings" in overlays:
            made.append(Line(row.at, row.at, row.what, "Safety net finding", row.line, rule_id=_rule(row)))
    return list(reversed(made)) if newest_first else made


def _rule(row: chronology.Row) -> str | None:
    return row.period.rule_id if row.period is not None else None


def _moment(text: str, now: datetime) -> tuple[datetime | None, str | None]:
    """The "as known at" moment typed (a date, or a date and time, London), or the problem with it."""
    if not text.strip():
        return None, None
    try:
        moment = parse_moment(text)
    except ValueError:
        return None, "Enter the moment as a date and time, for example 5 April 2021 08:00"
    if moment > now:
        return None, "The moment must be now or in the past: the record cannot be known ahead of time"
    return moment, None


def _day(text: str, label: str) -> tuple[date | None, str | None]:
    if not text.strip():
        return None, None
    try:
        return date.fromisoformat(text.strip()), None
    except ValueError:
        return None, f"Enter the {label} date as a date, for example 1 March 2021"


def view(
    ctx: Context,
    nhs_number: str,
    moment: datetime | None,
    lanes: set[str],
    overlays: set[str],
    newest_first: bool,
    period: tuple[date | None, date | None] = (None, None),
) -> dict[str, Any]:
    """Everything the page shows: the chronology from ``period`` (London days; whole history if None) as known at
    ``moment`` (now if None), as table lines. The safety net's replay is the costly part: a shorter period is
    quicker."""
    # The replay behind the overlays is skipped when neither is wanted.
    c = chronology.build(ctx, nhs_number, at=moment, start=period[0], end=period[1], with_findings=bool(overlays))
    shown = lines(c, lanes, overlays, newest_first)
    return {
        "chronology": c,
        "lines": shown,
        "decisions": sum(1 for line in shown if line.entry and line.entry.is_decision),
    }


@router.get("/{nhs_number}/chronology")
def chronology_page(
    nhs_number: str,
    request: Request,
    user: Annotated[SignedIn, requires("person.view")],
    kind: Annotated[list[str] | None, Query()] = None,
    overlay: Annotated[list[str] | None, Query()] = None,
    order: str = "newest",
    known_at: str = "",
    start: str = "",
    end: str = "",
    filtered: str = "",
) -> Response:
    """The chronology page. ``filtered`` marks a submitted filter form, where an unticked box means "leave out"."""
    errors: dict[str, str] = {}
    # An unsubmitted page shows everything; a submitted form shows what is ticked (unknown values are ignored).
    lanes = set(LANES) if not filtered else {k for k in kind or [] if k in LANES}
    overlays = set(OVERLAYS) if not filtered else {o for o in overlay or [] if o in OVERLAYS}
    if order not in ORDERS:
        errors["order"] = "Choose newest first or oldest first"
        order = "newest"
    now = deps.clock(request).now()
    moment, problem = _moment(known_at, now)
    if problem:
        errors["known_at"] = problem
    first, problem = _day(start, "from")
    if problem:
        errors["start"] = problem
    last, problem = _day(end, "to")
    if problem:
        errors["end"] = problem
    if first and last and first > last:
        errors["end"] = "The to date must be the same as or after the from date"
    with deps.unit_of_work(request, user.actor(PURPOSE)) as ctx:
        try:
            patient = patients.find(ctx, nhs_number)
        except ValidationFailed as exc:
            raise NotFound(f"no person with NHS number {nhs_number}") from exc
        if patient is None:
            raise NotFound(f"no person with NHS number {nhs_number}")
        if moment is not None and moment < patient.recorded_at:
            since = patient.recorded_at.astimezone(LONDON).strftime("%d %b %Y %H:%M")
            errors["known_at"] = f"Nothing was known about this person then: they were first recorded on {since}"
            moment = None
        # On bad input no timeline is shown: the record as known now, unmarked, could be taken for the moment asked.
        values = {} if errors else view(ctx, nhs_number, moment, lanes, overlays, order == "newest", (first, last))
        name = patients.details(ctx, patient.id).name
    values |= {
        "nhs_number": patient.nhs_number,
        "name": name,
        "errors": errors,
        "moment": moment,
        "form": {
            "known_at": known_at,
            "start": start,
            "end": end,
            "order": order,
            "lanes": lanes,
            "overlays": overlays,
        },
        "lane_names": LANES,
        "overlay_names": OVERLAYS,
        "orders": ORDERS,
        "now": now,
    }
    return render(request, "chronology.html", values, status=400 if errors else 200)
