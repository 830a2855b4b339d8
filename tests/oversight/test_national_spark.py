"""DuckDB and Spark (local) agree exactly on a small national synthetic population. One Spark session for the
module: starting the JVM costs about 13 s."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ibis
import pytest

from safetynet.oversight import national
from safetynet.oversight.indicators import catalogue, run
from safetynet.oversight.synth_national import generate

pytestmark = pytest.mark.slow
PERIOD = "2024-06"


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("national")
    generate(out, providers=3, patients=3000, period=PERIOD, seed=5, contacts_per_person=10)
    return out


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    pytest.importorskip("pyspark")
    with national.spark_session(partitions=2) as session:
        yield national.spark_connect(session)


def test_duckdb_and_spark_agree_exactly_on_every_indicator(population: Path, spark: Any) -> None:
    duck = ibis.duckdb.connect()
    on_duckdb = run(national.parquet_tables(duck, population, PERIOD), duck)
    on_spark = run(national.parquet_tables(spark, population, PERIOD), spark)
    assert set(on_duckdb.indicator) == set(catalogue())
    assert len(on_duckdb) > 50
    assert on_duckdb.equals(on_spark)


def test_the_generator_is_deterministic(population: Path, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    again = generate(tmp_path, providers=3, patients=3000, period=PERIOD, seed=5, contacts_per_person=10)
    for name in national.NATIONAL_TABLES:
        assert pq.read_table(population / f"{name}.parquet").equals(pq.read_table(tmp_path / f"{name}.parquet"))
    assert again.rows["people"] == 3000
