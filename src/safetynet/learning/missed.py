"""Missed opportunities: for each rule, each period in which its finding was open, how long, and what was done.

The analysis asks the rules only what was known at each moment. It is event-driven: the rules are evaluated at
every moment at which something about the person was recorded (``History.moments``), and between those moments at
least every ``STEP`` (time passing can open a finding: no contact for 28 days, a review falling due). Between two
such points nothing new was recorded, so the record as known is the same and only the clock moves; where a finding
opened or closed between them, the exact moment is found by bisection with the record as it then stood. A finding
that opened because something became known opens at the moment it was recorded, never at the (earlier) moment the
thing happened: police information learnt 17 days late is not a missed opportunity during those 17 days.

What was done comes from the safety net's own tasks (``tasks.models.Task`` and its append-only ``TaskEvent``
history, as they stood at the moment asked about) and from the record: the facts recorded at the moment a finding
closed are what closed it; a finding that closed with nothing recorded lapsed.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from safetynet.rules import engine
from safetynet.rules.facts import KINDS, Fact, History, PersonFacts
from safetynet.rules.model import Evidence, Finding, Parameters, Rule
from safetynet.rules.registry import RULES, WATCH_RULES
from safetynet.tasks.models import Task, TaskEvent

STEP = timedelta(days=1)  # the longest stretch without an evaluation (time passing can open or close a finding)
RESOLUTION = timedelta(seconds=1)  # bisection stops at this precision
HUMAN_ACTIONS = frozenset({"acknowledged", "dismissed", "snoozed"})


class Response(StrEnum):
    """What became of an open finding."""

    IN_TIME = "in_time"  # cleared by something recorded before it was due
    LATE = "late"  # cleared by something recorded, after it was due
    DISMISSED = "dismissed"  # a clinician judged no action was needed (with a rationale)
    LAPSED = "lapsed"  # it stopped being open as time passed, with nothing recorded that answered it
    STILL_OPEN = "still_open"  # open at the end of the period

    @property
    def words(self) -> str:
        return {
            Response.IN_TIME: "acted on in time",
            Response.LATE: "acted on late",
            Response.DISMISSED: "dismissed",
            Response.LAPSED: "lapsed, never answered",
            Response.STILL_OPEN: "still open",
        }[self]


@dataclass(frozen=True, slots=True)
class TaskStep:
    """One line of a task's history: who did what, when and why."""

    at: datetime
    action: str  # opened | acknowledged | snoozed | dismissed | escalated | closed
    actor_name: str
    actor_role: str
    rationale: str | None
    detail: str | None


@dataclass(frozen=True, slots=True)
class TaskTrail:
    """A task the safety net raised for a finding, and its history as it stood at the moment asked about."""

    task_id: str
    patient_id: str
    rule_id: str
    finding_key: str
    created_at: datetime
    due_at: datetime
    owner_role: str
    team_id: str | None
    steps: tuple[TaskStep, ...]

    @property
    def status(self) -> str:
        """The task's status as its history says (the task row itself only knows its status now)."""
        status = "open"
        for step in self.steps:
            status = {"acknowledged": "acknowledged", "snoozed": "snoozed", "dismissed": "dismissed"}.get(
                step.action, "closed" if step.action == "closed" else status
            )
        return status

    @property
    def closed_at(self) -> datetime | None:
        return next((s.at for s in self.steps if s.action == "closed"), None)

    def first_action(self) -> TaskStep | None:
        """The first thing a person did about it (acknowledge, dismiss, snooze)."""
        return next((s for s in self.steps if s.action in HUMAN_ACTIONS), None)


@dataclass
class OpenPeriod:
    """One stretch during which a rule's finding was open, using only what was known at each moment."""

    rule_id: str
    key: str
    opened_at: datetime
    closed_at: datetime | None  # None: still open when the analysis ended
    since: datetime  # the finding's own "since": when the condition began (can be before it was known)
    due: datetime
    summary: str
    evidence: tuple[Evidence, ...]
    team_id: str | None
    opened_by: str  # "recorded": something became known; "time": time passed; "start": open when the period began
    closed_by: str | None = None  # "recorded" | "time" | None (still open)
    closing_facts: tuple[Fact, ...] = ()  # what was recorded at the moment it closed
    tasks: list[TaskTrail] = field(default_factory=list)
    ended_at: datetime | None = None  # where the analysis stopped (for periods still open)

    @property
    def rule_title(self) -> str:
        rule = RULES.get(self.rule_id)
        return rule.title if rule else self.rule_id

    @property
    def until(self) -> datetime:
        """When it stopped being open, or where the analysis ended."""
        end = self.closed_at or self.ended_at
        assert end is not None
        return end

    @property
    def duration(self) -> timedelta:
        return self.until - self.opened_at

    @property
    def overdue(self) -> bool:
        return self.until > self.due

    @property
    def dismissal(self) -> TaskStep | None:
        return next((s for t in self.tasks for s in t.steps if s.action == "dismissed"), None)

    @property
    def response(self) -> Response:
        if self.dismissal is not None:
            return Response.DISMISSED
        if self.closed_at is None:
            return Response.STILL_OPEN
        if self.closed_by == "time":
            return Response.LAPSED
        return Response.LATE if self.closed_at > self.due else Response.IN_TIME

    @property
    def missed(self) -> bool:
        """An opportunity missed: not answered by something recorded before it was due."""
        return self.response is not Response.IN_TIME

    def first_action_at(self) -> datetime | None:
        """The first thing done about it: a person acting on its task, or the recorded fact that closed it."""
        moments = [step.at for t in self.tasks if (step := t.first_action()) is not None]
        if self.closed_by == "recorded" and self.closed_at is not None:
            moments.append(self.closed_at)
        return min(moments) if moments else None

    def time_to_action(self) -> timedelta | None:
        first = self.first_action_at()
        return first - self.opened_at if first is not None else None


