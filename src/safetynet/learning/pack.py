"""The learning-review pack: summary, repeated patterns, the timeline picture (with its table), every missed
opportunity with what was done, decisions, and the whole chronology; as HTML (Jinja2, NHS.UK colours and type,
print-friendly) and as PDF through headless Chromium (``learning.pdf``). ``build`` gathers the data; ``html`` and
``pdf`` render it.

The stylesheet is our own (``templates/pack.css``), modelled on NHS.UK: the pack is printed with JavaScript off and
must carry everything it needs, and the full frontend stylesheet is large and screen-first. Times are shown in
London time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from safetynet.core.clock import LONDON
from safetynet.core.context import Context
from safetynet.learning import chronology as chronology_module
from safetynet.learning import missed, patterns, timeline
from safetynet.learning.chronology import Chronology, Entry


@dataclass(frozen=True)
class Pack:
    chronology: Chronology
    summary: missed.Summary
    patterns: patterns.Patterns
    items: list[timeline.Item]
    picture: Markup
    generated_at: datetime

    @property
    def table_items(self) -> list[timeline.Item]:
        """The picture's items as a table lists them (attended contacts are counted, not listed)."""
        return sorted((i for i in self.items if i.style != "attended"), key=lambda i: (i.start, i.lane))

    @property
    def attended(self) -> int:
        return sum(i.style == "attended" for i in self.items)

    def closing_lines(self, period: missed.OpenPeriod) -> list[str]:
        """What was recorded at the moment a finding closed, in the chronology's words."""
        lines = []
        for fact in period.closing_facts:
            found = self._by_fact.get(fact.fact_id, [])
            same = [e for e in found if e.recorded_at == fact.recorded_at] or found
            lines.append(same[-1].line if same else f"{fact.table.replace('_', ' ')} recorded")
        return lines

    @property
    def _by_fact(self) -> dict[str, list[Entry]]:
        return _index(self.chronology)

    def days(self) -> list[tuple[date, list[chronology_module.Row]]]:
        """The merged stream of the chronology, by London day."""
        grouped: dict[date, list[chronology_module.Row]] = {}
        for row in self.chronology.rows():
            grouped.setdefault(row.at.astimezone(LONDON).date(), []).append(row)
        return list(grouped.items())


def _index(chronology: Chronology) -> dict[str, list[Entry]]:
    found: dict[str, list[Entry]] = {}
    for entry in chronology.entries:
        found.setdefault(entry.fact_id, []).append(entry)
    return found


def build(
    ctx: Context,
    nhs_number: str,
    *,
    start: date | None = None,
    end: date | None = None,
    at: datetime | None = None,
    redact_third_parties: bool = False,
) -> Pack:
    """The pack for one person from ``start`` to ``end`` as known at ``at`` (now if None)."""
    chronology = chronology_module.build(ctx, nhs_number, start=start, end=end, at=at)
    return from_chronology(chronology, ctx.clock.now(), redact_third_parties=redact_third_parties)


def from_chronology(chronology: Chronology, generated_at: datetime, *, redact_third_parties: bool = False) -> Pack:
    if redact_third_parties:
        chronology = chronology_module.redact(chronology)
    found = patterns.find(chronology)
    drawn = timeline.items(chronology, found)
    return Pack(
        chronology=chronology,
        summary=missed.summarise(chronology.periods),
        patterns=found,
        items=drawn,
        picture=timeline.svg(chronology, drawn),
        generated_at=generated_at,
    )


# --- rendering ----------------------------------------------------------------------------------------------------


def when(moment: datetime | None) -> str:
    """27 Jun 2022 09:30, London time."""
    if moment is None:
        return ""
    local = moment.astimezone(LONDON)
    return f"{local.day} {local.strftime('%b %Y %H:%M')}"


def day(moment: datetime | date | None) -> str:
    """27 Jun 2022 (a datetime's London day)."""
    if moment is None:
        return ""
    if isinstance(moment, datetime):
        moment = moment.astimezone(LONDON).date()
    return f"{moment.day} {moment.strftime('%b %Y')}"


def weekday(moment: datetime) -> str:
    local = moment.astimezone(LONDON)
    return f"{local.strftime('%a')} {local.day} {local.strftime('%b %Y')}"


def clock_time(moment: datetime) -> str:
    return moment.astimezone(LONDON).strftime("%H:%M")


def duration(delta: timedelta | None) -> str:
    """4.1 days, 5 hours, 20 minutes."""
    if delta is None:
        return "no action recorded"
    hours = delta.total_seconds() / 3600
    if hours >= 48:
        return f"{hours / 24:.1f} days"
    if hours >= 1:
        return f"{hours:.0f} hours" if hours >= 10 else f"{hours:.1f} hours"
    return f"{max(delta.total_seconds() / 60, 0):.0f} minutes"


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("safetynet.learning", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(when=when, day=day, weekday=weekday, clock=clock_time, duration=duration)
    return env


def html(pack: Pack) -> str:
    return (
        environment().get_template("pack.html.j2").render(pack=pack, c=pack.chronology, lanes=chronology_module.LANES)
    )


def pdf(pack: Pack) -> bytes:
    """The pack as PDF: the same HTML, printed by headless Chromium (``learning.pdf``)."""
    from safetynet.learning.pdf import render

    c = pack.chronology
    return render(html(pack), f"Learning review pack - {c.name} ({c.nhs_number}) - OFFICIAL-SENSITIVE")
