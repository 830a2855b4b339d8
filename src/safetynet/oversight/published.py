"""NHS England's published MHSDS long-format files (community mental health 4-week waits) as a tidy table.

A file has the columns REPORTING_PERIOD_START, REPORTING_PERIOD_END (DD/MM/YYYY), STATUS, BREAKDOWN (England; ICB
of GP Practice or Residence; Provider), PRIMARY_LEVEL (an ODS code), PRIMARY_LEVEL_DESCRIPTION, SECONDARY_LEVEL,
SECONDARY_LEVEL_DESCRIPTION, MEASURE_ID, MEASURE_NAME and MEASURE_VALUE, where ``*`` marks a value NHS England
suppressed. The reporting period is a rolling quarter; we name it by the month it ends in (YYYY-MM), as the files
are named. Sub-national published counts are already rounded to 5 by NHS England.

``import_published`` loads every CSV of a directory into the ``mhsds_published`` table of the national DuckDB
database, one transaction; a period imported again is replaced. ``proportion`` reads one proportion measure (e.g.
MRS01b = MRS01a / MRS01) for one period and breakdown, as numerator and denominator per organisation.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from safetynet.oversight.disclosure import publish_rate
from safetynet.oversight.funnel import Unit
from safetynet.oversight.funnel_report import disclosed

TABLE = "mhsds_published"
COLUMNS = (
    "REPORTING_PERIOD_START",
    "REPORTING_PERIOD_END",
    "STATUS",
    "BREAKDOWN",
    "PRIMARY_LEVEL",
    "PRIMARY_LEVEL_DESCRIPTION",
    "SECONDARY_LEVEL",
    "SECONDARY_LEVEL_DESCRIPTION",
    "MEASURE_ID",
    "MEASURE_NAME",
    "MEASURE_VALUE",
)
PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")

# Proportion measures (percentages): numerator and denominator measure ids. Each was checked against the England
# figures of the April to July 2024 files (value = 100 x numerator / denominator).
PROPORTIONS: dict[str, tuple[str, str]] = {
    "MRS01b": ("MRS01a", "MRS01"),  # CMH referral-spells with a full clock stop within 4 weeks
    "MRS02b": ("MRS02a", "MRS02"),
    "MRS02d": ("MRS02c", "MRS02"),
    "MRS02f": ("MRS02e", "MRS02"),
    "MRS07b": ("MRS07a", "MRS03"),
    "MRS07d": ("MRS07c", "MRS03"),
    "MRS07f": ("MRS07e", "MRS03"),
    "MRS08b": ("MRS08a", "MRS08"),  # CYP referral-spells with a full clock stop within 4 weeks
    "MRS09b": ("MRS09a", "MRS09"),
    "MRS09d": ("MRS09c", "MRS09"),
    "MRS09f": ("MRS09e", "MRS09"),
    "MRS14b": ("MRS14a", "MRS10"),
    "MRS14d": ("MRS14c", "MRS10"),
    "MRS14f": ("MRS14e", "MRS10"),
}
BREAKDOWNS = {"provider": "Provider", "icb": "ICB of GP Practice or Residence", "england": "England"}


class PublishedError(Exception):
    """A file that is not an MHSDS long-format file, or a request the imported data cannot answer."""


@dataclass(frozen=True)
class ImportResult:
    files: int
    rows: int
    periods: tuple[str, ...]
    suppressed: int


@dataclass(frozen=True)
class Organisation:
    code: str
    name: str
    numerator: float | None  # None where NHS England suppressed it
    denominator: float | None


@dataclass(frozen=True)
class Proportion:
    measure: str
    measure_name: str
    numerator_measure: str
    denominator_measure: str
    period: str
    period_start: date
    period_end: date
    breakdown: str
    organisations: tuple[Organisation, ...]
    england: Organisation | None = None
    notes: tuple[str, ...] = field(default=())


def _header(path: Path) -> None:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        header = next(csv.reader(handle), [])
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise PublishedError(f"{path.name}: not an MHSDS long-format file (missing {', '.join(missing)})")


def _create(con: Any, table: str = TABLE) -> None:
    con.execute(
        f"""CREATE TABLE IF NOT EXISTS {table} (
            period VARCHAR NOT NULL, period_start DATE NOT NULL, period_end DATE NOT NULL, status VARCHAR,
            breakdown VARCHAR NOT NULL, primary_level VARCHAR NOT NULL, primary_level_description VARCHAR,
            secondary_level VARCHAR NOT NULL, secondary_level_description VARCHAR, measure_id VARCHAR NOT NULL,
            measure_name VARCHAR, value DOUBLE, suppressed BOOLEAN NOT NULL, source_file VARCHAR NOT NULL,
            PRIMARY KEY (period, breakdown, primary_level, secondary_level, measure_id))"""
    )


STAGE = """
CREATE TEMP TABLE incoming AS
SELECT try_strptime(REPORTING_PERIOD_START, '%d/%m/%Y')::DATE AS period_start,
       try_strptime(REPORTING_PERIOD_END, '%d/%m/%Y')::DATE AS period_end,
       STATUS AS status, BREAKDOWN AS breakdown, PRIMARY_LEVEL AS primary_level,
       PRIMARY_LEVEL_DESCRIPTION AS primary_level_description, SECONDARY_LEVEL AS secondary_level,
       SECONDARY_LEVEL_DESCRIPTION AS secondary_level_description, MEASURE_ID AS measure_id,
       MEASURE_NAME AS measure_name, trim(MEASURE_VALUE) AS raw_value,
       CASE WHEN trim(MEASURE_VALUE) = '*' THEN NULL ELSE TRY_CAST(trim(MEASURE_VALUE) AS DOUBLE) END AS value,
       trim(MEASURE_VALUE) = '*' AS suppressed, parse_filename(filename) AS source_file
