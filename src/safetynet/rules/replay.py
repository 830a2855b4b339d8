"""Replay and batch: what the rules would have shown, day by day for one person or at one moment for everyone,
using only what had been recorded by then."""

from __future__ import annotations

import gc
import multiprocessing
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from safetynet.core.clock import end_of_local_day
from safetynet.core.db import make_engine
from safetynet.rules import engine
from safetynet.rules.facts import Directory, History, batch_summary, load_span, read_by_rules, trust_people
from safetynet.rules.model import Finding


@dataclass
class Episode:
    """One stretch during which a finding was open, as replay saw it day by day."""

    rule_id: str
    key: str
    first_open: date
    last_open: date
    since: datetime
    due: datetime
    summary: str
    closed_on: date | None = None

    @property
    def days_open(self) -> int:
        return (self.last_open - self.first_open).days + 1


@dataclass
class Replay:
    days: list[tuple[date, list[Finding]]]
    episodes: list[Episode]


def replay(history: History, start: date, end: date) -> Replay:
    """Evaluate every watch rule at the end of each day from ``start`` to ``end``, as known at that moment."""
    days: list[tuple[date, list[Finding]]] = []
    open_now: dict[tuple[str, str], Episode] = {}
    episodes: list[Episode] = []
    day = start
    while day <= end:
        findings = engine.evaluate(history.as_known_at(end_of_local_day(day))).findings
        days.append((day, findings))
        keys = set()
        for finding in findings:
            key = (finding.rule_id, finding.key)
            keys.add(key)
            if key in open_now:
                open_now[key].last_open = day
            else:
                episode = Episode(finding.rule_id, finding.key, day, day, finding.since, finding.due, finding.summary)
                open_now[key] = episode
                episodes.append(episode)
        for key in list(open_now):
            if key not in keys:
                open_now.pop(key).closed_on = day
        day += timedelta(days=1)
    return Replay(days, episodes)


@dataclass(frozen=True, slots=True)
class Person:
    """Whom a batch evaluation is about."""

    patient_id: str
    nhs_number: str


def batch(
    session: Session, at: datetime, *, chunk: int = 2000, workers: int = 0
) -> Iterator[tuple[Person, engine.Evaluation]]:
    """Every person's evaluation as known at ``at``, in order of patient id. The trust is read a slice of people at
    a time (one range of patient ids per query, only the kinds and columns the rules read, and of contacts only
    those that answer the rules' questions as known at ``at``: ``facts.batch_summary``), which bounds memory.

    With ``workers`` > 1 the slices are evaluated by that many processes, each with its own connection: they see
    what has been committed, so the caller must not have uncommitted writes (the command line has none). The
    results are the same, in the same order."""
    directory = Directory.load(session)
    people = trust_people(session, at)
    if workers > 1:  # enough slices that the processes finish together
        chunk = max(1, min(chunk, -(-len(people) // (4 * workers))))
    slices = [people[offset : offset + chunk] for offset in range(0, len(people), chunk)]
    url = _shareable(session) if workers > 1 and len(slices) > 1 else None
    if url is not None:
        yield from _in_processes(url, at, slices, workers)
        return
    reads, summary = read_by_rules(), batch_summary(at)
    for part in slices:
        yield from evaluate_histories(load_span(session, directory, part, reads, summary), at)


def evaluate_histories(histories: dict[str, History], at: datetime) -> list[tuple[Person, engine.Evaluation]]:
    """Each of these people's evaluation as known at ``at``: one slice of the batch. The cyclic garbage collector
    is paused meanwhile: a slice holds a hundred thousand or more facts, which every full collection would walk
    again, and evaluating makes next to no reference cycles (any it does make are collected once it resumes)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        return [(Person(h.patient_id, h.nhs_number), engine.evaluate(h.as_known_at(at))) for h in histories.values()]
    finally:
        if collecting:
            gc.enable()


def _shareable(session: Session) -> str | None:
    """The session's database URL, if other processes can open the same database (not SQLite in memory)."""
    url = session.get_bind().engine.url
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        return None
    return url.render_as_string(hide_password=False)


Slice = list[tuple[str, str, datetime]]


def _in_processes(
    url: str, at: datetime, slices: list[Slice], workers: int
) -> Iterator[tuple[Person, engine.Evaluation]]:
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")  # fork: nothing to import again
    with context.Pool(workers, initializer=_start_worker, initargs=(url,)) as pool:
        for results in pool.imap(_evaluate_slice, [(at, part) for part in slices]):
            yield from results


_worker_engine: list[Engine] = []


def _start_worker(url: str) -> None:
    _worker_engine.append(make_engine(url))  # its own connections; nothing inherited from the parent is used


def _evaluate_slice(job: tuple[datetime, Slice]) -> list[tuple[Person, engine.Evaluation]]:
    at, part = job
    with Session(_worker_engine[0]) as session:
        histories = load_span(session, Directory.load(session), part, read_by_rules(), batch_summary(at))
        session.rollback()  # read only
    return evaluate_histories(histories, at)
