"""The timeline picture: admissions, legal status, depot gaps, non-attendance runs, concerns, police information and
findings open, on one time axis, readable at a glance; and the same items as rows for a table (the picture's text
alternative). ``items`` is the data; ``svg`` draws it as inline SVG (no script, so it prints and renders in PDF)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from html import escape

from markupsafe import Markup

from safetynet.core.clock import LONDON
from safetynet.learning.chronology import NOT_ATTENDED, Chronology, Entry
from safetynet.learning.patterns import Patterns

LANES = (
    ("admissions", "Admissions"),
    ("legal", "Legal status, CTO"),
    ("depot", "Depot"),
    ("contacts", "Contacts"),
    ("concerns", "Family concerns"),
    ("partners", "Police, courts, partners"),
)
DEPOT_GRACE = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Item:
    lane: str  # one of LANES, or "finding" (one row per rule)
    start: datetime
    end: datetime | None  # None: a moment, not a stretch
    label: str
    style: str  # how it is drawn: admission, detained, cto, depot-given, depot-refused, depot-gap, attended, dna,
    # dna-run, concern, concern-answered, concern-unanswered, partner, finding, finding-overdue
    recorded_at: datetime | None = None  # where it was learnt of late: when it was recorded
    row: str = ""  # the finding's rule id, for the findings lanes
    overdue_from: datetime | None = None  # findings: when it became overdue, if it did

    @property
    def lane_name(self) -> str:
        return dict(LANES).get(self.lane, f"Finding {self.row}")


def items(chronology: Chronology, patterns: Patterns) -> list[Item]:
    entries = [e for e in chronology.entries if not e.entered_in_error]
    end = chronology.end
    made: list[Item] = []
    made += _admissions(entries, end)
    made += _legal(entries, end)
    made += _depot(entries, end)
    made += _contacts(entries, patterns)
    made += _concerns(entries)
    for e in entries:
        if e.kind == "partner_information" or (
            e.kind == "risk_events" and e.source in ("police", "court", "probation")
        ):
            late = e.recorded_at if e.days_late >= 1 else None
            made.append(Item("partners", e.occurred_at, None, e.line, "partner", late))
    for p in chronology.periods:
        overdue_from = max(p.due, p.opened_at) if p.overdue else None
        state = "still open" if p.closed_at is None else p.response.words
        label = f"{p.rule_id} {p.rule_title}: {state}" + (f", overdue from {_day(p.due)}" if overdue_from else "")
        made.append(Item("finding", p.opened_at, p.until, label, "finding", row=p.rule_id, overdue_from=overdue_from))
    return made


def _admissions(entries: list[Entry], end: datetime) -> list[Item]:
    out = []
    discharges = {e.fact_id: e for e in entries if e.event == "hospital discharge"}
    for e in entries:
        if e.event == "admission":
            code = str(e.fields.get("legal_status") or "")
            left = discharges.get(e.fact_id)
            style = "admission" if code in ("01", "98", "99") else "detained"
            out.append(Item("admissions", e.occurred_at, left.occurred_at if left else end, e.line, style))
    return out


def _legal(entries: list[Entry], end: datetime) -> list[Item]:
    out = []
    ends = {e.fact_id: e for e in entries if e.event == "CTO end"}
    for e in entries:
        if e.event == "CTO start":
            stop = ends.get(e.fact_id)
            out.append(Item("legal", e.occurred_at, stop.occurred_at if stop else end, e.line, "cto"))
        elif e.event in ("legal status", "CTO recall"):
            out.append(Item("legal", e.occurred_at, None, e.line, "legal"))
    return out


def _depot(entries: list[Entry], end: datetime) -> list[Item]:
    """Doses given and refused, and gaps: more than the interval (plus a week's grace) without a dose given."""
    out = []
    prescriptions = {
        e.fact_id: e for e in entries if e.event == "medication start" and e.fields.get("route") == "depot"
    }
    stops = {e.fact_id: e.occurred_at for e in entries if e.event == "medication stopped"}
    doses: dict[str, list[Entry]] = {}
    for e in entries:
        if e.kind == "depot_administrations":
            out.append(Item("depot", e.occurred_at, None, e.line, f"depot-{e.fields.get('outcome')}"))
            doses.setdefault(str(e.fields.get("prescription_fact_id")), []).append(e)
    for fact_id, prescription in prescriptions.items():
        interval = timedelta(days=int(prescription.fields.get("interval_days") or 28))
        given = [d.occurred_at for d in doses.get(fact_id, []) if d.fields.get("outcome") == "given"]
        stop = min(stops.get(fact_id, end), end)
        last = prescription.occurred_at
        for moment in [*given, stop]:
            due = last + interval
            if moment - last > interval + DEPOT_GRACE:
                label = f"No depot given from {_day(due)} to {_day(moment)} ({(moment - due).days} days late)"
                out.append(Item("depot", due, moment, label, "depot-gap"))
            last = moment
    return out


def _contacts(entries: list[Entry], patterns: Patterns) -> list[Item]:
    out = []
    for e in entries:
        if e.kind != "contacts":
            continue
        outcome = e.fields.get("outcome")
        if outcome == "attended":
            out.append(Item("contacts", e.occurred_at, None, e.line, "attended"))
        elif outcome in NOT_ATTENDED:
            out.append(Item("contacts", e.occurred_at, None, e.line, "dna"))
    for run in patterns.non_attendance_runs:
        if run.count >= 2:
            first, last = _day(run.first.occurred_at), _day(run.last.occurred_at)
            label = f"{run.count} contacts in a row not attended, {first} to {last}"
            out.append(Item("contacts", run.first.occurred_at, run.last.occurred_at, label, "dna-run"))
    return out


def _concerns(entries: list[Entry]) -> list[Item]:
    out = []
    answers: dict[str, Entry] = {}
    for e in entries:
        if e.kind == "family_concern_responses":
            answers.setdefault(str(e.fields.get("concern_fact_id")), e)
    for e in entries:
        if e.kind == "family_concerns":
            answer = answers.get(e.fact_id)
            if answer is not None:
                out.append(
                    Item(
                        "concerns",
                        e.occurred_at,
                        answer.occurred_at,
                        e.line + f" (answered {_day(answer.occurred_at)})",
                        "concern-answered",
                    )
                )
            else:
                out.append(Item("concerns", e.occurred_at, None, e.line + " (never answered)", "concern-unanswered"))
    return out


def _day(moment: datetime) -> str:
    local = moment.astimezone(LONDON)
    return f"{local.day} {local.strftime('%b %Y')}"


# --- drawing ----------------------------------------------------------------------------------------------------

WIDTH, LEFT, RIGHT, TOP, LANE_H, FINDING_H = 900, 160, 10, 28, 28, 18
FONT = 'font-family="Arial, Liberation Sans, sans-serif"'
# Presentation attributes, not CSS classes: the picture stays right wherever the SVG is copied (app, PDF, slides).
LOOK: dict[str, str] = {
    "lane": f'{FONT} font-size="13" font-weight="bold" fill="#212b32"',
    "tick": f'{FONT} font-size="12" fill="#4c6272"',
    "small": f'{FONT} font-size="11" fill="#212b32"',
    "barlabel": f'{FONT} font-size="12" font-weight="bold" fill="#ffffff"',
    "grid": 'stroke="#d8dde0" stroke-width="1"',
    "admission": 'fill="#41b6e6"',
    "detained": 'fill="#003087"',
    "cto": 'fill="#330072" fill-opacity="0.55"',
    "legal": 'fill="#330072"',
    "depot-given": 'stroke="#007f3b" stroke-width="2"',
    "depot-refused": 'stroke="#d5281b" stroke-width="2.5" fill="none"',
    "depot-gap": 'fill="#d5281b" fill-opacity="0.35"',
    "attended": 'stroke="#768692" stroke-width="1" fill="none"',
    "dna": 'fill="#d5281b"',
    "dna-run": 'fill="#d5281b" fill-opacity="0.45"',
    "concern": 'fill="#ffb81c" stroke="#212b32" stroke-width="1"',
    "unanswered": 'fill="#ffb81c" stroke="#d5281b" stroke-width="3"',
    "answer": 'stroke="#007f3b" stroke-width="3"',
    "partner": 'fill="#7c2855"',
    "late": 'stroke="#7c2855" stroke-width="1.5" stroke-dasharray="4 3"',
    "learnt": 'fill="#ffffff" stroke="#7c2855" stroke-width="2"',
    "finding": 'fill="#ffb81c"',
    "overdue": 'fill="#d5281b"',
}


def svg(chronology: Chronology, drawn: list[Item]) -> Markup:
    start, end = chronology.start, chronology.end
    span = max((end - start).total_seconds(), 1.0)
    rules = sorted({i.row for i in drawn if i.lane == "finding"})
    height = TOP + LANE_H * len(LANES) + 8 + FINDING_H * len(rules) + 6

    def x(moment: datetime) -> float:
        offset = (min(max(moment, start), end) - start).total_seconds()
        return round(LEFT + (WIDTH - LEFT - RIGHT) * offset / span, 1)

    def lane_y(item: Item) -> float:
        if item.lane == "finding":
            return TOP + LANE_H * len(LANES) + 8 + FINDING_H * rules.index(item.row) + FINDING_H / 2
        names = [name for name, _ in LANES]
        return TOP + LANE_H * names.index(item.lane) + LANE_H / 2

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" class="timeline" role="img" '
        f'aria-labelledby="timeline-title"><title id="timeline-title">Timeline from {_day(start)} to {_day(end)}: '
        "admissions, legal status, depot, contacts, family concerns, partner information and findings open. "
        "The same items are listed in the table below.</title>"
    ]
    # lanes and their names
    for index, (_, name) in enumerate(LANES):
        top = TOP + LANE_H * index
        fill = "#f0f4f5" if index % 2 == 0 else "#ffffff"
        parts.append(f'<rect x="0" y="{top}" width="{WIDTH}" height="{LANE_H}" fill="{fill}"/>')
        parts.append(f'<text x="6" y="{top + LANE_H / 2 + 4}" {LOOK["lane"]}>{escape(name)}</text>')
    base = TOP + LANE_H * len(LANES) + 8
    for index, rule_id in enumerate(rules):
        top = base + FINDING_H * index
        parts.append(f'<rect x="0" y="{top}" width="{WIDTH}" height="{FINDING_H}" fill="#fff9e6"/>')
        parts.append(f'<text x="6" y="{top + FINDING_H / 2 + 4}" {LOOK["lane"]}>{rule_id} open</text>')
    # the time axis
    for tick, label in _ticks(start, end):
        tx = x(tick)
        parts.append(f'<line x1="{tx}" y1="{TOP - 4}" x2="{tx}" y2="{height}" {LOOK["grid"]}/>')
        parts.append(f'<text x="{tx + 2}" y="{TOP - 9}" {LOOK["tick"]}>{label}</text>')
    # attended contacts: one path of small ticks
    attended = [i for i in drawn if i.style == "attended"]
    if attended:
        y = lane_y(attended[0])
        d = " ".join(f"M{x(i.start)} {y + 4}v6" for i in attended)
        parts.append(f'<path d="{d}" {LOOK["attended"]}/>')
    for item in drawn:
        if item.style == "attended":
            continue
        y = lane_y(item)
        tip = f"<title>{escape(_day(item.start))}: {escape(item.label)}</title>"
        if item.end is not None and item.style not in ("concern-answered",):
            x1, x2 = x(item.start), max(x(item.end), x(item.start) + 2)
            h = 12 if item.lane == "finding" else 16
            parts.append(
                f'<rect x="{x1}" y="{y - h / 2}" width="{round(x2 - x1, 1)}" height="{h}" '
                f"{LOOK[item.style]}>{tip}</rect>"
            )
            if item.overdue_from is not None:
                ox = x(item.overdue_from)
                parts.append(
                    f'<rect x="{ox}" y="{y - h / 2}" width="{round(max(x2 - ox, 2), 1)}" height="{h}" '
                    f"{LOOK['overdue']}/>"
                )
            if item.style in ("admission", "detained"):
                code = _short(item.label)
                if x2 - x1 > 26:
                    parts.append(f'<text x="{x1 + 2}" y="{y + 4}" {LOOK["barlabel"]}>{escape(code)}</text>')
                else:
                    parts.append(f'<text x="{x1}" y="{y - 10}" {LOOK["small"]}>{escape(code)}</text>')
            continue
        cx = x(item.start)
        if item.style == "concern-answered":
            assert item.end is not None
            parts.append(f'<line x1="{cx}" y1="{y}" x2="{x(item.end)}" y2="{y}" {LOOK["answer"]}/>')
            parts.append(f'<circle cx="{cx}" cy="{y}" r="5" {LOOK["concern"]}>{tip}</circle>')
        elif item.style == "concern-unanswered":
            parts.append(f'<circle cx="{cx}" cy="{y}" r="5" {LOOK["unanswered"]}>{tip}</circle>')
        elif item.style == "partner":
            if item.recorded_at is not None:
                rx = x(item.recorded_at)
                parts.append(f'<line x1="{cx}" y1="{y}" x2="{rx}" y2="{y}" {LOOK["late"]}/>')
                parts.append(f'<rect x="{rx - 4}" y="{y - 4}" width="8" height="8" {LOOK["learnt"]}/>')
            parts.append(f'<path d="M{cx} {y - 7}l6 12h-12z" {LOOK["partner"]}>{tip}</path>')
        elif item.style == "depot-refused":
            parts.append(f'<path d="M{cx - 4} {y - 4}l8 8M{cx + 4} {y - 4}l-8 8" {LOOK["depot-refused"]}>{tip}</path>')
        elif item.style == "depot-given":
            parts.append(f'<line x1="{cx}" y1="{y - 5}" x2="{cx}" y2="{y + 5}" {LOOK["depot-given"]}/>')
        elif item.style == "dna":
            parts.append(f'<circle cx="{cx}" cy="{y - 3}" r="3" {LOOK["dna"]}>{tip}</circle>')
        else:
            parts.append(f'<circle cx="{cx}" cy="{y}" r="4" {LOOK["legal"]}>{tip}</circle>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every text in it went through html.escape)


def _short(label: str) -> str:
    inside = label[label.rfind("(") + 1 : label.rfind(")")] if "(" in label else label
    return inside.replace("Section ", "s").replace("Informal", "informal")


def _ticks(start: datetime, end: datetime) -> list[tuple[datetime, str]]:
    """Month (or quarter, or year) boundaries across the span, labelled."""
    days = (end - start).days
    step = 1 if days <= 400 else 3 if days <= 1200 else 12
    local = start.astimezone(LONDON)
    month = date(local.year, local.month, 1)
    out = []
    while True:
        month = _add_months(month, 1)
        while (month.month - 1) % step:
            month = _add_months(month, 1)
        moment = datetime(month.year, month.month, 1, tzinfo=LONDON)
        if moment > end:
            break
        label = str(month.year) if step == 12 or month.month == 1 else month.strftime("%b")
        if step != 12 and month.month == 1:
            label = month.strftime("%b %Y")
        out.append((moment, label))
    return out


def _add_months(day: date, months: int) -> date:
    total = day.month - 1 + months
    return date(day.year + total // 12, total % 12 + 1, 1)
