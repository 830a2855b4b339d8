"""The indicator catalogue: each indicator defined once, in Ibis, against the extract schema (``oversight.schema``).

The same definition runs unchanged on the trust's own database (SQLite or PostgreSQL, through
``oversight.trustviews``), on DuckDB over Parquet extracts, and on Spark. Every indicator yields, per provider, team
and reporting month, an integer numerator and (except for counts) an integer denominator, so that two engines can be
checked to agree exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import ibis
import ibis.expr.types as ir

Tables = Mapping[str, ir.Table]
KEYS = ("provider", "team", "month")
RESULT_COLUMNS = ("indicator", "provider", "team", "month", "numerator", "denominator")


class Direction(StrEnum):
    UP = "higher is better"
    DOWN = "lower is better"
    NEITHER = "neither (context)"


class Unit(StrEnum):
    COUNT = "count"
    PERCENT = "percent"
    MEAN_DAYS = "mean days"
    RATE = "per clinician per month"


@dataclass(frozen=True)
class Indicator:
    id: str
    title: str
    numerator: str
    denominator: str | None
    unit: Unit
    direction: Direction
    source: str
    period: str
    define: Callable[[Tables], ir.Table]
    target: str | None = None
    mhsds: str | None = None
    notes: str | None = None

    def value(self, numerator: int, denominator: int | None) -> float | None:
        if self.unit is Unit.COUNT:
            return float(numerator)
        if not denominator:
            return None
        ratio = numerator / denominator
        return ratio * 100 if self.unit is Unit.PERCENT else ratio

    def expression(self, tables: Tables) -> ir.Table:
        """This indicator's rows: indicator, provider, team, month, numerator, denominator."""
        result = self.define(tables)
        denominator = ibis.null().cast("int64") if self.denominator is None else result.denominator.cast("int64")
        return result.select(
            indicator=ibis.literal(self.id),
            provider=result.provider,
            team=result.team,
            month=result.month,
            numerator=result.numerator.cast("int64"),
            denominator=denominator,
        )


def catalogue() -> dict[str, Indicator]:
    from safetynet.oversight.indicators.definitions import INDICATORS

    return {indicator.id: indicator for indicator in INDICATORS}


def run(tables: Tables, backend: Any, only: list[str] | None = None) -> Any:
    """Run the suite (or ``only`` these ids) on ``backend`` (an Ibis connection): a pandas DataFrame with
    ``RESULT_COLUMNS``, sorted, with plain ints (denominator None for counts)."""
    import pandas as pd

    frames = []
    for indicator in catalogue().values():
        if only and indicator.id not in only:
            continue
        frames.append(backend.execute(indicator.expression(tables)))
    if not frames:
        return pd.DataFrame(columns=list(RESULT_COLUMNS))
    return tidy(pd.concat(frames, ignore_index=True))


def tidy(frame: Any) -> Any:
    """Sort, and make the types plain and engine-independent (so results from two engines compare exactly)."""
    import pandas as pd

    frame = frame.loc[:, list(RESULT_COLUMNS)].copy()
    for column in ("indicator", "provider", "team", "month"):
        frame[column] = frame[column].astype(str)
    frame["numerator"] = frame["numerator"].astype("int64")
    frame["denominator"] = pd.array(frame["denominator"], dtype="Int64")
    return frame.sort_values(list(RESULT_COLUMNS[:4])).reset_index(drop=True)


def with_values(frame: Any) -> list[dict[str, Any]]:
    """Rows as dictionaries with the indicator's value (percent, mean or count) added."""
    import pandas as pd

    indicators = catalogue()
    rows: list[dict[str, Any]] = []
    for record in frame.to_dict("records"):
        raw = record["denominator"]
        denominator = None if raw is None or pd.isna(raw) else int(raw)
        value = indicators[record["indicator"]].value(int(record["numerator"]), denominator)
        rows.append(
            {
                "indicator": record["indicator"],
                "provider": record["provider"],
                "team": record["team"],
                "month": record["month"],
                "numerator": int(record["numerator"]),
                "denominator": denominator,
                "value": None if value is None else round(value, 4),
            }
        )
    return rows
