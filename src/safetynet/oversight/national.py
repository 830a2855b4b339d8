"""The national tier: pseudonymised provider extracts, the national DuckDB database, and the engines indicators run on.

An extract is a directory: one Parquet file per extract-schema table (``oversight.schema``) and ``manifest.json``
(schema version, provider, period, as-known-at moment, rows and SHA-256 of every file). People are pseudonymised
with a keyed HMAC-SHA256 of their NHS number, with a key the national body holds (``SAFETYNET_NATIONAL_KEY`` or
``SAFETYNET_NATIONAL_KEY_FILE``), so one person has one pseudonym at every provider; staff and fact identifiers are
keyed hashes too. There are no names, addresses, free text or dates of birth in the schema at all.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from safetynet.oversight import schema

MANIFEST = "manifest.json"
KEY_ENV = "SAFETYNET_NATIONAL_KEY"
KEY_FILE_ENV = "SAFETYNET_NATIONAL_KEY_FILE"
DB_ENV = "SAFETYNET_NATIONAL_DB"
DEFAULT_DB = "var/national.duckdb"
ODS = re.compile(r"^[A-Z0-9]{3,6}$")
PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
MIN_KEY_BYTES = 16


class NationalError(Exception):
    """A refused extract, key or request: the message says what is wrong; nothing was written."""


# --- the key and pseudonyms --------------------------------------------------------------------------------------


def national_key(environ: dict[str, str] | None = None) -> bytes:
    env = os.environ if environ is None else environ
    if env.get(KEY_ENV):
        key = env[KEY_ENV].encode()
    elif env.get(KEY_FILE_ENV):
        path = Path(env[KEY_FILE_ENV])
        if not path.is_file():
            raise NationalError(f"{KEY_FILE_ENV} names {path}, which is not a file")
        key = path.read_bytes().strip()
    else:
        raise NationalError(f"No pseudonymisation key: set {KEY_ENV} or {KEY_FILE_ENV} (the national body's key).")
    if len(key) < MIN_KEY_BYTES:
        raise NationalError(f"The pseudonymisation key is too short: at least {MIN_KEY_BYTES} bytes.")
    return key


def person_pseudonym(key: bytes, nhs_number: str) -> str:
    """The same person, the same pseudonym, at every provider (the key never leaves the national body)."""
    return hmac.new(key, f"nhs:{nhs_number}".encode(), hashlib.sha256).hexdigest()


def id_pseudonym(key: bytes, provider: str, kind: str, value: str) -> str:
    return hmac.new(key, f"{kind}:{provider}:{value}".encode(), hashlib.sha256).hexdigest()[:32]


# --- writing an extract from a trust database --------------------------------------------------------------------


@dataclass(frozen=True)
class ExtractResult:
    directory: Path
    provider: str
    period: str
    rows: dict[str, int]


def write_extract(url: str, provider: str, period: str, out: Path, key: bytes, now: datetime) -> ExtractResult:
    """Write the pseudonymised extract of the trust database at ``url`` for ``period`` (as known at the end of its
    last day) into directory ``out`` (created; must be empty)."""
    from safetynet.oversight import trustviews

    first, last = _period(period)
    if out.exists() and any(out.iterdir()):
        raise NationalError(f"{out} is not empty: an extract needs a directory of its own.")
    con = trustviews.connect(url)
    try:
        views = trustviews.TrustViews(con, trustviews.end_of_month(last), first, last)
        if views.provider != provider:
            raise NationalError(f"This database is provider {views.provider}, not {provider}.")
        patients = con.table("patients").select("id", "nhs_number").to_pyarrow().to_pylist()
        nhs = {row["id"]: row["nhs_number"] for row in patients}
        tables = {name: con.to_pyarrow(table) for name, table in views.tables().items()}
    finally:
        con.disconnect()
    tables = {name: _pseudonymise(table, name, key, provider, nhs) for name, table in tables.items()}
    as_known_at = trustviews.end_of_month(last).isoformat()
    return write_directory(out, provider, period, as_known_at, tables, now)


def write_directory(
    out: Path, provider: str, period: str, as_known_at: str, tables: dict[str, Any], now: datetime
) -> ExtractResult:
    """Write already-pseudonymised extract-schema tables (Arrow) and their manifest into ``out``."""
    import pyarrow.parquet as pq

    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, Any] = {}
    for name, table in tables.items():
        table = table.cast(schema.arrow_schema(name))
        path = out / f"{name}.parquet"
        pq.write_table(table, path)
        files[name] = {"file": path.name, "rows": table.num_rows, "sha256": _sha256(path)}
    manifest = {
        "schema_version": schema.SCHEMA_VERSION,
        "provider": provider,
        "period": period,
        "as_known_at": as_known_at,
        "written_at": now.astimezone(UTC).isoformat(),
        "tables": files,
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return ExtractResult(out, provider, period, {n: f["rows"] for n, f in files.items()})


def _pseudonymise(table: Any, name: str, key: bytes, provider: str, nhs: dict[str, str]) -> Any:
    import pyarrow as pa

    for column in table.column_names:
        if column not in schema.ID_COLUMNS:
            continue
        values = table.column(column).to_pylist()
        if column == "person":
            hashed = [None if v is None else person_pseudonym(key, nhs[v]) for v in values]
        else:
            kind = "staff" if column == "staff" else name if column == "review" else column
            hashed = [None if v is None else id_pseudonym(key, provider, kind, v) for v in values]
        table = table.set_column(table.column_names.index(column), column, pa.array(hashed, pa.string()))
    return table


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _period(period: str) -> tuple[date, date]:
    if not PERIOD.match(period):
        raise NationalError(f"{period!r} is not a period (use YYYY-MM).")
    return schema.parse_period(period)


# --- the national database ---------------------------------------------------------------------------------------

NATIONAL_TABLES = tuple(name for name in schema.TABLES if name != "calendar")


def database_path(path: str | Path | None = None) -> Path:
    return Path(path or os.environ.get(DB_ENV) or DEFAULT_DB)


def _ensure_schema(con: Any) -> None:
    types = {"string": "VARCHAR", "int64": "BIGINT", "boolean": "BOOLEAN"}
    for name in NATIONAL_TABLES:
        columns = ", ".join(f'"{c.name}" {types[c.type]}' for c in schema.TABLES[name].columns)
        con.execute(f'CREATE TABLE IF NOT EXISTS "{name}" ({columns}, "period" VARCHAR NOT NULL)')
    con.execute(
        "CREATE TABLE IF NOT EXISTS extracts (provider VARCHAR NOT NULL, period VARCHAR NOT NULL, "
        "schema_version VARCHAR NOT NULL, ingested_at VARCHAR NOT NULL, manifest VARCHAR NOT NULL, "
        "PRIMARY KEY (provider, period))"
    )


@dataclass(frozen=True)
class IngestResult:
    provider: str
    period: str
    rows: dict[str, int]


def validate(directory: Path) -> dict[str, Any]:
    """Check an extract without loading it: the manifest, every file's checksum, rows and columns. Returns the
    manifest; raises ``NationalError`` listing every problem."""
    import pyarrow.parquet as pq

    problems: list[str] = []
    path = directory / MANIFEST
    if not path.is_file():
        raise NationalError(f"{directory}: no {MANIFEST}; this is not an extract.")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise NationalError(f"{path}: not valid JSON ({exc}).") from None
    if not isinstance(manifest, dict):
        raise NationalError(f"{path}: not a manifest object.")
    if manifest.get("schema_version") != schema.SCHEMA_VERSION:
        problems.append(f"schema version {manifest.get('schema_version')!r}, expected {schema.SCHEMA_VERSION!r}")
    if not isinstance(manifest.get("provider"), str) or not ODS.match(manifest["provider"]):
        problems.append(f"provider {manifest.get('provider')!r} is not an ODS code")
    if not isinstance(manifest.get("period"), str) or not PERIOD.match(manifest["period"]):
        problems.append(f"period {manifest.get('period')!r} is not YYYY-MM")
    files = manifest.get("tables")
    if not isinstance(files, dict):
        problems.append("no table list")
        files = {}
    for name in NATIONAL_TABLES:
        entry = files.get(name)
        if not isinstance(entry, dict):
            problems.append(f"{name}: missing from the manifest")
            continue
        file = directory / str(entry.get("file", ""))
        if not file.is_file() or file.parent != directory:
            problems.append(f"{name}: file {entry.get('file')!r} missing")
            continue
        if _sha256(file) != entry.get("sha256"):
            problems.append(f"{name}: checksum does not match the manifest (file altered or truncated)")
            continue
        try:
            metadata = pq.read_metadata(file)
            found = pq.read_schema(file)
        except Exception as exc:  # pyarrow raises several types for a damaged file
            problems.append(f"{name}: not a readable Parquet file ({exc})")
            continue
        if metadata.num_rows != entry.get("rows"):
            problems.append(f"{name}: {metadata.num_rows} rows, the manifest says {entry.get('rows')}")
        expected = schema.arrow_schema(name)
        if [(f.name, str(f.type)) for f in found] != [(f.name, str(f.type)) for f in expected]:  # type: ignore[attr-defined]
            problems.append(f"{name}: columns {found.names} do not match the extract schema")
    unknown = sorted(set(files) - set(schema.TABLES))
    if unknown:
        problems.append(f"unexpected tables {unknown}")
    if problems:
        raise NationalError(f"{directory}: refused:\n  - " + "\n  - ".join(problems))
    return manifest


def ingest(directory: Path, db: Path, now: datetime) -> IngestResult:
    """Validate an extract and load it into the national database in one transaction: all of it or nothing. A
    provider's period already loaded is refused."""
    import duckdb

    manifest = validate(directory)
    provider, period = manifest["provider"], manifest["period"]
    db.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(db))
    try:
        _ensure_schema(con)
        existing = con.execute(
            "SELECT ingested_at FROM extracts WHERE provider = ? AND period = ?", [provider, period]
        ).fetchone()
        if existing:
            raise NationalError(
                f"{directory}: refused: provider {provider} period {period} was already loaded ({existing[0]})."
            )
        rows: dict[str, int] = {}
        con.execute("BEGIN TRANSACTION")
        try:
            for name in NATIONAL_TABLES:
                file = str(directory / manifest["tables"][name]["file"])
                columns = ", ".join(f'"{c.name}"' for c in schema.TABLES[name].columns)
                # The file's own rows, not the table's: other providers' extracts for this period are there too.
                wrong = con.execute(
                    "SELECT count(*) FROM read_parquet(?) WHERE provider IS DISTINCT FROM ?", [file, provider]
                ).fetchone()
                if wrong and wrong[0]:
                    raise NationalError(
                        f"{directory}: refused: {name} holds {wrong[0]} rows of another provider than {provider}."
                    )
                con.execute(
                    f'INSERT INTO "{name}" ({columns}, "period") SELECT {columns}, ? FROM read_parquet(?)',
                    [period, file],
                )
                rows[name] = manifest["tables"][name]["rows"]
            con.execute(
                "INSERT INTO extracts VALUES (?, ?, ?, ?, ?)",
                [provider, period, manifest["schema_version"], now.astimezone(UTC).isoformat(), json.dumps(manifest)],
            )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    finally:
        con.close()
    return IngestResult(provider, period, rows)


