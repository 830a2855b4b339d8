"""One chronology of a person across every kind of fact, exactly as known at a moment, with the safety net overlaid.

``build(ctx, nhs_number, ...)`` returns a ``Chronology``: plain, immutable data that the review pack, the command
line and (later) the web page all render. It holds

- ``entries``: one ``Entry`` per thing that happened (a fact that has a start and an end, such as an admission, a
  prescription, an episode or a key worker allocation, gives two: the start, and the end once it is known), each
  with when it happened (``occurred_at``), when the service learnt of it (``recorded_at``), a plain-language
  ``line``, the fact's id and version, whether it was entered in error (and why) or corrected;
- ``periods``: the missed-opportunity analysis (``missed.OpenPeriod``): each period a rule's finding was open, using
  only what was known at each moment, with the tasks raised for it and their history;
- ``tasks``: every task the safety net raised in the period, with its history (``missed.TaskTrail``);
- ``decisions`` (a property): the entries that record a decision (MDT decisions, capacity assessments, answers to
  cross-team requests, discharges with an override).

``rows()`` interleaves all of it in time order (facts at the moment they happened; findings opening and closing,
and people acting on tasks, at the moment they did), which is what a page shows as one stream.

"As known at" is the record's own: ``record.chart.chart`` says which version of which fact was known at the moment
(entered-in-error versions included, so they can be shown struck through), ``rules.facts.load_history`` gives each
fact's earlier versions (when it was first learnt of, when it ended), and the analysis asks
``History.as_known_at``. Nothing here decides by itself what was known when.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from safetynet.audit import service as audit
from safetynet.core.clock import LONDON, end_of_local_day, local_datetime
from safetynet.core.context import Context
from safetynet.core.facts import FACT_COLUMNS
from safetynet.learning import missed
from safetynet.record.chart import Chart, chart
from safetynet.record.legal.models import LEGAL_STATUS_CODES
from safetynet.rules.facts import Fact, History, load_history
from safetynet.rules.model import Mode
from safetynet.tasks import service as tasks_service

# The lanes of the chronology (and of the timeline picture), in the order they are shown, with their names.
LANES: dict[str, str] = {
    "episodes": "Referrals, episodes and key workers",
    "contacts": "Contacts and non-attendance",
    "legal": "Admissions and legal status",
    "medication": "Medication, depot and adherence",
    "risk": "Risk events and assessments",
    "family": "Family and carers",
    "partners": "Partner information (police, courts, GP, others)",
    "requests": "Cross-team requests and answers",
    "decisions": "Decisions and capacity",
    "care": "Diagnoses, care plans, letters and zones",
    "notes": "Notes",
}

# Each kind of fact (``record.registry.FACT_MODELS``) and its lane.
KIND_LANE: dict[str, str] = {
    "referrals": "episodes",
    "episodes": "episodes",
    "key_workers": "episodes",
    "risk_events": "risk",
    "risk_assessments": "risk",
    "diagnoses": "care",
    "admissions": "legal",
    "legal_status_changes": "legal",
    "ctos": "legal",
    "cto_recalls": "legal",
    "prescriptions": "medication",
    "depot_administrations": "medication",
    "adherence_reports": "medication",
    "contacts": "contacts",
    "appointments": "contacts",
    "carers": "family",
    "family_concerns": "family",
    "family_concern_responses": "family",
    "partner_information": "partners",
    "cross_team_requests": "requests",
    "cross_team_responses": "requests",
    "mdt_decisions": "decisions",
    "capacity_assessments": "decisions",
    "care_plan_reviews": "care",
    "gp_letters": "care",
    "notes": "notes",
    "zones": "care",
}

NOT_ATTENDED = frozenset({"dna", "no_access"})
WITHHELD = "[details withheld]"
NAME_WITHHELD = "[name withheld]"


@dataclass(frozen=True, slots=True)
class Entry:
    """One thing that happened, as known at the chronology's moment."""

    kind: str  # the kind of fact (record.registry.FACT_MODELS key): "contacts", "partner_information", ...
    event: str  # what happened, in two or three words: "non-attendance", "admission", "depot refused", ...
    lane: str  # one of LANES
    occurred_at: datetime  # when it happened
    recorded_at: datetime  # when the service learnt of it
    line: str  # what happened, in plain language
    fact_id: str
    version: int  # the version of the fact this entry shows (the latest known at the moment)
    team: str | None = None
    source: str | None = None  # who told us, where the fact says: police, court, family, gp, self, record...
    entered_in_error: bool = False
    error_reason: str | None = None
    amendment_reason: str | None = None  # the latest correction's reason, where the fact was corrected
    withheld_line: str | None = None  # the line with third-party details withheld, where it holds any
    third_parties: tuple[str, ...] = ()  # names of family members or others this entry mentions
    fields: Mapping[str, Any] = field(default_factory=dict)  # the fact's own clinical fields (codes, outcomes...)

    @property
    def lane_name(self) -> str:
        return LANES[self.lane]

    @property
    def days_late(self) -> int:
        """Whole days between happening and being recorded (0 when recorded the same day)."""
        return (self.recorded_at.astimezone(LONDON).date() - self.occurred_at.astimezone(LONDON).date()).days

    @property
    def is_decision(self) -> bool:
        return self.lane == "decisions" or self.kind == "cross_team_responses" or "override" in self.event


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the merged stream: a fact, a finding opening or closing, or someone acting on a task."""

    at: datetime
    what: str  # "fact" | "finding_opened" | "finding_closed" | "task"
    line: str
    entry: Entry | None = None
    period: missed.OpenPeriod | None = None


@dataclass(frozen=True)
class Chronology:
    patient_id: str
    nhs_number: str
    name: str
    born: date
    as_known_at: datetime
    start: datetime
    end: datetime
    entries: list[Entry]
    periods: list[missed.OpenPeriod] = field(default_factory=list)
    tasks: list[missed.TaskTrail] = field(default_factory=list)
    team_names: dict[str, str] = field(default_factory=dict)
    failures: list[missed.EvaluationFailure] = field(default_factory=list)
    redacted: bool = False

    @property
    def decisions(self) -> list[Entry]:
        return [e for e in self.entries if e.is_decision]

    def team_name(self, team_id: str | None) -> str:
        return self.team_names.get(team_id or "", "no team")

    def rows(self) -> list[Row]:
        rows = [Row(e.occurred_at, "fact", e.line, entry=e) for e in self.entries]
        for p in self.periods:
            if p.opened_by != "start" and self.start <= p.opened_at <= self.end:
                rows.append(Row(p.opened_at, "finding_opened", f"{p.rule_id} opened: {p.summary}", period=p))
            if p.closed_at is not None and self.start <= p.closed_at <= self.end:
                how = "lapsed with nothing recorded" if p.closed_by == "time" else "closed"
                rows.append(Row(p.closed_at, "finding_closed", f"{p.rule_id} {how}", period=p))
            for task in p.tasks:
                for step in task.steps:
                    if step.action in missed.HUMAN_ACTIONS and self.start <= step.at <= self.end:
                        why = f": {step.rationale}" if step.rationale else ""
                        line = f"{p.rule_id} task {step.action} by {step.actor_name} ({step.actor_role}){why}"
                        rows.append(Row(step.at, "task", line, period=p))
        order = {"fact": 0, "finding_opened": 1, "task": 2, "finding_closed": 3}
        return sorted(rows, key=lambda r: (r.at, order[r.what]))


def build(
    ctx: Context,
    nhs_number: str,
    *,
    start: date | None = None,
    end: date | None = None,
    at: datetime | None = None,
    kinds: Iterable[str] | None = None,
    with_findings: bool = True,
) -> Chronology:
    """The chronology of the person from ``start`` to ``end`` (London days, inclusive; default: all of it) as known
    at ``at`` (default: now), keeping only ``kinds`` of fact if given. The read is audited."""
    moment = at or ctx.clock.now()
    record = chart(ctx, nhs_number, moment)
    history = load_history(ctx.session, record.patient.id)
    entries = entries_of(record, history)
    first = min((e.occurred_at for e in entries), default=record.patient.recorded_at)
    period_start = local_datetime(start, datetime.min.time()) if start else first
    period_end = min(end_of_local_day(end), moment) if end else moment
    if kinds is not None:
        wanted = set(kinds)
        unknown = wanted - set(KIND_LANE)
        if unknown:
            raise ValueError(f"no kind of fact {sorted(unknown)}; kinds are {', '.join(KIND_LANE)}")
        entries = [e for e in entries if e.kind in wanted]
    entries = [e for e in entries if period_start <= e.occurred_at <= period_end]
    periods: list[missed.OpenPeriod] = []
    failures: list[missed.EvaluationFailure] = []
    trails: list[missed.TaskTrail] = []
    if with_findings and period_start < period_end:
        trails = missed.load_tasks(ctx.session, [record.patient.id], moment)
        analysis = missed.analyse(history, period_start, period_end, tasks=trails, **settings(ctx))
        periods, failures = analysis.periods, analysis.failures
        trails = [t for t in trails if t.created_at <= period_end and (t.closed_at or period_end) >= period_start]
    audit.record_read(
        ctx,
        entity="chronology",
        patient_id=record.patient.id,
        detail=f"{period_start.date()} to {period_end.date()} as known at {moment.isoformat()}",
    )
    return Chronology(
        patient_id=record.patient.id,
        nhs_number=record.patient.nhs_number,
        name=record.details.name,
        born=record.details.born,
        as_known_at=moment,
        start=period_start,
        end=period_end,
        entries=entries,
        periods=periods,
        tasks=trails,
        team_names=record.team_names,
        failures=failures,
    )


def settings(ctx: Context) -> dict[str, Any]:
    """The rules as this trust runs them (rules switched off are left out), for ``missed.analyse``."""
    from safetynet.rules.registry import WATCH_RULES

    stored = tasks_service.rule_settings(ctx)
    return {
        "rules": [r for r in WATCH_RULES if stored[r.id][0] is not Mode.OFF],
        "params": {rule_id: params for rule_id, (_, params) in stored.items()},
    }


# --- entries ----------------------------------------------------------------------------------------------------


class _Names:
    def __init__(self, record: Chart, current: Mapping[str, Fact]) -> None:
        self.teams = record.team_names
        self.staff_names = record.staff_names
        self.current = current  # fact id -> its version as known

    def team(self, team_id: str | None) -> str:
        return self.teams.get(team_id or "", "an unknown team") if team_id else "no team"

    def staff(self, staff_id: str | None) -> str:
        return self.staff_names.get(staff_id or "", "") if staff_id else ""

    def fact(self, fact_id: str | None) -> Fact | None:
        return self.current.get(fact_id or "")


def entries_of(record: Chart, history: History) -> list[Entry]:
    """Every entry of a chart, oldest first. Each fact's earlier versions come from the history."""
    lineage: dict[str, list[Fact]] = {}
    for kind_versions in history.versions.values():
        for version in kind_versions:
            lineage.setdefault(version.fact_id, []).append(version)
    known: dict[str, Fact] = {}
    shown: list[tuple[str, list[Fact]]] = []
    for kind, facts in record.sections.items():
        for orm_fact in facts:
            versions = sorted(
                (v for v in lineage.get(orm_fact.fact_id, []) if v.version <= orm_fact.version),
                key=lambda v: v.version,
            )
            if not versions:
                continue
            known[orm_fact.fact_id] = versions[-1]
            shown.append((kind, versions))
    names = _Names(record, known)
    entries: list[Entry] = []
    for kind, versions in shown:
        entries += _describe(kind, versions, names)
    entries.sort(key=lambda e: (e.occurred_at, e.recorded_at, e.fact_id, e.event))
    return entries


