"""Measure Safetynet's speed and memory and write docs/benchmarks.md.

    .venv/bin/python -m benchmarks.run            # full sizes (synth of 100,000 people: minutes)
    .venv/bin/python -m benchmarks.run --quick    # small sizes, a smoke check

Each figure is measured in this run, on this machine; ratios are taken between runs in the same process.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from safetynet import migrations
from safetynet.core.clock import LONDON, SystemClock
from safetynet.core.context import Actor, Context, Role
from safetynet.core.db import make_engine, unit_of_work
from safetynet.record.chart import chart, chart_as_dict
from safetynet.rules import engine
from safetynet.rules.facts import load_histories
from safetynet.scenarios import format as fmt
from safetynet.scenarios import loader

ROOT = Path(__file__).resolve().parents[1]
READER = Actor("Benchmark", Role.ADMINISTRATOR, purpose="benchmark")


def synth(patients: int, workdir: Path) -> dict[str, Any]:
    """`safetynet synth` in a child process: wall time and the child's peak resident memory."""
    url = f"sqlite:///{workdir / f'synth-{patients}.db'}"
    migrations.upgrade(url)
    env = {**os.environ, "SAFETYNET_DATABASE_URL": url}
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    subprocess.run(
        [str(Path(sys.executable).parent / "safetynet"), "synth", "--patients", str(patients), "--seed", "7"],
        env=env,
        check=True,
        capture_output=True,
    )
    seconds = time.perf_counter() - started
    peak_kb = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, before)
    return {"patients": patients, "seconds": seconds, "peak_mb": peak_kb / 1024, "url": url}


def rules_batch(url: str) -> dict[str, Any]:
    """All watch rules over everyone, as known at the end of the synthetic window."""
    engine_ = make_engine(url)
    at = datetime(2026, 10, 31, 23, tzinfo=LONDON)
    with unit_of_work(engine_) as session:
        started = time.perf_counter()
        histories = load_histories(session)
        loaded = time.perf_counter()
        for history in histories.values():
            engine.evaluate(history.as_known_at(at))
        done = time.perf_counter()
    engine_.dispose()
    people = len(histories)
    return {
        "people": people,
        "per_second": people / (done - started),
        "load_s": loaded - started,
        "evaluate_s": done - loaded,
    }


def long_story(facts: int) -> dict[str, Any]:
    """One person with about ``facts`` facts: contacts every few days for years, risk events, a depot."""
    events: list[dict[str, Any]] = [
        {"at": "2015-01-05", "type": "episode_start", "team": "CMHT North", "pathway": "cmht"},
        {"at": "2015-01-05", "type": "keyworker_assigned", "team": "CMHT North", "staff": "Jo Smith"},
        {
            "at": "2015-01-06",
            "type": "medication_start",
            "drug": "Aripiprazole LAI",
            "route": "depot",
            "interval_days": 28,
        },
    ]
    day = datetime(2015, 1, 7, 10, tzinfo=UTC)
    while len(events) < facts:
        n = len(events)
        when = day.strftime("%Y-%m-%dT%H:%M")
        if n % 10 == 0:
            events.append({"at": when, "type": "depot_given", "drug": "Aripiprazole LAI"})
        elif n % 25 == 0:
            events.append(
                {
                    "at": when,
                    "type": "risk_event",
                    "category": "self_harm",
                    "harm": "minor",
                    "source": "self",
                    "description": "Superficial cuts",
                }
            )
        else:
            events.append(
                {
                    "at": when,
                    "type": "contact",
                    "team": "CMHT North",
                    "outcome": "attended" if n % 7 else "dna",
                    "mode": "home_visit",
                }
            )
        day += timedelta(days=2)
    return {
        "id": "long",
        "title": "long",
        "events": events,
        "patient": {"nhs_number": "9990000018", "name": "Sam Example", "born": "1980-01-01"},
    }


def patient_show(workdir: Path, facts: int, runs: int) -> dict[str, Any]:
    url = f"sqlite:///{workdir / 'show.db'}"
    migrations.upgrade(url)
    engine_ = make_engine(url)
    with unit_of_work(engine_) as session:
        loader.load(session, fmt.parse(long_story(facts)))
    past = datetime(2020, 6, 1, tzinfo=UTC)
    timings: dict[str, list[float]] = {"now": [], "past": []}
    for _ in range(runs):
        for label, at in (("now", None), ("past", past)):
            with unit_of_work(engine_) as session:
                started = time.perf_counter()
                record = chart_as_dict(chart(Context(session, READER, SystemClock()), "9990000018", at))
                timings[label].append(time.perf_counter() - started)
    engine_.dispose()
    out = {"facts": record["fact_count"]}
    for label, values in timings.items():
        values.sort()
        out[label] = {
            "median_ms": 1000 * statistics.median(values),
            "p95_ms": 1000 * values[int(0.95 * (len(values) - 1))],
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="Small sizes: a smoke check.")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--patients", type=int, nargs="+", default=[10_000, 100_000], help="Synthetic trust sizes.")
    args = parser.parse_args()
    sizes = [200] if args.quick else args.patients
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        synths = [synth(n, workdir) for n in sizes]
        for s in synths:
            print(f"synth {s['patients']:>7} people: {s['seconds']:7.1f} s, peak {s['peak_mb']:7.0f} MB")
        batch = rules_batch(synths[0]["url"])
        print(
            f"rules batch over {batch['people']} people: {batch['per_second']:.0f} people/s "
            f"(load {batch['load_s']:.1f} s, evaluate {batch['evaluate_s']:.1f} s)"
        )
        show = patient_show(workdir, 300 if args.quick else 2000, 5 if args.quick else 50)
        print(
            f"patient show, {show['facts']} facts: now median {show['now']['median_ms']:.0f} ms "
            f"p95 {show['now']['p95_ms']:.0f} ms; as known at a past moment median {show['past']['median_ms']:.0f} ms "
            f"p95 {show['past']['p95_ms']:.0f} ms"
        )
    lines = [
        "# Benchmarks\n",
        "Written by `.venv/bin/python -m benchmarks.run` (`make bench`); figures from one run on this machine "
        f"({os.cpu_count()} cores, Python {platform.python_version()}, SQLite), {datetime.now(UTC):%Y-%m-%d}"
        f"{' (quick mode)' if args.quick else ''}. These machines are shared and noisy: compare figures from the "
        "same run.\n",
        "| benchmark | figure | target |",
        "|---|---|---|",
    ]
    for s in synths:
        target = "under 3 min and 4 GB" if s["patients"] == 100_000 else ""
        lines.append(
            f"| synth {s['patients']:,} people | {s['seconds']:.1f} s, peak {s['peak_mb']:.0f} MB | {target} |"
        )
    lines.append(
        f"| rules batch, all watch rules ({batch['people']:,} people) | {batch['per_second']:.0f} people/s | "
        ">= 10,000 people/s (issue 3) |"
    )
    for label, words in (("now", "as known now"), ("past", "as known at a past moment")):
        lines.append(
            f"| patient show, {show['facts']:,} facts, {words} | median {show[label]['median_ms']:.0f} ms, "
            f"p95 {show[label]['p95_ms']:.0f} ms | |"
        )
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
