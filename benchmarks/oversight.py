"""The national tier: synthetic population, extract size, indicators on DuckDB (Ibis) against hand-written DuckDB
SQL on the same Parquet files, and Spark local (section ``oversight``).

    python -m benchmarks.run --section oversight            # 2,000,000 people (~60,000,000 contacts); Spark at 200,000
    python -m benchmarks.run --section oversight --quick    # 20,000 people; Spark at 5,000

1. ``oversight.synth_national.generate``: wall time and Parquet size.
2. The whole indicator suite through Ibis on DuckDB, reading the Parquet files (best of 3).
3. The same five indicators (DNA01, MHS78/79/80 as one, KW01, DIS01, SMI01) as hand-written DuckDB SQL and through
   Ibis, on the same files in the same run (best of 3 each): the ratio is the one the target is about.
4. The suite on Spark local (one session, started before timing) on a smaller population.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import ibis

from benchmarks.report import Report
from safetynet.oversight import national
from safetynet.oversight.indicators import run
from safetynet.oversight.synth_national import generate

TITLE = "Oversight: the national tier"
INTRO = (
    "A national synthetic population in the extract schema, written straight to Parquet; the indicator suite on "
    "DuckDB through Ibis, against the same indicators hand-written in DuckDB SQL on the same files, and on Spark "
    "local."
)
PERIOD = "2024-06"
COMPARED = ["DNA01", "MHS80", "KW01", "DIS01", "SMI01"]


def _best(action: Callable[[], object], runs: int = 3) -> float:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return min(timings)


def hand_written(directory: Path) -> list[str]:
    """The compared indicators in plain DuckDB SQL (same definitions, written by hand)."""
    p = {name: f"read_parquet('{directory / (name + '.parquet')}')" for name in national.NATIONAL_TABLES}
    cal = f"read_parquet('{directory / 'calendar.parquet'}')"
    months = f"(SELECT month, max(day) AS last FROM {cal} WHERE reporting GROUP BY month)"
    return [
        f"""SELECT c.provider, c.team, k.month, sum(CASE WHEN attend_code = '3' THEN 1 ELSE 0 END), count(*)
            FROM {p["contacts"]} c JOIN {cal} k ON k.day = c.day AND k.reporting
            WHERE attend_code IN ('3','5','6','7') GROUP BY ALL""",
        f"""WITH d AS (
              SELECT a.provider, a.ward AS team, a.person, a.admission, a.discharged_day, k.month
              FROM {p["admissions"]} a JOIN {cal} k ON k.day = a.discharged_day + 4 AND k.reporting
              LEFT JOIN {p["people"]} pe ON pe.provider = a.provider AND pe.person = a.person
              WHERE a.discharged_day IS NOT NULL AND a.adult_acute
                AND (pe.died_day IS NULL OR pe.died_day - a.discharged_day > 3)),
            e AS (SELECT provider, person, day FROM {p["contacts"]} WHERE attend_code IN ('5','6') AND direct
                  UNION SELECT provider, person, admitted_day FROM {p["admissions"]})
            SELECT provider, team, month, count(*) FILTER (WHERE EXISTS (
                SELECT 1 FROM e WHERE e.provider = d.provider AND e.person = d.person
                  AND e.day > d.discharged_day AND e.day <= d.discharged_day + 3)), count(*)
            FROM d GROUP BY ALL""",
        f"""WITH o AS (SELECT e.*, m.month, m.last FROM {p["episodes"]} e JOIN {months} m
                       ON e.start_day <= m.last AND (e.end_day IS NULL OR e.end_day > m.last)
                       WHERE e.pathway <> 'inpatient')
            SELECT provider, team, month, count(*) FILTER (WHERE EXISTS (
                SELECT 1 FROM {p["key_workers"]} k WHERE k.provider = o.provider AND k.episode = o.episode
                  AND k.start_day <= o.last AND (k.end_day IS NULL OR k.end_day > o.last))), count(*)
            FROM o GROUP BY ALL""",
        f"""SELECT e.provider, e.team, k.month,
                   sum(CASE WHEN discharge_reason IN ('non_attendance','disengaged') THEN 1 ELSE 0 END), count(*)
            FROM {p["episodes"]} e JOIN {cal} k ON k.day = e.end_day AND k.reporting
            WHERE e.pathway <> 'inpatient' GROUP BY ALL""",
        f"""WITH c AS (SELECT DISTINCT e.provider, e.team, m.month, e.person, m.last
                       FROM {p["episodes"]} e JOIN {months} m
                       ON e.start_day <= m.last AND (e.end_day IS NULL OR e.end_day > m.last)
                       WHERE e.pathway IN ('eip','cmht','assertive_outreach'))
            SELECT provider, team, month, count(*) FILTER (WHERE EXISTS (
                SELECT 1 FROM {p["risk_reviews"]} r WHERE r.provider = c.provider AND r.person = c.person
                  AND r.formulation AND r.safety_plan AND r.day <= c.last AND r.day > c.last - 182)), count(*)
            FROM c GROUP BY ALL""",
    ]


def measure(quick: bool) -> Report:
    report = Report()
    people, providers, spark_people = (20_000, 5, 5_000) if quick else (2_000_000, 50, 200_000)
    with tempfile.TemporaryDirectory(prefix="safetynet-bench-national-") as scratch:
        directory = Path(scratch) / "national"
        started = time.perf_counter()
        result = generate(directory, providers=providers, patients=people, period=PERIOD)
        took = time.perf_counter() - started
        report.add(
            f"national synthetic population, {people:,} people, {providers} providers: generation",
            f"{took:.1f} s ({result.rows['contacts']:,} contacts, {sum(result.rows.values()):,} rows)",
        )
        report.add("extract size (Parquet, all tables)", f"{result.bytes / 1e6:.1f} MB")

        con = ibis.duckdb.connect()
        tables = national.parquet_tables(con, directory, PERIOD)
        suite = _best(lambda: run(tables, con))
        report.add(
            f"indicator suite, {len(run(tables, con).indicator.unique())} indicators, DuckDB via Ibis", f"{suite:.2f} s"
        )

        ibis_time = _best(lambda: run(tables, con, only=COMPARED))
        raw = duckdb.connect()
        queries = hand_written(directory)
        sql_time = _best(lambda: [raw.execute(q).fetchall() for q in queries])
        ratio = ibis_time / sql_time
        report.add(
            f"{', '.join(COMPARED)}: Ibis on DuckDB / hand-written DuckDB SQL",
            f"{ibis_time:.2f} s / {sql_time:.2f} s = {ratio:.2f}x",
            "<= 1.3x",
            ratio <= 1.3,
        )

        small = Path(scratch) / "spark"
        generate(small, providers=max(2, providers // 5), patients=spark_people, period=PERIOD)
        with national.spark_session() as session:
            spark = national.spark_connect(session)
            spark_tables = national.parquet_tables(spark, small, PERIOD)
            run(spark_tables, spark, only=["DNA01"])  # warm the JVM
            started = time.perf_counter()
            run(spark_tables, spark)
            report.add(
                f"indicator suite on Spark local, {spark_people:,} people", f"{time.perf_counter() - started:.1f} s"
            )
    report.notes.append(
        "The hand-written SQL covers five indicators (MHS78-80 as one query); Ibis runs the same five, one query each."
    )
    return report
