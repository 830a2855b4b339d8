"""The indicators of a small synthetic trust, by team and month, on its own database (SQLite or PostgreSQL, through
Ibis) and on DuckDB from its pseudonymised extract, agree exactly."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import ibis
import pyarrow.parquet as pq
import pytest

from safetynet import migrations
from safetynet.core.db import make_engine
from safetynet.oversight import national, schema, trustviews
from safetynet.oversight.indicators import catalogue, run
from safetynet.synth import trust
from tests.conftest import Databases

KEY = b"a-national-key-for-tests-only-0123456789"
PERIODS = ("2024-06", "2024-11")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def trust_url(databases: Databases) -> str:
    url = databases.new_url()
    migrations.upgrade(url)
    engine = make_engine(url)
    try:
        trust.build(engine, patients=200, seed=11, workers=0)
    finally:
        engine.dispose()
    return url


@pytest.mark.parametrize("period", PERIODS)
def test_trust_database_and_duckdb_extract_agree_exactly(trust_url: str, period: str, tmp_path: Path) -> None:
    first, last = schema.parse_period(period)
    con, views = trustviews.views(trust_url, trustviews.end_of_month(last), first, last)
    try:
        on_trust = run(views.materialise(), con)
        provider = views.provider
    finally:
        con.disconnect()
    national.write_extract(trust_url, provider, period, tmp_path / "x", KEY, datetime.now(UTC))
    duck = ibis.duckdb.connect()
    on_duckdb = run(national.parquet_tables(duck, tmp_path / "x"), duck)

    assert len(on_trust) > 20
    assert set(on_trust.indicator) >= {"KW01", "DNA01", "SMI01", "CPR01", "DEP01"}
    assert (on_trust.month == period).all()
    assert on_trust.equals(on_duckdb)


def test_an_extract_holds_pseudonyms_and_no_nhs_numbers_names_or_text(trust_url: str, tmp_path: Path) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(trust_url)
    with engine.connect() as connection:
        nhs_numbers = {row[0] for row in connection.execute(text("SELECT nhs_number FROM patients"))}
        names = {row[0] for row in connection.execute(text("SELECT name FROM patient_details"))}
        patient_ids = {row[0] for row in connection.execute(text("SELECT id FROM patients"))}
        ods = connection.execute(text("SELECT ods_code FROM organisations")).scalar_one()
    engine.dispose()
    result = national.write_extract(trust_url, ods, "2024-06", tmp_path / "x", KEY, datetime.now(UTC))
    values: set[str] = set()
    for name in schema.TABLES:
        table = pq.read_table(tmp_path / "x" / f"{name}.parquet")
        assert table.schema.names == [c.name for c in schema.TABLES[name].columns]
        for column in table.column_names:
            values |= {str(v) for v in table.column(column).to_pylist() if v is not None}
    assert not values & nhs_numbers
    assert not values & names
    assert not values & patient_ids
    people = pq.read_table(tmp_path / "x" / "people.parquet").column("person").to_pylist()
    assert len(people) == result.rows["people"] > 0
    assert {national.person_pseudonym(KEY, n) for n in nhs_numbers} >= set(people)


def test_the_extract_refuses_a_provider_code_that_is_not_this_database(trust_url: str, tmp_path: Path) -> None:
    with pytest.raises(national.NationalError, match="not ZZZ"):
        national.write_extract(trust_url, "ZZZ", "2024-06", tmp_path / "x", KEY, datetime.now(UTC))


def test_every_indicator_is_in_the_suite_run_on_the_trust(trust_url: str) -> None:
    first, last = schema.parse_period("2024-01:2024-12")
    con, views = trustviews.views(trust_url, None, first, last)
    try:
        frame = run(views.materialise(), con)
    finally:
        con.disconnect()
    missing = set(catalogue()) - set(frame.indicator) - {"TSK01"}  # the synthetic trust raises no tasks
    assert not missing