def _describe(kind: str, versions: list[Fact], names: _Names) -> list[Entry]:
    f = versions[-1]
    describer = DESCRIBERS.get(kind)
    if describer is None:
        return []
    made: list[Entry] = []
    for occurred, event, line, extra in describer(f, versions, names):
        recorded = extra.pop("recorded_at", versions[0].recorded_at)
        made.append(
            Entry(
                kind=kind,
                event=event,
                lane=KIND_LANE[kind],
                occurred_at=occurred,
                recorded_at=recorded,
                line=line,
                fact_id=f.fact_id,
                version=f.version,
                team=names.team(f.team_id) if f.team_id else None,
                entered_in_error=bool(f.entered_in_error),
                error_reason=f.amendment_reason if f.entered_in_error else None,
                amendment_reason=f.amendment_reason if f.version > 1 and not f.entered_in_error else None,
                fields=_fields(f),
                **extra,
            )
        )
    return made


BOOKKEEPING = frozenset(FACT_COLUMNS) | {"table", "first_recorded_at", "team_id", "note"}


def _fields(f: Fact) -> dict[str, Any]:
    return {k: v for k, v in vars(f).items() if k not in BOOKKEEPING}


Described = tuple[datetime, str, str, dict[str, Any]]
Describer = Callable[[Fact, list[Fact], _Names], list[Described]]


