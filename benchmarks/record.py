"""The record, synth and the rules: the foundation's and the safety net's figures (section ``record``).

    python -m benchmarks.run --section record            # the real sizes: 100,000 and 10,000 people
    python -m benchmarks.run --section record --quick    # small sizes, a smoke check

1. ``safetynet synth`` into a fresh SQLite file, run as the user runs it (a subprocess): wall time, and peak memory
   both of the largest process and of the whole process tree (synth's workers included), sampled from /proc.
2. Events written per second in bulk and through the record services (the scenario loader), in this run.
3. The rules batch: every watch rule over everyone in the smaller trust, as known at the end of its window, as
   ``rules.replay.batch`` runs it (two processes) and in one process; SN02 and SN06 by the engine against the same
   two rules written as set-based SQL, in the same database and run; and the incremental answer to one new fact
   about a person with 500 facts (``tasks.runner.reconcile_touched``, as every unit of work runs it).
4. ``patient show`` for a person with 2,000 facts, in a trust of other people: the chart read and turned into JSON
   in-process (median and p95 of many runs), and the real command line (a few runs), now and as known at a past
   moment.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from benchmarks.report import Report, median_p95, ms, percentile
from safetynet import migrations
from safetynet.core.clock import LONDON, FixedClock
from safetynet.core.context import Actor, Context, Role
from safetynet.core.db import make_engine, unit_of_work
from safetynet.core.ids import SeededIds
from safetynet.record.chart import chart, chart_as_dict
from safetynet.record.contacts import service as contacts
from safetynet.record.contacts.schemas import ContactIn
from safetynet.record.patients.models import Patient
from safetynet.rules import calendar, registry, replay
from safetynet.rules import engine as rules
from safetynet.rules.facts import Directory, load_history, load_span, read_by_rules, trust_people
from safetynet.scenarios import format as fmt
from safetynet.scenarios import loader
from safetynet.synth import model, trust
from safetynet.tasks import runner

TITLE = "The record, synth and the rules"
INTRO = (
    "Synth runs as the user runs it, in a subprocess; its memory is sampled over the whole process tree (its "
    "worker processes included) and the largest single process is reported beside it."
)

ROOT = Path(__file__).resolve().parents[1]
SAFETYNET = Path(sys.executable).with_name("safetynet")
READER = Actor(name="Benchmark", role=Role.ADMINISTRATOR, purpose="benchmark")
GiB = 1024**3


@dataclass(frozen=True)
class Sizes:
    synth: tuple[int, ...]  # people in each synth run; the smallest trust hosts the rules batch and the long record
    loader: int  # people written both through the services and in bulk, for events/s
    long_facts: int  # facts in the long record
    runs: int  # in-process chart reads
    cli_runs: int  # command line runs
    sql_runs: int = 3  # runs of SN02 + SN06, as SQL and by the engine (the best of each is reported)
    incremental_facts: int = 500  # facts of the person re-evaluated after a write
    incremental_runs: int = 100


FULL = Sizes(synth=(100_000, 10_000), loader=500, long_facts=2_000, runs=50, cli_runs=5)
QUICK = Sizes(synth=(600, 200), loader=20, long_facts=300, runs=5, cli_runs=1, sql_runs=1, incremental_runs=20)
TARGET_PEOPLE, TARGET_SECONDS, TARGET_MEMORY = 100_000, 180, 4 * GiB


# --- synth, as the user runs it --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SynthRun:
    patients: int
    facts: int
    seconds: float
    largest_process: int  # bytes
    process_tree: int  # bytes, sampled


def synth(folder: Path, patients: int) -> tuple[SynthRun, str]:
    """``safetynet db upgrade`` then ``safetynet synth`` into a fresh SQLite file; the run and the database URL."""
    url = f"sqlite:///{folder / f'synth-{patients}.db'}"
    env = os.environ | {"SAFETYNET_DATABASE_URL": url}
    subprocess.run([str(SAFETYNET), "db", "upgrade"], env=env, check=True, capture_output=True)
    command = [str(SAFETYNET), "synth", "--patients", str(patients), "--seed", "7"]
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    with _sampling_tree(process.pid) as peak:
        _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    output = process.stdout.read() if process.stdout else ""
    if process.returncode != 0:
        raise RuntimeError(f"synth failed ({process.returncode}): {output}")
    facts = int(output.split(" people, ")[1].split(" facts")[0])
    return SynthRun(patients, facts, seconds, usage.ru_maxrss * 1024, peak[0]), url


@contextmanager
def _sampling_tree(pid: int) -> Iterator[list[int]]:
    """The largest total resident memory of ``pid`` and its descendants, sampled every 0.1 s from /proc."""
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.1):
            peak[0] = max(peak[0], sum(_rss(p) for p in _tree(pid)))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield peak
    finally:
        done.set()
        sampler.join()


def _tree(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        todo += [int(child) for child in children]
    return found


def _rss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


# --- bulk against the services ----------------------------------------------------------------------------------


def events_per_second(folder: Path, patients: int, method: trust.Method) -> tuple[int, float]:
    """Facts written per second by ``trust.build`` (in this process) into a fresh SQLite file."""
    url = f"sqlite:///{folder / f'{method}-{patients}.db'}"
    migrations.upgrade(url)
    engine = make_engine(url)
    try:
        start = time.perf_counter()
        result = trust.build(engine, patients=patients, seed=7, method=method, workers=0)  # one process each
        return result.facts, result.facts / (time.perf_counter() - start)
    finally:
        engine.dispose()


# --- the rules batch ----------------------------------------------------------------------------------------------


def at_window_end() -> datetime:
    return datetime.combine(model.DEFAULT_UNTIL, datetime.min.time(), LONDON).replace(hour=23)


@dataclass(frozen=True)
class BatchRun:
    people: int
    seconds: float  # in processes, as `batch(workers=...)` runs it
    workers: int
    one_process: float  # the same in one process
    load: float  # of which reading the trust (one process)
    evaluate: float  # and evaluating it


def rules_batch(url: str, workers: int = 2) -> BatchRun:
    """All watch rules over everyone, as known at the end of the synthetic window, as ``rules.replay.batch`` runs
    them: in ``workers`` processes, and in one (where the split between reading and evaluating is timed)."""
    engine = make_engine(url)
    at = at_window_end()
    try:
        with unit_of_work(engine) as session:
            calendar.end_of_next_working_day(at)  # the bank holiday tables load once, on first use
            started = time.perf_counter()
            people = sum(1 for _ in replay.batch(session, at, workers=workers))
            in_processes = time.perf_counter() - started
        with unit_of_work(engine) as session:
            started = time.perf_counter()
            load = evaluate = 0.0
            directory = Directory.load(session)
            trust = trust_people(session, at)
            reads = read_by_rules()
            for offset in range(0, len(trust), 2000):
                before = time.perf_counter()
                histories = load_span(session, directory, trust[offset : offset + 2000], reads)
                loaded = time.perf_counter()
                for history in histories.values():
                    rules.evaluate(history.as_known_at(at))
                load += loaded - before
                evaluate += time.perf_counter() - loaded
            one_process = time.perf_counter() - started
    finally:
        engine.dispose()
    return BatchRun(people, in_processes, workers, one_process, load, evaluate)


# --- SN02 and SN06 as hand-written SQL ------------------------------------------------------------------------------
#
# The same findings as the rules, computed set-based by SQLite over the same database: facts as known at T (each
# fact's latest version recorded by then, entered-in-error ones left out) by a window function, then the rules'
# conditions as joins and aggregates. Only the finding keys are computed (no evidence or wording), which flatters
# the SQL a little. The engine's side reads the four kinds these two rules need and runs only them, in one process.

_KNOWN = """
    SELECT * FROM (
        SELECT *, ROW_NUMBER() OVER (PARTITION BY fact_id ORDER BY recorded_at DESC, version DESC) AS newest
        FROM {table} WHERE recorded_at <= :at
    ) WHERE newest = 1 AND NOT entered_in_error AND occurred_at <= :at