@dataclass(frozen=True, slots=True)
class EvaluationFailure:
    rule_id: str
    at: datetime
    error: str


@dataclass
class Analysis:
    patient_id: str
    start: datetime
    end: datetime
    periods: list[OpenPeriod]
    failures: list[EvaluationFailure]
    evaluations: int  # how many moments the rules were asked about (for the curious and the benchmark)


def load_tasks(session: Session, patient_ids: Sequence[str], at: datetime | None = None) -> list[TaskTrail]:
    """The safety net's tasks for these people, with their history, as they stood at ``at`` (now if None)."""
    if not patient_ids:
        return []
    stmt = select(Task).where(Task.patient_id.in_(list(patient_ids)))
    if at is not None:
        stmt = stmt.where(Task.created_at <= at)
    tasks = list(session.scalars(stmt.order_by(Task.created_at, Task.id)))
    steps: dict[str, list[TaskStep]] = {t.id: [] for t in tasks}
    if tasks:
        events = select(TaskEvent).where(TaskEvent.task_id.in_(list(steps)))
        if at is not None:
            events = events.where(TaskEvent.at <= at)
        for e in session.scalars(events.order_by(TaskEvent.at, TaskEvent.id)):
            steps[e.task_id].append(TaskStep(e.at, e.action, e.actor_name, e.actor_role, e.rationale, e.detail))
    return [
        TaskTrail(
            task_id=t.id,
            patient_id=t.patient_id,
            rule_id=t.rule_id,
            finding_key=t.finding_key,
            created_at=t.created_at,
            due_at=t.due_at,
            owner_role=t.owner_role,
            team_id=t.team_id,
            steps=tuple(steps[t.id]),
        )
        for t in tasks
    ]


def analyse(
    history: History,
    start: datetime,
    end: datetime,
    *,
    tasks: Iterable[TaskTrail] = (),
    rules: Sequence[Rule[Any]] = WATCH_RULES,
    params: Mapping[str, Parameters] | None = None,
) -> Analysis:
    """Every period in which a watch rule's finding was open between ``start`` and ``end``, as known at each moment."""
    run = _Run(history, rules, params or {})
    points = _points(history, start, end)
    known = history.as_known_at(points[0])
    current = run.evaluate(known, [r.id for r in rules])
    periods: dict[tuple[str, str], OpenPeriod] = {
        key: _period(finding, points[0], "start", known) for key, finding in current.items()
    }
    finished: list[OpenPeriod] = []
    previous_at = points[0]
    for at in points[1:]:
        recorded_now = at in run.moments
        facts = history.as_known_at(at) if recorded_now else _later(known, at)
        now = run.evaluate(facts, [r.id for r in rules], carry=current)
        for key in now.keys() - current.keys():
            rule_id = key[0]
            if recorded_now and key not in run.evaluate(_later(known, at), [rule_id]):
                periods[key] = _period(now[key], at, "recorded", facts)
            else:
                moment = run.first(known, previous_at, at, key, want_open=True)
                periods[key] = _period(run.evaluate(_later(known, moment), [rule_id])[key], moment, "time", known)
        for key in current.keys() - now.keys():
            period = periods.pop(key)
            if recorded_now and key in run.evaluate(_later(known, at), [key[0]]):
                period.closed_at, period.closed_by = at, "recorded"
                period.closing_facts = tuple(_recorded_at(history, at))
            else:
                period.closed_at = run.first(known, previous_at, at, key, want_open=False)
                period.closed_by = "time"
            finished.append(period)
        current, known, previous_at = now, facts, at
    for period in periods.values():
        period.ended_at = points[-1]
        finished.append(period)
    _attach(finished, list(tasks))
    finished.sort(key=lambda p: (p.opened_at, p.rule_id, p.key))
    return Analysis(history.patient_id, points[0], points[-1], finished, run.failures, run.count)


# --- the evaluation points and the rules ------------------------------------------------------------------------


def _points(history: History, start: datetime, end: datetime) -> list[datetime]:
    """``start``, every moment something was recorded in (start, end], ``end``, and fillers so no gap exceeds STEP."""
    recorded = [m for m in history.moments() if start < m <= end]
    anchors = sorted({start, *recorded, end})
    points: list[datetime] = []
    for at in anchors:
        if points:
            fill = points[-1] + STEP
            while fill < at:
                points.append(fill)
                fill += STEP
        points.append(at)
    return points