def _day(moment: datetime | date | None) -> str:
    if moment is None:
        return "an unknown date"
    if isinstance(moment, datetime):
        moment = moment.astimezone(LONDON).date()
    return f"{moment.day} {moment.strftime('%b %Y')}"


def _words(value: str | None) -> str:
    return (value or "").replace("_", " ")


def _yes(value: bool | None) -> str:
    return "not recorded" if value is None else ("yes" if value else "no")


def _ended(versions: list[Fact], attribute: str) -> datetime:
    """When the service learnt that the fact ended: the first version that says so."""
    return next(v.recorded_at for v in versions if getattr(v, attribute, None) is not None)


def _referral(f: Fact, v: list[Fact], n: _Names) -> list[Described]:
    return [(f.occurred_at, "referral", f"Referral {_words(f.status)} by {n.team(f.team_id)}", {})]


def _episode(f: Fact, v: list[Fact], n: _Names) -> list[Described]:
    out: list[Described] = [
        (f.occurred_at, "episode start", f"Episode of care started with {n.team(f.team_id)} ({_words(f.pathway)})", {})
    ]
    if f.ended_at is not None:
        reason = f": {_words(f.discharge_reason)}" if f.discharge_reason else ""
        to = {"gp": ", to the GP", "other_team": ", to another team", "none": ""}.get(f.discharge_destination or "", "")
        override = ""
        if f.override_rationale:
            override = f"; override by a {_words(f.override_by_role)}: {f.override_rationale}"
        event = "discharge with override" if override else "discharge from team"
        line = f"Discharged from {n.team(f.team_id)}{reason}{to}{override}"
        out.append((f.ended_at, event, line, {"recorded_at": _ended(v, "ended_at")}))
    return out


