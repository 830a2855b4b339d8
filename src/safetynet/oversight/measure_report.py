"""Indicator results as FHIR R4 MeasureReport resources, for systems that exchange measures rather than tables.

One ``summary`` MeasureReport per indicator, provider and month: the provider's numerator and denominator in the
group, the indicator's value as the measure score, and one stratum per team. The Measure each report cites is the
indicator's catalogue entry (``docs/indicators.md``), named by a canonical URL built from its id. Counts are sent as
they are: MeasureReports go between systems of the national tier, and anything published goes through
``oversight.disclosure`` first, like every other output.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from safetynet.oversight import schema
from safetynet.oversight.indicators import Direction, Indicator, Unit, catalogue

MEASURE_BASE = "https://fhir.safetynet.example/Measure"
POPULATION_SYSTEM = "http://terminology.hl7.org/CodeSystem/measure-population"
ODS_CODE = "https://fhir.nhs.uk/Id/ods-organization-code"
UCUM = "http://unitsofmeasure.org"
IMPROVEMENT_SYSTEM = "http://terminology.hl7.org/CodeSystem/measure-improvement-notation"
IMPROVEMENT = {Direction.UP: "increase", Direction.DOWN: "decrease"}
# UCUM codes for the score of each kind of indicator ("1" is a plain count; "/mo" per clinician per month).
SCORE_UNITS = {Unit.COUNT: "1", Unit.PERCENT: "%", Unit.MEAN_DAYS: "d", Unit.RATE: "/mo"}


def _population(code: str, count: int) -> dict[str, Any]:
    return {"code": {"coding": [{"system": POPULATION_SYSTEM, "code": code}]}, "count": count}


def _populations(indicator: Indicator, numerator: int, denominator: int | None) -> list[dict[str, Any]]:
    found = [_population("numerator", numerator)]
    if indicator.denominator is not None and denominator is not None:
        found.append(_population("denominator", denominator))
    return found


def _score(indicator: Indicator, numerator: int, denominator: int | None) -> dict[str, Any] | None:
    value = indicator.value(numerator, denominator)
    if value is None:  # no denominator: the value is undefined, not zero
        return None
    unit = SCORE_UNITS[indicator.unit]
    return {"value": round(value, 4), "unit": indicator.unit.value, "system": UCUM, "code": unit}


def _month(month: str) -> tuple[date, date]:
    first = date.fromisoformat(f"{month}-01")
    return first, schema.month_end(first)


def measure_reports(rows: Iterable[Mapping[str, Any]], generated: datetime) -> dict[str, Any]:
    """A FHIR ``collection`` Bundle of MeasureReports from indicator rows (``indicators.with_values``: indicator,
    provider, team, month, numerator, denominator), one report per indicator, provider and month."""
    indicators = catalogue()
    grouped: dict[tuple[str, str, str], list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        grouped[(row["indicator"], row["provider"], row["month"])].append(row)
    entries = []
    for (indicator_id, provider, month), teams in sorted(grouped.items()):
        indicator = indicators[indicator_id]
        numerator = sum(int(t["numerator"]) for t in teams)
        denominators = [t["denominator"] for t in teams if t["denominator"] is not None]
        denominator = sum(int(d) for d in denominators) if denominators else None
        first, last = _month(month)
        group: dict[str, Any] = {
            "code": {"text": indicator.title},
            "population": _populations(indicator, numerator, denominator),
            "stratifier": [
                {
                    "code": [{"text": "team"}],
                    "stratum": [
                        {
                            "value": {"text": t["team"]},
                            "population": _populations(indicator, int(t["numerator"]), t["denominator"]),
                        }
                        | ({"measureScore": score} if (score := _score(indicator, *_counts(t))) else {})
                        for t in sorted(teams, key=lambda t: str(t["team"]))
                    ],
                }
            ],
        }
        if (score := _score(indicator, numerator, denominator)) is not None:
            group["measureScore"] = score
        report_id = f"{indicator_id}-{provider}-{month}".replace("_", "-")
        report = {
            "resourceType": "MeasureReport",
            "id": report_id,
            "status": "complete",
            "type": "summary",
            "measure": f"{MEASURE_BASE}/{indicator_id}",
            "date": generated.isoformat(),
            "reporter": {"identifier": {"system": ODS_CODE, "value": provider}},
            "period": {"start": first.isoformat(), "end": last.isoformat()},
            "improvementNotation": _notation(indicator.direction),
            "group": [group],
        }
        entries.append({"fullUrl": f"urn:uuid:measurereport-{report_id}", "resource": _without_none(report)})
    return {"resourceType": "Bundle", "type": "collection", "timestamp": generated.isoformat(), "entry": entries}


def _notation(direction: Direction) -> dict[str, Any] | None:
    """Which way is better, where the indicator has a direction (context measures have none)."""
    code = IMPROVEMENT.get(direction)
    return {"coding": [{"system": IMPROVEMENT_SYSTEM, "code": code}]} if code else None


def _counts(row: Mapping[str, Any]) -> tuple[int, int | None]:
    return int(row["numerator"]), None if row["denominator"] is None else int(row["denominator"])


def _without_none(resource: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in resource.items() if value is not None}


def validate(bundle: Mapping[str, Any]) -> None:
    """Check the Bundle and every MeasureReport in it against the FHIR R4B models (``ValueError`` if not valid)."""
    from fhir.resources.R4B.bundle import Bundle
    from fhir.resources.R4B.measurereport import MeasureReport

    Bundle.model_validate(dict(bundle))
    for entry in bundle.get("entry", []):  # the Bundle model leaves its entries' resources loosely typed
        MeasureReport.model_validate(entry["resource"])
