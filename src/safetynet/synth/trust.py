"""Writing a synthetic trust into an empty database: the plan's teams and staff, then each person's story.

People are written by the bulk writer (``synth.bulk``), which produces exactly the rows the scenario loader would
(tests/synth/test_bulk.py compares the two table by table) without a query per event. Stories are generated and
turned into rows in worker processes, in chunks of people, while this process only inserts them: each person draws
identifiers from their own seeded source and the directory of teams and staff is fixed, so the result is the same
whatever the number of workers. ``method="loader"`` writes the same trust through the loader, for comparison.

It is all one transaction: the trust and all its people, or (on any error) nothing. At 100,000 people the
transaction is several gigabytes, but they go to the database file (see ``SQLITE_BULK``); memory is bounded by the
page cache and the few chunks in flight (docs/benchmarks.md has the figures).
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any, Literal

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from sqlalchemy import Connection, Engine, create_engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from safetynet.core.clock import LONDON, FixedClock
from safetynet.core.context import Actor, Context, Role
from safetynet.core.errors import Problem, ValidationFailed
from safetynet.core.ids import SeededIds
from safetynet.record.org import service as org
from safetynet.record.org.models import Pathway
from safetynet.record.org.schemas import OrganisationIn, StaffIn, TeamIn
from safetynet.scenarios import format as fmt
from safetynet.scenarios import loader
from safetynet.synth import bulk, model

SYNTH_ACTOR = Actor(name="Synthetic data generator", role=Role.SYSTEM, purpose="creating a synthetic trust")
CHUNK = 250  # people generated and encoded together in a worker
# SQLite settings while synth writes (put back afterwards; measured at 100,000 people, docs/benchmarks.md):
# - a rollback journal instead of the write-ahead log: with the log, every page of a multi-gigabyte load is written
#   twice (to the log, then into the file at the checkpoint); the journal holds only the empty file's few pages;
# - a 2 GB page cache, so that the (fact_id, version) unique indexes stay in memory while rows arrive;
# - no memory-mapped reads (every other connection has them, ``core.db``): a load writes, and building the indexes
#   at the end through the map made the gigabytes of file it read count as the writer's own memory.
SQLITE_BULK = {"journal_mode": "DELETE", "cache_size": -2 * 1024 * 1024, "mmap_size": 0}
Method = Literal["bulk", "loader"]


@dataclass(frozen=True, slots=True)
class SynthResult:
    teams: int
    staff: int
    patients: int
    facts: int


def person_ids(seed: int, index: int) -> SeededIds:
    """Each person's own identifier source, so any person can be written alone and always comes out the same."""
    return SeededIds(f"{seed}:person:{index}")


def build(
    engine: Engine,
    *,
    patients: int,
    seed: int,
    console: Console | None = None,
    workers: int | None = None,
    method: Method = "bulk",
    people_per_cmht: int = model.PEOPLE_PER_CMHT,
) -> SynthResult:
    """Create the trust and its people in one unit of work: all of it, or (on any error) nothing.

    ``workers`` is how many processes generate people (default: one per CPU; 0 does it all in this process);
    ``people_per_cmht`` sizes the CMHTs (see ``model.plan_trust``).
    """
    plan = model.plan_trust(seed=seed, patients=patients, people_per_cmht=people_per_cmht)
    with (
        engine.connect() as connection,
        _writing(connection, method),
        _progress(console) as progress,
        connection.begin(),
        Session(bind=connection) as session,
    ):
        bulk.refuse_people(connection)
        _write_plan(session, plan, seed)
        task = progress.add_task("People", total=patients)
        if method == "loader":
            facts = _via_loader(session, plan, seed, patients, lambda n: progress.advance(task, n))
        else:
            facts = _via_bulk(connection, plan, seed, patients, workers, lambda n: progress.advance(task, n))
        session.flush()
    return SynthResult(teams=len(plan.teams), staff=len(plan.staff), patients=patients, facts=facts)


def _write_plan(session: Session, plan: model.TrustPlan, seed: int) -> None:
    start = datetime.combine(model.DEFAULT_UNTIL, time(9), tzinfo=LONDON) - timedelta(days=365 * 3 + 30)
    ctx = Context(session, SYNTH_ACTOR, FixedClock(start), SeededIds(seed))
    organisation = org.create_organisation(ctx, OrganisationIn(ods_code=plan.ods_code, name=plan.name))
    session.flush()
    for team in plan.teams:
        org.create_team(ctx, organisation, TeamIn(name=team.name, pathway=Pathway(team.pathway)))
    session.flush()
    for member in plan.staff:
        org.create_staff(ctx, StaffIn(name=member.name, role=Role(member.role), team=member.team))
    session.flush()


def _scenario(story: model.PersonStory, index: int) -> fmt.Scenario:
    data = {"id": f"synth-{index}", "title": "synthetic", "patient": story.patient, "events": story.events}
    return fmt.Scenario.model_validate(data)


# --- through the loader (the reference) --------------------------------------------------------------------------

FLUSH_EVERY = 200  # people; keeps the session small on large runs