def _key_worker(f: Fact, v: list[Fact], n: _Names) -> list[Described]:
    who = n.staff(f.staff_id) or "A key worker"
    out: list[Described] = [(f.occurred_at, "key worker", f"{who} allocated as key worker ({n.team(f.team_id)})", {})]
    if f.ended_at is not None:
        line = f"{who} stopped being key worker ({n.team(f.team_id)})"
        out.append((f.ended_at, "key worker ended", line, {"recorded_at": _ended(v, "ended_at")}))
    return out


PARTNER_SOURCES = frozenset({"police", "family", "other", "court", "probation"})


def _risk_event(f: Fact, v: list[Fact], n: _Names) -> list[Described]:
    harm = {"none": "no harm"}.get(f.harm, f"{f.harm} harm")
    head = f"Risk event: {_words(f.category)} ({harm}), source {f.source}"
    extra: dict[str, Any] = {"source": f.source}
    if f.source in PARTNER_SOURCES:
        extra["withheld_line"] = f"{head}: {WITHHELD}"
    return [(f.occurred_at, "risk event", f"{head}: {f.description}", extra)]


def _risk_assessment(f: Fact, v: list[Fact], n: _Names) -> list[Described]:
    by_status: dict[str, list[str]] = {}
    for factor, status in (f.factors or {}).items():
        by_status.setdefault(status, []).append(_words(factor))
    parts = [f"{_words(status)}: {', '.join(items)}" for status, items in sorted(by_status.items())]
    line = "Risk assessment; " + ("; ".join(parts) if parts else "no factors recorded")
    if f.rationale:
        line += f"; rationale: {f.rationale}"
    line += f"; formulation: {f.formulation}" if f.formulation else "; no formulation"
    line += "; safety plan in place" if f.safety_plan else "; no safety plan"
    return [(f.occurred_at, "risk assessment", line, {})]