FROM read_csv(?, all_varchar = true, header = true, filename = true)
"""


def import_published(directory: Path, database: Path) -> ImportResult:
    """Load every ``*.csv`` of ``directory`` into the national database, all or nothing."""
    import duckdb

    if not directory.is_dir():
        raise PublishedError(f"{directory} is not a directory")
    files = sorted(directory.glob("*.csv"))
    if not files:
        raise PublishedError(f"{directory} has no .csv files")
    for path in files:
        _header(path)
    con = duckdb.connect()  # staged and checked in memory: a refused import writes nothing
    try:
        con.execute(STAGE, [[str(f) for f in files]])
        bad = con.execute(
            """SELECT source_file, raw_value FROM incoming
               WHERE period_start IS NULL OR period_end IS NULL OR (NOT suppressed AND value IS NULL) LIMIT 1"""
        ).fetchone()
        if bad:
            raise PublishedError(
                f"{bad[0]}: a date that is not DD/MM/YYYY, or a MEASURE_VALUE {bad[1]!r} "
                "that is neither a number nor '*'"
            )
        clash = con.execute(
            """SELECT strftime(period_end, '%Y-%m') AS p, list(DISTINCT source_file ORDER BY source_file) FROM incoming
               GROUP BY p HAVING count(DISTINCT source_file) > 1 LIMIT 1"""
        ).fetchone()
        if clash:
            raise PublishedError(f"{' and '.join(clash[1])} both hold the period ending {clash[0]}")
        duplicate = con.execute(
            """SELECT source_file, period_end, breakdown, primary_level, secondary_level, measure_id FROM incoming
               GROUP BY ALL HAVING count(*) > 1 LIMIT 1"""
        ).fetchone()
        if duplicate:
            raise PublishedError(f"{duplicate[0]}: more than one value for {' / '.join(map(str, duplicate[1:]))}")
        periods = tuple(
            r[0]
            for r in con.execute("SELECT DISTINCT strftime(period_end, '%Y-%m') FROM incoming ORDER BY 1").fetchall()
        )
        rows, suppressed = con.execute("SELECT count(*), count(*) FILTER (suppressed) FROM incoming").fetchone()  # type: ignore[misc]
        database.parent.mkdir(parents=True, exist_ok=True)
        con.execute("ATTACH ? AS national", [str(database)])
        con.execute("BEGIN TRANSACTION")
        try:
            _create(con, f"national.{TABLE}")
            con.execute(
                f"DELETE FROM national.{TABLE} WHERE period IN (SELECT strftime(period_end, '%Y-%m') FROM incoming)"
            )
            con.execute(
                f"""INSERT INTO national.{TABLE}
                   SELECT strftime(period_end, '%Y-%m'), period_start, period_end, status, breakdown,
                       primary_level, primary_level_description, secondary_level, secondary_level_description,
                       measure_id, measure_name, value, suppressed, source_file FROM incoming"""
            )
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
    except duckdb.Error as exc:
        raise PublishedError(f"could not import {directory}: {exc}") from None
    finally:
        con.close()
    return ImportResult(files=len(files), rows=int(rows), periods=periods, suppressed=int(suppressed))


def periods(database: Path) -> list[str]:
    with _Connect(database) as con:
        return [r[0] for r in con.execute(f"SELECT DISTINCT period FROM {TABLE} ORDER BY period").fetchall()]


class _Connect:
    def __init__(self, database: Path) -> None:
        self.database = database

    def __enter__(self) -> Any:
        import duckdb

        if not self.database.exists():
            raise PublishedError(f"No national database at {self.database}: run `safetynet national import-published`.")
        self.con = duckdb.connect(str(self.database), read_only=True)
        tables = {r[0] for r in self.con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        if TABLE not in tables:
            self.con.close()
            raise PublishedError(
                f"No published MHSDS data in {self.database}: run `safetynet national import-published`."
            )
        return self.con

    def __exit__(self, *exc: object) -> None:
        self.con.close()


def proportion(database: Path, measure: str, period: str, breakdown: str = "provider") -> Proportion:
    """One proportion measure for one period, per organisation of the breakdown, from the imported files."""
    if measure not in PROPORTIONS:
        raise PublishedError(f"{measure} is not a proportion measure we know: one of {', '.join(PROPORTIONS)}")
    if not PERIOD.match(period):
        raise PublishedError(f"--period must be YYYY-MM, not {period!r}")
    if breakdown not in BREAKDOWNS:
        raise PublishedError(f"breakdown must be one of {', '.join(BREAKDOWNS)}")
    num_id, den_id = PROPORTIONS[measure]
    with _Connect(database) as con:
        rows = con.execute(
            f"""SELECT breakdown, primary_level, primary_level_description, measure_id, value, measure_name,
                       period_start, period_end
                FROM {TABLE} WHERE period = ? AND measure_id IN (?, ?, ?) AND secondary_level = 'NONE'
                  AND breakdown IN (?, 'England')
                ORDER BY primary_level""",
            [period, measure, num_id, den_id, BREAKDOWNS[breakdown]],
        ).fetchall()
    if not rows:
        raise PublishedError(
            f"No {measure} for the period ending {period}: "
            f"imported periods are {', '.join(periods(database)) or 'none'}"
        )
    values: dict[tuple[str, str], dict[str, float | None]] = {}
    names: dict[tuple[str, str], str] = {}
    measure_name = ""
    for kind, code, name, measure_id, value, mname, _start, _end in rows:
        values.setdefault((kind, code), {})[measure_id] = value
        names[(kind, code)] = name
        if measure_id == measure:
            measure_name = mname
    start, end = rows[0][6], rows[0][7]

    def organisation(key: tuple[str, str]) -> Organisation:
        v = values[key]
        return Organisation(code=key[1], name=names[key], numerator=v.get(num_id), denominator=v.get(den_id))

    label = BREAKDOWNS[breakdown]
    return Proportion(
        measure=measure,
        measure_name=measure_name,
        numerator_measure=num_id,
        denominator_measure=den_id,
        period=period,
        period_start=start,
        period_end=end,
        breakdown=label,
        organisations=tuple(organisation(k) for k in sorted(values) if k[0] == label and label != "England"),
        england=organisation(("England", "England")) if ("England", "England") in values else None,
    )


def funnel_report(data: Proportion, *, adjust: bool = True) -> dict[str, Any]:
    """The funnel of a published proportion under disclosure control (``oversight.funnel_report``): every
    organisation with both figures published by NHS England is in the funnel."""
    placed = [
        Unit(o.code, o.numerator, o.denominator, o.name)
        for o in data.organisations
        if o.numerator is not None and o.denominator
    ]
    missing = len(data.organisations) - len(placed)
    if len(placed) < 3:
        raise ValueError(f"only {len(placed)} organisations have both figures published: too few for a funnel")
    shown, figures = disclosed(placed, adjust=adjust)
    england = data.england
    return {
        "measure": data.measure,
        "measure_name": data.measure_name,
        "numerator": data.numerator_measure,
        "denominator": data.denominator_measure,
        "period": data.period,
        "period_start": data.period_start.isoformat(),
        "period_end": data.period_end.isoformat(),
        "breakdown": data.breakdown,
        "england_percent": (
            publish_rate(england.numerator, england.denominator, national=True, decimals=2)
            if england and england.numerator is not None and england.denominator
            else None
        ),
        "organisations": len(data.organisations),
        "not_published_by_nhs_england": missing,
        **figures,
        "_shown": shown,
    }
