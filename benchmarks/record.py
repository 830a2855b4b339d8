"""The record and synth: the foundation's figures (section ``record``).

    python -m benchmarks.run --section record            # the real sizes: 100,000 and 10,000 people
    python -m benchmarks.run --section record --quick    # small sizes, a smoke check

1. ``safetynet synth`` into a fresh SQLite file, run as the user runs it (a subprocess): wall time, and peak memory
   both of the largest process and of the whole process tree (synth's workers included), sampled from /proc.
2. Events written per second in bulk and through the record services (the scenario loader), in this run.
3. ``patient show`` for a person with 2,000 facts, in a trust of other people: the chart read and turned into JSON
   in-process (median and p95 of many runs), and the real command line (a few runs), now and as known at a past
   moment.

The rules over a trust (the batch, SN02 and SN06 against SQL, incremental re-evaluation) are section ``rules``
(``benchmarks/rules.py``), which makes its own 10,000-person trust and runs alone in a few minutes.
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

from benchmarks.report import Report, median_p95, ms
from safetynet import migrations
from safetynet.core.clock import LONDON, FixedClock
from safetynet.core.context import Actor, Context, Role
from safetynet.core.db import make_engine, unit_of_work
from safetynet.core.ids import SeededIds
from safetynet.record.chart import chart, chart_as_dict
from safetynet.record.patients.models import Patient
from safetynet.scenarios import format as fmt
from safetynet.scenarios import loader
from safetynet.synth import trust

TITLE = "The record and synth"
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
    synth: tuple[int, ...]  # people in each synth run; the smallest trust hosts the long record
    loader: int  # people written both through the services and in bulk, for events/s
    long_facts: int  # facts in the long record
    runs: int  # in-process chart reads
    cli_runs: int  # command line runs


FULL = Sizes(synth=(100_000, 10_000), loader=500, long_facts=2_000, runs=50, cli_runs=5)
QUICK = Sizes(synth=(600, 200), loader=20, long_facts=300, runs=5, cli_runs=1)
TARGET_PEOPLE, TARGET_SECONDS, TARGET_MEMORY = 100_000, 180, 4 * GiB


# --- synth, as the user runs it --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SynthRun:
    patients: int
    facts: int
    seconds: float
    largest_process: int  # bytes
    process_tree: int  # bytes, sampled


def synth(folder: Path, patients: int, *options: str) -> tuple[SynthRun, str]:
    """``safetynet db upgrade`` then ``safetynet synth`` (with any further ``options``) into a fresh SQLite file; the
    run and the database URL."""
    url = f"sqlite:///{folder / f'synth-{patients}.db'}"
    env = os.environ | {"SAFETYNET_DATABASE_URL": url}
    subprocess.run([str(SAFETYNET), "db", "upgrade"], env=env, check=True, capture_output=True)
    command = [str(SAFETYNET), "synth", "--patients", str(patients), "--seed", "7", *options]
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