def loaded(db: Path) -> list[tuple[str, str]]:
    import duckdb

    if not db.exists():
        return []
    con = duckdb.connect(str(db), read_only=True)
    try:
        return [(p, q) for p, q in con.execute("SELECT provider, period FROM extracts ORDER BY 1, 2").fetchall()]
    except duckdb.CatalogException:
        return []
    finally:
        con.close()


# --- engines -----------------------------------------------------------------------------------------------------


def parquet_tables(con: Any, directory: Path, period: str | None = None) -> dict[str, Any]:
    """Extract-schema tables read from Parquet in ``directory`` (``<table>.parquet`` files or folders of them),
    with the calendar of ``period`` (default: the manifest's, else the calendar file there)."""
    tables: dict[str, Any] = {}
    for name in NATIONAL_TABLES:
        path = directory / f"{name}.parquet"
        if not path.exists():
            path = directory / name
        tables[name] = con.read_parquet(str(path), table_name=f"sn_{name}")
    tables["calendar"] = _calendar(con, directory, period)
    return tables


def _calendar(con: Any, directory: Path, period: str | None) -> Any:
    import ibis

    if period is None:
        manifest = directory / MANIFEST
        if manifest.is_file():
            period = json.loads(manifest.read_text(encoding="utf-8"))["period"]
    if period is None:
        return con.read_parquet(str(directory / "calendar.parquet"), table_name="sn_calendar")
    first, last = schema.parse_period(period)
    return con.create_table("sn_calendar", ibis.memtable(schema.calendar_arrow(first, last)), overwrite=True)