def _diagnosis(f: Fact, v: list[Fact], n: _Names) -> list[Described]:
    display = f" {f.display}" if f.display else ""
    return [(f.occurred_at, "diagnosis", f"Diagnosis {f.code}{display} ({f.system.upper()})", {})]


def _status(code: str | None) -> str:
    return LEGAL_STATUS_CODES.get(code or "", f"legal status {code}")


def _admission(f: Fact, v: list[Fact], n: _Names) -> list[Described]:
    ward = n.team(f.ward_id)
    out: list[Described] = [(f.occurred_at, "admission", f"Admitted to {ward} ({_status(f.legal_status)})", {})]
    if f.discharged_at is not None:
        line = (
            f"Discharged from {ward}; crisis team accepted: {_yes(f.crisis_team_accepted)}; "
            f"carer informed: {_yes(f.carer_informed)}"
        )
        out.append((f.discharged_at, "hospital discharge", line, {"recorded_at": _ended(v, "discharged_at")}))
    return out


def _legal_change(f: Fact, v: list[Fact], n: _Names) -> list[Described]:
    return [(f.occurred_at, "legal status", f"Legal status changed to {_status(f.legal_status)}", {})]


def _cto(f: Fact, v: list[Fact], n: _Names) -> list[Described]:
    expires = f", expires {_day(f.expires_at)}" if f.expires_at else ""
    conditions = f"; conditions: {f.conditions}" if f.conditions else ""
    out: list[Described] = [(f.occurred_at, "CTO start", f"Community treatment order started{expires}{conditions}", {})]
    if f.ended_at is not None:
        reason = f": {f.end_reason}" if f.end_reason else ""
        out.append(
            (f.ended_at, "CTO end", f"Community treatment order ended{reason}", {"recorded_at": _ended(v, "ended_at")})
        )
    return out


def _cto_recall(f: Fact, v: list[Fact], n: _Names) -> list[Described]:
    reason = f": {f.reason}" if f.reason else ""
    return [(f.occurred_at, "CTO recall", f"Recalled to hospital under the community treatment order{reason}", {})]


def _prescription(f: Fact, v: list[Fact], n: _Names) -> list[Described]:
    dose = f" {f.dose}" if f.dose else ""
    every = f" every {f.interval_days} days" if f.interval_days else ""
    out: list[Described] = [(f.occurred_at, "medication start", f"{f.drug} ({f.route}){dose}{every} started", {})]
    if f.stopped_at is not None:
        reason = f": {f.stop_reason}" if f.stop_reason else ""
        line = f"{f.drug} ({f.route}) stopped{reason}"
        out.append((f.stopped_at, "medication stopped", line, {"recorded_at": _ended(v, "stopped_at")}))
    return out


def _depot(f: Fact, v: list[Fact], n: _Names) -> list[Described]:
    by = f" by {n.staff(f.staff_id)}" if n.staff(f.staff_id) else ""
    return [(f.occurred_at, f"depot {f.outcome}", f"Depot {f.drug} {f.outcome}{by}", {})]


def _adherence(f: Fact, v: list[Fact], n: _Names) -> list[Described]:
    detail = f": {f.detail}" if f.detail else ""
    line = f"Adherence reported by {_words(f.source)}: {_words(f.status)}{detail}"
    return [(f.occurred_at, "adherence", line, {"source": f.source})]


OUTCOME_WORDS = {
    "attended": "Attended",
    "dna": "Did not attend",
    "no_access": "No access at",
    "cancelled_by_patient": "Cancelled by the person:",
    "cancelled_by_provider": "Cancelled by the team:",
    "late_not_seen": "Arrived late, not seen at",
}


