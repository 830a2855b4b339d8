"""Ingest: a valid extract loads whole; a malformed or duplicate one is refused with a clear error and nothing
half-loaded. The key and the pseudonyms."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import ibis
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from safetynet.cli import app
from safetynet.oversight import national
from safetynet.oversight.indicators import run
from tests.oversight.tiny import d, tables

NOW = datetime(2024, 4, 2, 9, tzinfo=UTC)


def _extract(directory: Path, provider: str = "RXX", period: str = "2024-03") -> Path:
    rows = tables(
        period,
        contacts=[
            {
                "person": "p1",
                "contact": "c1",
                "team": "t",
                "day": d("2024-03-05"),
                "attend_code": "3",
                "direct": True,
                "provider": provider,
            },
            {
                "person": "p1",
                "contact": "c2",
                "team": "t",
                "day": d("2024-03-06"),
                "attend_code": "5",
                "direct": True,
                "provider": provider,
            },
        ],
        people=[{"person": "p1", "age_band": "25-34", "provider": provider}],
    )
    national.write_directory(directory, provider, period, "2024-03-31T23:59:59+01:00", rows, NOW)
    return directory


def _counts(db: Path) -> dict[str, int]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        counts = {}
        for name in (*national.NATIONAL_TABLES, "extracts"):
            row = con.execute(f'SELECT count(*) FROM "{name}"').fetchone()
            assert row is not None
            counts[name] = int(row[0])
        return counts
    finally:
        con.close()


def test_a_valid_extract_loads_and_its_indicators_run(tmp_path: Path) -> None:
    db = tmp_path / "national.duckdb"
    result = national.ingest(_extract(tmp_path / "x"), db, NOW)
    assert (result.provider, result.period) == ("RXX", "2024-03")
    assert _counts(db)["contacts"] == 2
    assert national.loaded(db) == [("RXX", "2024-03")]
    con = ibis.duckdb.connect(str(db), read_only=True)
    frame = run(national.national_tables(con, "2024-03"), con, only=["DNA01"])
    assert frame.to_dict("records") == [
        {"indicator": "DNA01", "provider": "RXX", "team": "t", "month": "2024-03", "numerator": 1, "denominator": 2}
    ]


def test_a_duplicate_extract_is_refused_and_nothing_more_is_loaded(tmp_path: Path) -> None:
    db = tmp_path / "national.duckdb"
    national.ingest(_extract(tmp_path / "x"), db, NOW)
    before = _counts(db)
    with pytest.raises(national.NationalError, match="already loaded"):
        national.ingest(_extract(tmp_path / "again"), db, NOW)
    assert _counts(db) == before


def test_a_tampered_file_is_refused_before_anything_loads(tmp_path: Path) -> None:
    db = tmp_path / "national.duckdb"
    directory = _extract(tmp_path / "x")
    table = pq.read_table(directory / "contacts.parquet")
    pq.write_table(table.slice(0, 1), directory / "contacts.parquet")
    with pytest.raises(national.NationalError, match="contacts: checksum does not match"):
        national.ingest(directory, db, NOW)
    assert not db.exists() or _counts(db)["contacts"] == 0


def test_wrong_columns_missing_files_and_bad_manifests_are_listed(tmp_path: Path) -> None:
    directory = _extract(tmp_path / "x")
    bad = pa.table({"person": ["p1"], "nhs_number": ["9434765919"]})
    pq.write_table(bad, directory / "people.parquet")
    manifest = json.loads((directory / national.MANIFEST).read_text())
    manifest["tables"]["people"]["sha256"] = national._sha256(directory / "people.parquet")
    manifest["tables"]["people"]["rows"] = 1
    manifest["period"] = "2024-13"
    (directory / "tasks.parquet").unlink()
    (directory / national.MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(national.NationalError) as refused:
        national.validate(directory)
    message = str(refused.value)
    assert "people: columns" in message
    assert "tasks: file 'tasks.parquet' missing" in message
    assert "period '2024-13'" in message


def test_rows_of_another_provider_roll_the_whole_load_back(tmp_path: Path) -> None:
    db = tmp_path / "national.duckdb"
    directory = _extract(tmp_path / "x")
    rows = tables("2024-03", people=[{"person": "p9", "age_band": "25-34", "provider": "RZZ"}])
    national.write_directory(
        tmp_path / "mixed",
        "RXX",
        "2024-03",
        "x",
        {
            **{n: pq.read_table(directory / f"{n}.parquet") for n in national.NATIONAL_TABLES},
            "people": rows["people"],
            "calendar": rows["calendar"],
        },
        NOW,
    )
    with pytest.raises(national.NationalError, match="another provider"):
        national.ingest(tmp_path / "mixed", db, NOW)
    assert all(count == 0 for count in _counts(db).values())


def test_the_key_is_required_and_pseudonyms_link_one_person_across_providers(tmp_path: Path) -> None:
    with pytest.raises(national.NationalError, match="SAFETYNET_NATIONAL_KEY"):
        national.national_key({})
    with pytest.raises(national.NationalError, match="too short"):
        national.national_key({"SAFETYNET_NATIONAL_KEY": "short"})
    key_file = tmp_path / "key"
    key_file.write_text("k" * 32 + "\n")
    key = national.national_key({"SAFETYNET_NATIONAL_KEY_FILE": str(key_file)})
    assert key == b"k" * 32
    assert national.person_pseudonym(key, "9434765919") == national.person_pseudonym(key, "9434765919")
    assert national.person_pseudonym(key, "9434765919") != national.person_pseudonym(b"j" * 32, "9434765919")
    assert national.id_pseudonym(key, "RXX", "contact", "c1") != national.id_pseudonym(key, "RYY", "contact", "c1")


def test_the_commands_ingest_refuse_and_report_indicators(tmp_path: Path) -> None:
    runner = CliRunner()
    db = tmp_path / "national.duckdb"
    directory = _extract(tmp_path / "x")
    loaded = runner.invoke(app, ["national", "ingest", str(directory), "--db", str(db)])
    assert loaded.exit_code == 0, loaded.output
    again = runner.invoke(app, ["national", "ingest", str(directory), "--db", str(db)])
    assert again.exit_code == 2
    assert "already loaded" in again.output
    shown = runner.invoke(app, ["national", "indicators", "--period", "2024-03", "--db", str(db), "--format", "json"])
    assert shown.exit_code == 0, shown.output
    rows = json.loads(shown.stdout)
    assert {
        "indicator": "DNA01",
        "provider": "RXX",
        "team": "t",
        "month": "2024-03",
        "numerator": 1,
        "denominator": 2,
        "value": 50.0,
    } in rows
    bad = runner.invoke(app, ["national", "indicators", "--period", "2024-3", "--db", str(db)])
    assert bad.exit_code == 2


def test_two_providers_extracts_for_the_same_period_both_load(tmp_path: Path) -> None:
    db = tmp_path / "national.duckdb"
    national.ingest(_extract(tmp_path / "x", provider="RXX"), db, NOW)
    national.ingest(_extract(tmp_path / "y", provider="RYY"), db, NOW)
    assert national.loaded(db) == [("RXX", "2024-03"), ("RYY", "2024-03")]
    assert _counts(db)["contacts"] == 4


def test_a_synthetic_population_split_into_provider_extracts_loads_as_providers_send_them(tmp_path: Path) -> None:
    runner = CliRunner()
    db = tmp_path / "national.duckdb"
    size = ["--providers", "3", "--patients", "600", "--period", "2024-06"]
    out = ["--out", str(tmp_path / "population"), "--extracts", str(tmp_path / "extracts")]
    made = runner.invoke(app, ["national", "synth", *size, *out])
    assert made.exit_code == 0, made.output
    extracts = sorted((tmp_path / "extracts").iterdir())
    assert [e.name for e in extracts] == ["N0000", "N0001", "N0002"]
    first = runner.invoke(app, ["national", "ingest", str(extracts[0]), "--db", str(db)])
    assert first.exit_code == 0, first.output
    # All three at once: the first is refused as a duplicate, the other two still load, and the exit status says so.
    rest = runner.invoke(app, ["national", "ingest", *map(str, extracts), "--db", str(db)])
    assert rest.exit_code == 2
    assert "already loaded" in rest.output
    assert "1 of 3 extract(s) refused" in rest.output
    assert national.loaded(db) == [("N0000", "2024-06"), ("N0001", "2024-06"), ("N0002", "2024-06")]
    population = pq.read_table(tmp_path / "population" / "people.parquet").num_rows
    assert _counts(db)["people"] == population  # every person, each in their own provider's extract