def national_tables(con: Any, period: str) -> dict[str, Any]:
    """The national database's tables (an Ibis DuckDB connection to it) for one period, with its calendar."""
    import ibis

    _period(period)
    tables = {}
    for name in NATIONAL_TABLES:
        table = con.table(name)
        tables[name] = table.filter(table.period == period).drop("period")
    first, last = schema.parse_period(period)
    tables["calendar"] = ibis.memtable(schema.calendar_arrow(first, last))
    return tables


def provider_units(db: Path, period: str, indicator_id: str) -> list[Any]:
    """Each provider's numerator and denominator of a proportion indicator in one period of the national
    database, summed over its teams: the units of a funnel plot across providers (``funnel.Unit``, named by ODS
    code). Providers with no denominator are left out (a funnel cannot place them)."""
    import ibis
    import pandas as pd

    from safetynet.oversight.funnel import Unit
    from safetynet.oversight.indicators import Unit as Measure
    from safetynet.oversight.indicators import catalogue, run

    indicators = catalogue()
    if indicator_id not in indicators:
        raise NationalError(f"No indicator {indicator_id!r}")
    if indicators[indicator_id].unit is not Measure.PERCENT:
        raise NationalError(f"{indicator_id} is not a proportion: a funnel plot needs a numerator out of a denominator")
    _period(period)
    if not db.exists():
        raise NationalError(f"No national database at {db}: run `safetynet national ingest`.")
    con = ibis.duckdb.connect(str(db), read_only=True)
    try:
        frame = run(national_tables(con, period), con, only=[indicator_id])
    finally:
        con.disconnect()
    totals: dict[str, list[int]] = {}
    for row in frame.to_dict("records"):
        denominator = row["denominator"]
        total = totals.setdefault(str(row["provider"]), [0, 0])
        total[0] += int(row["numerator"])
        total[1] += 0 if pd.isna(denominator) else int(denominator)
    return [Unit(code, n, d, code) for code, (n, d) in sorted(totals.items()) if d > 0]