def _contact(f: Fact, v: list[Fact], n: _Names) -> list[Described]:
    planned = "planned" if f.planned else "unplanned"
    staff = f" with {n.staff(f.staff_id)}" if n.staff(f.staff_id) else ""
    outcome = OUTCOME_WORDS.get(f.outcome, _words(f.outcome))
    line = f"{outcome} {planned} {_words(f.mode)} contact ({n.team(f.team_id)}{staff})"
    event = "non-attendance" if f.outcome in NOT_ATTENDED else ("contact" if f.outcome == "attended" else "cancelled")
    return [(f.occurred_at, event, line, {})]


def _appointment(f: Fact, v: list[Fact], n: _Names) -> list[Described]:
    line = f"Appointment booked for {_day(f.due_at)} ({_words(f.mode)}, {n.team(f.team_id)})"
    return [(f.occurred_at, "appointment booked", line, {})]


def _carer(f: Fact, v: list[Fact], n: _Names) -> list[Described]:
    line = f"{f.name} ({f.relationship}) registered as carer; consent to share: {_yes(f.consent_to_share)}"
    return [(f.occurred_at, "carer", line, {"third_parties": (f.name,), "source": "family"})]


def _concern(f: Fact, v: list[Fact], n: _Names) -> list[Described]:
    line = f"Concern from {f.raised_by} by {_words(f.channel)}: {f.text}"
    extra = {"third_parties": (_person(f.raised_by),), "source": "family"}
    return [(f.occurred_at, "family concern", line, extra)]


def _concern_response(f: Fact, v: list[Fact], n: _Names) -> list[Described]:
    concern = n.fact(f.concern_fact_id)
    about = f" of {_day(concern.occurred_at)} from {concern.raised_by}" if concern is not None else ""
    extra = {"third_parties": (_person(concern.raised_by),)} if concern is not None else {}
    return [(f.occurred_at, "concern answered", f"Response to the concern{about}: {f.text}", extra)]


def _partner(f: Fact, v: list[Fact], n: _Names) -> list[Described]:
    flags = [w for w, on in (("violence", f.violence), ("weapon", f.weapon)) if on]
    head = f"{_words(f.agency).capitalize()} information: {_words(f.kind)}" + (
        f" ({', '.join(flags)})" if flags else ""
    )
    extra = {"source": f.agency, "withheld_line": f"{head}: {WITHHELD}"}
    return [(f.occurred_at, f"{_words(f.agency)} information", f"{head}: {f.detail}", extra)]


def _request(f: Fact, v: list[Fact], n: _Names) -> list[Described]:
    detail = f": {f.detail}" if f.detail else ""
    line = f"{n.team(f.team_id)} asked {n.team(f.to_team_id)} for {_words(f.ask)}{detail}"
    return [(f.occurred_at, "request", line, {})]


def _response(f: Fact, v: list[Fact], n: _Names) -> list[Described]:
    request = n.fact(f.request_fact_id)
    about = f" for {_words(request.ask)} of {_day(request.occurred_at)}" if request is not None else ""
    line = f"{n.team(f.team_id)} answered the request{about}: {_words(f.answer)}; rationale: {f.rationale}"
    return [(f.occurred_at, "request answered", line, {})]


def _mdt(f: Fact, v: list[Fact], n: _Names) -> list[Described]:
    line = f"MDT decision on {_words(f.topic)}: {f.decision}; rationale: {f.rationale}"
    return [(f.occurred_at, "MDT decision", line, {})]


def _capacity(f: Fact, v: list[Fact], n: _Names) -> list[Described]:
    line = f"Capacity assessed for {f.decision_about}: {_words(f.outcome)}"
    return [(f.occurred_at, "capacity assessment", line, {})]


def _care_plan(f: Fact, v: list[Fact], n: _Names) -> list[Described]:
    summary = f"; {f.summary}" if f.summary else ""
    line = (
        f"Care plan reviewed; crisis plan: {_yes(f.crisis_plan)}; shared with carer: {_yes(f.shared_with_carer)}"
        f"{summary}"
    )
    return [(f.occurred_at, "care plan review", line, {})]


def _gp_letter(f: Fact, v: list[Fact], n: _Names) -> list[Described]:
    sections = list(f.sections or [])
    line = f"GP handover letter sent with {len(sections)} of 6 sections ({', '.join(_words(s) for s in sections)})"
    return [(f.occurred_at, "GP letter", line, {})]