def _via_loader(session: Session, plan: model.TrustPlan, seed: int, patients: int, done: Any) -> int:
    facts = 0
    for index, story in enumerate(model.generate_stories(plan, seed=seed, patients=patients)):
        loaded = loader.load(session, _scenario(story, index), ids=person_ids(seed, index), actor=SYNTH_ACTOR)
        facts += len(loaded.fact_ids)
        if (index + 1) % FLUSH_EVERY == 0:
            session.flush()
            session.expunge_all()
        done(1)
    return facts


# --- through the bulk writer ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Chunk:
    """People start..stop-1 as encoded rows, or the problems that refused one of them."""

    encoded: dict[str, list[tuple[Any, ...]]]
    nhs_numbers: list[str]
    facts: int
    problems: list[Problem]


_state: dict[str, Any] = {}


def _start_worker(plan: model.TrustPlan, seed: int, directory: bulk.Directory, drivername: str) -> None:
    _state.update(
        plan=plan, seed=seed, directory=directory, encoder=bulk.Encoder(create_engine(f"{drivername}://").dialect)
    )


def _people(start: int, stop: int) -> _Chunk:
    """Generate people start..stop-1 and turn them into encoded rows (in a worker, or in this process)."""
    plan, seed, directory, encoder = _state["plan"], _state["seed"], _state["directory"], _state["encoder"]
    with _no_cycle_collection():
        return _rows(plan, seed, directory, encoder, start, stop)


def _rows(
    plan: model.TrustPlan, seed: int, directory: bulk.Directory, encoder: bulk.Encoder, start: int, stop: int
) -> _Chunk:
    out = bulk.Rows(encoder)
    nhs_numbers, facts = [], 0
    for index, story in enumerate(model.generate_story_range(plan, seed=seed, start=start, stop=stop), start=start):
        try:
            scenario = _scenario(story, index)
            loaded = bulk.person_rows(
                scenario, directory=directory, ids=person_ids(seed, index), out=out, actor=SYNTH_ACTOR
            )
        except ValidationFailed as exc:
            problems = [Problem(f"person {index}: {p.field}", p.message, p.index) for p in exc.problems]
            return _Chunk({}, [], 0, problems)
        nhs_numbers.append(scenario.patient.nhs_number)
        facts += len(loaded.fact_ids)
    return _Chunk(out.for_insert(), nhs_numbers, facts, [])


def _via_bulk(
    connection: Connection, plan: model.TrustPlan, seed: int, patients: int, workers: int | None, done: Any
) -> int:
    directory = bulk.Directory.read(connection, frozen=True)
    writer = bulk.BulkWriter(connection, actor=SYNTH_ACTOR, directory=directory)
    if workers is None:
        workers = os.cpu_count() or 1
    if patients <= CHUNK:
        workers = 0
    facts = 0
    with bulk.deferred_indexes(connection), _no_cycle_collection():
        for chunk in _chunks(plan, seed, patients, workers, directory, connection.engine.url.drivername):
            if chunk.problems:
                raise ValidationFailed(chunk.problems)
            for nhs_number in chunk.nhs_numbers:
                writer.register(nhs_number)
            writer.insert(chunk.encoded)
            facts += chunk.facts
            done(len(chunk.nhs_numbers))
    return facts


def _chunks(
    plan: model.TrustPlan, seed: int, patients: int, workers: int, directory: bulk.Directory, drivername: str
) -> Iterator[_Chunk]:
    """Chunks of people in order, made by ``workers`` processes a few chunks ahead of the writer."""
    ranges = [(start, min(start + CHUNK, patients)) for start in range(0, patients, CHUNK)]
    if workers == 0:
        _start_worker(plan, seed, directory, drivername)
        yield from (_people(start, stop) for start, stop in ranges)
        return
    context = multiprocessing.get_context("spawn")  # never fork a process holding an open database transaction
    with ProcessPoolExecutor(workers, context, _start_worker, (plan, seed, directory, drivername)) as pool:
        ahead: deque[Future[_Chunk]] = deque()
        for start, stop in ranges:
            ahead.append(pool.submit(_people, start, stop))
            if len(ahead) > 2 * workers:
                yield ahead.popleft().result()
        while ahead:
            yield ahead.popleft().result()


@contextmanager
def _writing(connection: Connection, method: Method) -> Iterator[None]:
    """SQLite settings for one very large transaction into an empty file (``SQLITE_BULK``), put back afterwards.

    Each needs to be set outside a transaction. If the journal cannot be switched (another connection is open),
    the load stays in WAL mode: slower, same result.
    """
    if connection.dialect.name != "sqlite" or method != "bulk":
        yield
        return
    before = {name: connection.exec_driver_sql(f"PRAGMA {name}").scalar() for name in SQLITE_BULK}
    for name, value in SQLITE_BULK.items():
        with suppress(OperationalError):
            connection.exec_driver_sql(f"PRAGMA {name} = {value}")
    connection.commit()
    try:
        yield
    finally:
        if connection.in_transaction():
            connection.rollback()
        for name, value in before.items():
            with suppress(OperationalError):
                connection.exec_driver_sql(f"PRAGMA {name} = {value}")
        connection.commit()


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Rows are dicts and tuples without cycles; Python's cycle collector would rescan them all as they pile up."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _progress(console: Console | None) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=console is None,
        transient=False,
    )