def export_period(db: Path, period: str, out: Path) -> None:
    """Write one period of the national database as Parquet (for Spark, which cannot read DuckDB files)."""
    import duckdb

    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(db), read_only=True)
    try:
        for name in NATIONAL_TABLES:
            columns = ", ".join(f'"{c.name}"' for c in schema.TABLES[name].columns)
            target = str(out / f"{name}.parquet").replace("'", "''")
            con.execute(
                f"COPY (SELECT {columns} FROM \"{name}\" WHERE period = ?) TO '{target}' (FORMAT PARQUET)", [period]
            )
    finally:
        con.close()


@contextmanager
def spark_session(partitions: int = 4) -> Iterator[Any]:
    """A local Spark session with its warehouse in a temporary folder and no UI (stopped afterwards)."""
    from pyspark.sql import SparkSession

    with tempfile.TemporaryDirectory(prefix="safetynet-spark-") as warehouse:
        session = (
            SparkSession.builder.master("local[2]")
            .appName("safetynet-national")
            .config("spark.sql.warehouse.dir", warehouse)
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", str(partitions))
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.driver.memory", "2g")
            .getOrCreate()
        )
        try:
            yield session
        finally:
            session.stop()


def spark_connect(session: Any) -> Any:
    import ibis

    return ibis.pyspark.connect(session)


def parse_checked_period(period: str) -> tuple[date, date]:
    """A ``YYYY-MM`` period's first and last day, or ``NationalError``."""
    return _period(period)
