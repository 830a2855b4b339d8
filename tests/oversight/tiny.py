"""Tiny hand-built extracts for indicator table tests: every table empty unless a test fills it."""

from __future__ import annotations

from datetime import date
from typing import Any

import ibis
import pandas as pd
import pyarrow as pa

from safetynet.oversight import schema
from safetynet.oversight.indicators import Tables, catalogue, run

PROVIDER = "RXX"
TEAM = "team-a"
WARD = "ward-1"


def d(text: str) -> int:
    """The day number of an ISO date."""
    return schema.day_number(date.fromisoformat(text))


def tables(period: str, **rows: list[dict[str, Any]]) -> dict[str, pa.Table]:
    """Arrow tables in the extract schema: given rows (missing columns null, provider defaulted), and the calendar."""
    first, last = schema.parse_period(period)
    made: dict[str, pa.Table] = {"calendar": schema.calendar_arrow(first, last)}
    for name, spec in schema.TABLES.items():
        if name == "calendar":
            continue
        given = rows.get(name, [])
        columns = {
            c.name: [r.get(c.name, PROVIDER if c.name == "provider" else None) for r in given] for c in spec.columns
        }
        made[name] = pa.table(columns, schema=schema.arrow_schema(name))
    unknown = set(rows) - set(made)
    assert not unknown, unknown
    return made


def on_duckdb(arrow: dict[str, pa.Table]) -> tuple[Any, Tables]:
    con = ibis.duckdb.connect()
    for name, table in arrow.items():
        con.create_table(name, table)
    return con, {name: con.table(name) for name in arrow}


def results(period: str, indicator: str, **rows: list[dict[str, Any]]) -> dict[tuple[str, str], tuple[int, Any]]:
    """{(team, month): (numerator, denominator)} for one indicator on tiny data, run on DuckDB."""
    assert indicator in catalogue()
    con, tabs = on_duckdb(tables(period, **rows))
    frame = run(tabs, con, only=[indicator])
    return {
        (r.team, r.month): (
            int(r.numerator),
            None if pd.isna(r.denominator) else int(r.denominator),
        )
        for r in frame.itertuples()
    }