"""

SN02_SQL = f"""
WITH
episode AS (
    SELECT patient_id, fact_id, occurred_at, pathway FROM ({_KNOWN.format(table="episodes")})
    WHERE status = 'active' AND pathway IN ('eip', 'cmht', 'assertive_outreach')
),
contact AS (
    SELECT patient_id, occurred_at, recorded_at, outcome, mode, planned FROM ({_KNOWN.format(table="contacts")})
    WHERE patient_id IN (SELECT patient_id FROM episode)
),
seen AS (
    SELECT patient_id, MAX(occurred_at) AS last_seen FROM contact
    WHERE outcome = 'attended' AND mode IN ('face_to_face', 'home_visit', 'video', 'phone')
    GROUP BY patient_id
),
unseen AS (
    SELECT episode.fact_id FROM episode LEFT JOIN seen USING (patient_id)
    WHERE :at_seconds > datetime(
        MAX(episode.occurred_at, COALESCE(seen.last_seen, episode.occurred_at)),
        '+' || (CASE WHEN episode.pathway = 'assertive_outreach' THEN 14 ELSE 28 END) || ' days'
    )
),
recent AS (
    SELECT episode.fact_id AS episode, episode.patient_id, contact.outcome, contact.occurred_at,
        ROW_NUMBER() OVER (
            PARTITION BY episode.fact_id ORDER BY contact.occurred_at DESC, contact.recorded_at DESC
        ) AS n
    FROM episode JOIN contact ON contact.patient_id = episode.patient_id
    WHERE contact.planned AND contact.occurred_at >= episode.occurred_at
),
missed AS (
    SELECT recent.episode FROM recent LEFT JOIN seen USING (patient_id)
    WHERE recent.n <= 2
    GROUP BY recent.episode
    HAVING COUNT(*) = 2 AND SUM(recent.outcome IN ('dna', 'no_access')) = 2
        AND COALESCE(MAX(seen.last_seen), '') <= MAX(recent.occurred_at)
)
SELECT fact_id FROM unseen UNION SELECT episode FROM missed
"""

SN06_SQL = f"""
WITH
prescription AS (
    SELECT fact_id, occurred_at, interval_days FROM ({_KNOWN.format(table="prescriptions")})
    WHERE route = 'depot' AND stopped_at IS NULL AND interval_days
),
given AS (
    SELECT prescription_fact_id, MAX(occurred_at) AS last_given FROM ({_KNOWN.format(table="depot_administrations")})
    WHERE outcome = 'given'
    GROUP BY prescription_fact_id
)
SELECT prescription.fact_id FROM prescription LEFT JOIN given ON given.prescription_fact_id = prescription.fact_id
WHERE :at_seconds > datetime(
    COALESCE(given.last_given, prescription.occurred_at), '+' || (prescription.interval_days + 7) || ' days'
)
"""

SQL_KINDS = ("episodes", "contacts", "prescriptions", "depot_administrations")  # what SN02 and SN06 read


@dataclass(frozen=True)
class SqlRun:
    sql_seconds: float
    engine_seconds: float
    findings: int
    agree: bool


def sql_baseline(url: str, runs: int) -> SqlRun:
    """SN02 + SN06 for everyone as known at the end of the window: best of ``runs`` of the SQL, and of the engine."""
    at = at_window_end()
    utc = at.astimezone(UTC)
    parameters = {
        "at": utc.strftime("%Y-%m-%d %H:%M:%S.%f"),  # how SQLAlchemy stores a moment on SQLite
        "at_seconds": utc.strftime("%Y-%m-%d %H:%M:%S"),  # how SQLite's datetime() writes one
    }
    chosen = [registry.get("SN02"), registry.get("SN06")]
    engine = make_engine(url)
    try:
        sql_times, engine_times = [], []
        by_sql: set[tuple[str, str]] = set()
        by_engine: set[tuple[str, str]] = set()
        for _ in range(runs):
            with engine.connect() as connection:
                started = time.perf_counter()
                by_sql = {("SN02", k) for (k,) in connection.exec_driver_sql(SN02_SQL, parameters)}
                by_sql |= {("SN06", k) for (k,) in connection.exec_driver_sql(SN06_SQL, parameters)}
                sql_times.append(time.perf_counter() - started)
            with unit_of_work(engine) as session:
                started = time.perf_counter()
                directory = Directory.load(session)
                trust = trust_people(session, at)
                reads = read_by_rules() or {}
                needed = {kind: reads[kind] for kind in SQL_KINDS}
                by_engine = set()
                for offset in range(0, len(trust), 2000):
                    for history in load_span(session, directory, trust[offset : offset + 2000], needed).values():
                        evaluation = rules.evaluate(history.as_known_at(at), chosen)
                        by_engine |= {(f.rule_id, f.key) for f in evaluation.findings}
                        assert not evaluation.failures, evaluation.failures
                engine_times.append(time.perf_counter() - started)
    finally:
        engine.dispose()
    return SqlRun(min(sql_times), min(engine_times), len(by_sql), by_sql == by_engine)


# --- incremental re-evaluation ----------------------------------------------------------------------------------------


def incremental_timings(url: str, nhs_number: str, runs: int) -> tuple[list[float], int]:
    """Seconds for the safety net's answer to one new fact about a person (``reconcile_touched``, as every unit of
    work runs it before committing), after a contact is recorded through the record's service; each run is rolled
    back, so the person keeps the same record. Also how many facts the person had."""
    engine = make_engine(url)
    timings: list[float] = []
    try:
        with Session(engine) as session:
            patient = session.scalars(select(Patient).where(Patient.nhs_number == nhs_number)).one()
            facts = sum(len(v) for v in load_history(session, patient.id).versions.values())
            now = datetime.now(UTC)
            for n in range(runs + 1):
                ctx = Context(session, READER, FixedClock(now), SeededIds(f"incremental-{n}"))
                contacts.record_contact(
                    ctx,
                    patient.id,
                    ContactIn(occurred_at=now - timedelta(hours=1), outcome="dna", mode="face_to_face"),
                )
                session.flush()
                started = time.perf_counter()
                runner.reconcile_touched(ctx)
                timings.append(time.perf_counter() - started)
                session.rollback()
    finally:
        engine.dispose()
    return timings[1:], facts  # the first run warms the caches


# --- one long record ----------------------------------------------------------------------------------------------


def long_story(nhs_number: str, facts: int) -> fmt.Scenario:
    """A person known to the service for years: contacts, depot doses, reviews, risk events learnt of late."""
    day = date(2019, 1, 7)
    events: list[dict[str, Any]] = [
        {"at": day, "type": "referral_accepted", "team": "Benchmark CMHT"},
        {"at": day, "type": "episode_start", "team": "Benchmark CMHT", "pathway": "cmht"},
        {"at": day, "type": "keyworker_assigned", "team": "Benchmark CMHT", "staff": "Benchmark Worker"},
        {"at": day, "type": "diagnosis", "code": "F20.0", "system": "icd10"},
        {"at": day, "type": "medication_start", "drug": "paliperidone", "route": "depot", "interval_days": 28},
    ]
    n = 0
    while len(events) < facts:
        n += 1
        day += timedelta(days=1 + n % 2)
        moment = datetime.combine(day, datetime.min.time(), LONDON).replace(hour=10)
        common = {"at": moment, "team": "Benchmark CMHT", "by": "Benchmark Worker"}
        if n % 14 == 0:
            events.append(common | {"type": "depot_given", "drug": "paliperidone"})
        elif n % 45 == 0:
            factors = {"violence_to_others": "present", "self_harm": "absent"}
            events.append(common | {"type": "risk_assessment", "factors": factors, "safety_plan": True})
        elif n % 31 == 0:
            learnt = moment + timedelta(days=10)
            events.append(
                common
                | {"type": "risk_event", "recorded": learnt, "category": "threats", "harm": "none"}
                | {"source": "police", "description": "Threats reported by a neighbour"}
            )
        else:
            outcome = "dna" if n % 5 == 0 else "attended"
            events.append(common | {"type": "contact", "outcome": outcome, "mode": "face_to_face"})
    patient = {"nhs_number": nhs_number, "name": "Benchmark Long Record", "born": date(1980, 5, 5), "sex": "female"}
    return fmt.parse({"id": "benchmark-long-record", "title": "long", "patient": patient, "events": events})


def unused_nhs_number(url: str) -> str:
    """A valid NHS number nobody in the database has."""
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            taken = set(session.scalars(select(Patient.nhs_number)))
    finally:
        engine.dispose()
    for body in range(999_999_999, 0, -1):
        total = sum(int(d) * w for d, w in zip(f"{body:09d}", range(10, 1, -1), strict=True))
        check = (11 - total % 11) % 11
        if check != 10 and (number := f"{body:09d}{check}") not in taken:
            return number
    raise RuntimeError("no NHS number left")


def add_long_record(url: str, facts: int) -> tuple[str, datetime]:
    """Load the long record next to the trust; its NHS number and a moment halfway through it."""
    scenario = long_story(unused_nhs_number(url), facts)
    engine = make_engine(url)
    try:
        with unit_of_work(engine) as session:
            loader.load(session, scenario, ids=SeededIds(f"benchmark-{scenario.patient.nhs_number}"))
    finally:
        engine.dispose()
    first, last = scenario.events[0].at, scenario.events[-1].at
    return scenario.patient.nhs_number, first + (last - first) / 2


def chart_timings(url: str, nhs_number: str, at: datetime | None, runs: int) -> tuple[list[float], int]:
    """Seconds per ``chart`` + ``chart_as_dict``, and how many facts the chart held (rolled back: no audit kept)."""
    engine = make_engine(url)
    timings: list[float] = []
    try:
        with Session(engine) as session:
            ctx = Context(session, READER, FixedClock(datetime.now(UTC)), SeededIds("reads"))
            count = 0
            for _ in range(runs + 1):
                start = time.perf_counter()
                record = chart_as_dict(chart(ctx, nhs_number, at))
                timings.append(time.perf_counter() - start)
                count = record["fact_count"]
            session.rollback()
    finally:
        engine.dispose()
    return timings[1:], count  # the first run warms the caches


def cli_timings(url: str, nhs_number: str, at: str | None, runs: int) -> list[float]:
    command = [str(SAFETYNET), "patient", "show", nhs_number, "--format", "json"]
    command += ["--as-known-at", at] if at else []
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, env=os.environ | {"SAFETYNET_DATABASE_URL": url}, check=True, capture_output=True)
        timings.append(time.perf_counter() - start)
    return timings


# --- the run -------------------------------------------------------------------------------------------------------


def measure(quick: bool, patients: tuple[int, ...] | None = None) -> Report:
    sizes = QUICK if quick else FULL
    if patients:
        sizes = replace(sizes, synth=patients)
    if not SAFETYNET.exists():
        raise SystemExit(f"{SAFETYNET} not found: run `make setup` first")
    report = Report()
    with tempfile.TemporaryDirectory(prefix="safetynet-bench-") as tmp:
        folder = Path(tmp)
        runs = []
        for patients in sorted(sizes.synth, reverse=True):
            print(f"synth {patients:,} people ...", flush=True)
            runs.append(synth(folder, patients))
            _synth_rows(report, runs[-1][0])
        for _, url in runs[:-1]:
            Path(url.removeprefix("sqlite:///")).unlink()  # gigabytes; only the smallest trust is used again
        biggest, (host, url) = runs[0][0], runs[-1]

        print(f"bulk and services, {sizes.loader:,} people ...", flush=True)
        _, loader_rate = events_per_second(folder, sizes.loader, "loader")
        _, bulk_rate = events_per_second(folder, sizes.loader, "bulk")
        report.add(
            f"events written through the services (scenario loader), {sizes.loader:,} people", f"{loader_rate:,.0f}/s"
        )
        report.add(f"events written in bulk, the same {sizes.loader:,} people, one process", f"{bulk_rate:,.0f}/s")
        report.add(
            f"events written in bulk by synth, {biggest.patients:,} people", f"{biggest.facts / biggest.seconds:,.0f}/s"
        )
        report.add("bulk over services, the same people", f"{bulk_rate / loader_rate:.0f} times as fast")

        print(f"rules batch, {host.patients:,} people ...", flush=True)
        run = rules_batch(url)
        report.add(
            f"rules batch, all watch rules ({run.people:,} people), {run.workers} processes",
            f"{run.people / run.seconds:,.0f} people/s ({run.seconds:.1f} s)",
            ">= 10,000 people/s (issue 3)",
            run.people / run.seconds >= 10_000,
        )
        report.add(
            "rules batch, the same in one process",
            f"{run.people / run.one_process:,.0f} people/s (read {run.load:.1f} s, evaluate {run.evaluate:.1f} s)",
        )

        print("SN02 + SN06: the engine against hand-written SQL ...", flush=True)
        baseline = sql_baseline(url, sizes.sql_runs)
        ratio = baseline.engine_seconds / baseline.sql_seconds
        report.add(
            f"SN02 + SN06 over {host.patients:,} people: hand-written SQL in SQLite (best of {sizes.sql_runs})",
            f"{ms(baseline.sql_seconds)} ({baseline.findings:,} findings)",
        )
        report.add(
            "SN02 + SN06: the engine (reading the four kinds they need, one process), against that SQL",
            f"{ms(baseline.engine_seconds)}, {ratio:.1f} times the SQL's time; "
            f"findings {'identical' if baseline.agree else 'DIFFERENT'}",
            "within 3x (issue 3)",
            ratio <= 3 and baseline.agree,
        )

        print(f"incremental re-evaluation, {sizes.incremental_facts:,} facts ...", flush=True)
        nhs_500, _ = add_long_record(url, sizes.incremental_facts)
        timings, count = incremental_timings(url, nhs_500, sizes.incremental_runs)
        report.add(
            f"incremental re-evaluation after one new fact, a person with {count:,} facts ({len(timings)} runs)",
            median_p95(timings),
            "p95 ≤ 20 ms (issue 3)",
            percentile(timings, 0.95) <= 0.020,
        )

        print(f"patient show, {sizes.long_facts:,} facts ...", flush=True)
        nhs_number, past = add_long_record(url, sizes.long_facts)
        past_text = past.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        for label, at, at_text in (("as known now", None, None), ("as known at a past moment", past, past_text)):
            timings, count = chart_timings(url, nhs_number, at, sizes.runs)
            report.add(
                f"patient show, {count:,} facts, {label}: chart + JSON in-process, in a trust of {host.patients:,}",
                median_p95(timings),
                '≤ 500 ms (CDS Hooks\' "about 500 ms")',
                statistics.median(timings) <= 0.5,
            )
            timings = cli_timings(url, nhs_number, at_text, sizes.cli_runs)
            report.add(
                f"patient show, {label}: `safetynet patient show --format json`, the whole command",
                f"median {ms(statistics.median(timings))} ({len(timings)} runs)",
            )
    return report


def _synth_rows(report: Report, run: SynthRun) -> None:
    target = run.patients == TARGET_PEOPLE
    report.add(
        f"synth {run.patients:,} people (SQLite): wall time",
        f"{run.seconds:.0f} s for {run.facts:,} facts",
        f"≤ {TARGET_SECONDS} s" if target else "",
        run.seconds <= TARGET_SECONDS if target else None,
    )
    report.add(
        f"synth {run.patients:,} people (SQLite): peak memory, all processes",
        f"{run.process_tree / GiB:.2f} GiB (largest process {run.largest_process / GiB:.2f} GiB)",
        "≤ 4 GiB" if target else "",
        run.process_tree <= TARGET_MEMORY if target else None,
    )