def _later(facts: PersonFacts, at: datetime) -> PersonFacts:
    """The same record as known, asked about at a later moment (nothing new was recorded in between)."""
    return PersonFacts(facts.patient_id, facts.nhs_number, at, facts.directory, {k: facts.of(k) for k in KINDS})


class _Run:
    def __init__(self, history: History, rules: Sequence[Rule[Any]], params: Mapping[str, Parameters]) -> None:
        self.rules = {r.id: r for r in rules}
        self.params = params
        self.moments = set(history.moments())
        self.failures: list[EvaluationFailure] = []
        self.count = 0

    def evaluate(
        self,
        facts: PersonFacts,
        rule_ids: Iterable[str],
        carry: Mapping[tuple[str, str], Finding] | None = None,
    ) -> dict[tuple[str, str], Finding]:
        """Open findings by (rule, key). A rule that fails says nothing: what it had open is carried over."""
        self.count += 1
        evaluation = engine.evaluate(facts, [self.rules[r] for r in rule_ids], self.params)
        found = {(f.rule_id, f.key): f for f in evaluation.findings}
        failed = {f.rule_id for f in evaluation.failures}
        for failure in evaluation.failures:
            self.failures.append(EvaluationFailure(failure.rule_id, facts.at, failure.error))
        if carry and failed:
            found.update({key: f for key, f in carry.items() if key[0] in failed})
        return found

    def first(
        self, known: PersonFacts, after: datetime, upto: datetime, key: tuple[str, str], *, want_open: bool
    ) -> datetime:
        """The first moment in (after, upto] at which ``key`` is open (or closed), the record as known unchanged."""
        low, high = after, upto
        while high - low > RESOLUTION:
            middle = low + (high - low) / 2
            if (key in self.evaluate(_later(known, middle), [key[0]])) == want_open:
                high = middle
            else:
                low = middle
        return high


def _period(finding: Finding, at: datetime, opened_by: str, facts: PersonFacts) -> OpenPeriod:
    episodes = facts.open_episodes() or facts.of("episodes")
    return OpenPeriod(
        rule_id=finding.rule_id,
        key=finding.key,
        opened_at=at,
        closed_at=None,
        since=finding.since,
        due=finding.due,
        summary=finding.summary,
        evidence=finding.evidence,
        team_id=episodes[-1].team_id if episodes else None,
        opened_by=opened_by,
    )


def _recorded_at(history: History, at: datetime) -> list[Fact]:
    return sorted(
        (f for kind in KINDS for f in history.versions.get(kind, []) if f.recorded_at == at),
        key=lambda f: (f.occurred_at, f.table),
    )


def _attach(periods: list[OpenPeriod], tasks: list[TaskTrail]) -> None:
    """Each task goes with the period of its finding that it overlaps."""
    slack = timedelta(minutes=1)
    for task in tasks:
        for period in periods:
            if (task.rule_id, task.finding_key) != (period.rule_id, period.key):
                continue
            task_end = task.closed_at
            if task.created_at <= period.until + slack and (task_end is None or task_end + slack >= period.opened_at):
                period.tasks.append(task)
                break


# --- the summary ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RuleSummary:
    rule_id: str
    title: str
    opened: int
    missed: int
    days_open: float  # in total
    longest_days: float
    median_hours_to_action: float | None


@dataclass(frozen=True, slots=True)
class Summary:
    opportunities: int
    missed: int
    by_response: dict[str, int]
    median_hours_to_action: float | None
    longest_days_open: float
    rules: list[RuleSummary]


def summarise(periods: Sequence[OpenPeriod]) -> Summary:
    by_rule: dict[str, list[OpenPeriod]] = {}
    for period in periods:
        by_rule.setdefault(period.rule_id, []).append(period)
    rules = [
        RuleSummary(
            rule_id=rule_id,
            title=group[0].rule_title,
            opened=len(group),
            missed=sum(p.missed for p in group),
            days_open=round(sum(_days(p.duration) for p in group), 1),
            longest_days=round(max(_days(p.duration) for p in group), 1),
            median_hours_to_action=_median_hours(group),
        )
        for rule_id, group in sorted(by_rule.items())
    ]
    by_response = {str(r): sum(p.response is r for p in periods) for r in Response}
    return Summary(
        opportunities=len(periods),
        missed=sum(p.missed for p in periods),
        by_response=by_response,
        median_hours_to_action=_median_hours(periods),
        longest_days_open=round(max((_days(p.duration) for p in periods), default=0.0), 1),
        rules=rules,
    )


def _days(delta: timedelta) -> float:
    return delta.total_seconds() / 86400


def _median_hours(periods: Iterable[OpenPeriod]) -> float | None:
    hours = [t.total_seconds() / 3600 for p in periods if (t := p.time_to_action()) is not None]
    return round(statistics.median(hours), 1) if hours else None