def _note(f: Fact, v: list[Fact], n: _Names) -> list[Described]:
    text = (f.note or "").strip()
    title = f" ({f.title})" if getattr(f, "title", None) else ""
    return [(f.occurred_at, "note", f"Note{title}: {text[:400]}{'...' if len(text) > 400 else ''}", {})]


def _zone(f: Fact, v: list[Fact], n: _Names) -> list[Described]:
    return [(f.occurred_at, "zone", f"Zone {f.zone}: {f.rationale}", {})]


DESCRIBERS: dict[str, Describer] = {
    "referrals": _referral,
    "episodes": _episode,
    "key_workers": _key_worker,
    "risk_events": _risk_event,
    "risk_assessments": _risk_assessment,
    "diagnoses": _diagnosis,
    "admissions": _admission,
    "legal_status_changes": _legal_change,
    "ctos": _cto,
    "cto_recalls": _cto_recall,
    "prescriptions": _prescription,
    "depot_administrations": _depot,
    "adherence_reports": _adherence,
    "contacts": _contact,
    "appointments": _appointment,
    "carers": _carer,
    "family_concerns": _concern,
    "family_concern_responses": _concern_response,
    "partner_information": _partner,
    "cross_team_requests": _request,
    "cross_team_responses": _response,
    "mdt_decisions": _mdt,
    "capacity_assessments": _capacity,
    "care_plan_reviews": _care_plan,
    "gp_letters": _gp_letter,
    "notes": _note,
    "zones": _zone,
}


def _person(raised_by: str) -> str:
    """The name in "Pat Example (mother)"."""
    return raised_by.split("(")[0].strip()


# --- redaction --------------------------------------------------------------------------------------------------


class Redactor:
    """Withholds third-party information for sharing a pack with a family: the names of family members and others
    (wherever they appear, including free text), and what partner agencies (police, courts) and others reported."""

    def __init__(self, names: Iterable[str], own_name: str) -> None:
        own = {token.lower() for token in own_name.split()}
        words: set[str] = set()
        for name in names:
            name = name.strip()
            if not name:
                continue
            words.add(name)
            words.update(t for t in name.split() if len(t) >= 3 and t.lower() not in own)
        ordered = sorted(words, key=len, reverse=True)  # full names before their parts
        self.pattern = re.compile(r"\b(" + "|".join(re.escape(w) for w in ordered) + r")\b") if ordered else None

    def text(self, value: str | None) -> str:
        if value is None:
            return ""
        return self.pattern.sub(NAME_WITHHELD, value) if self.pattern else value

    def entry(self, entry: Entry) -> Entry:
        line = entry.withheld_line or entry.line
        fields = {
            key: self.text(value) if isinstance(value, str) else value
            for key, value in entry.fields.items()
            if not (entry.withheld_line and key in ("detail", "description"))
        }
        return replace(entry, line=self.text(line), withheld_line=None, third_parties=(), fields=fields)


def redact(chronology: Chronology) -> Chronology:
    """The same chronology with third-party information withheld (see ``Redactor``)."""
    names = [name for e in chronology.entries for name in e.third_parties]
    redactor = Redactor(names, chronology.name)

    def period(p: missed.OpenPeriod) -> missed.OpenPeriod:
        evidence = tuple(replace(e, text=redactor.text(e.text)) for e in p.evidence)
        return replace(p, summary=redactor.text(p.summary), evidence=evidence, tasks=[task(t) for t in p.tasks])

    def task(t: missed.TaskTrail) -> missed.TaskTrail:
        steps = tuple(replace(s, rationale=redactor.text(s.rationale) if s.rationale else None) for s in t.steps)
        return replace(t, steps=steps)

    return replace(
        chronology,
        entries=[redactor.entry(e) for e in chronology.entries],
        periods=[period(p) for p in chronology.periods],
        tasks=[task(t) for t in chronology.tasks],
        redacted=True,
    )


def kinds_in(lanes: Sequence[str]) -> list[str]:
    """The kinds of fact in these lanes (for filtering by lane)."""
    return [kind for kind, lane in KIND_LANE.items() if lane in lanes]
