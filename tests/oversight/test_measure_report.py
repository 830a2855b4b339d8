"""Indicators as FHIR MeasureReports: one per indicator, provider and month, valid against the R4B models, with the
provider's totals in the group, each team as a stratum, and no score where the value is undefined."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from safetynet.cli import app
from safetynet.oversight.measure_report import MEASURE_BASE, measure_reports, validate
from tests.oversight.test_national_ingest import _extract

NOW = datetime(2024, 4, 2, 9, tzinfo=UTC)


def _row(indicator: str, team: str, numerator: int, denominator: int | None, provider: str = "RXX") -> dict:
    return {
        "indicator": indicator,
        "provider": provider,
        "team": team,
        "month": "2024-02",
        "numerator": numerator,
        "denominator": denominator,
    }


def _populations(part: dict) -> dict[str, int]:
    return {p["code"]["coding"][0]["code"]: p["count"] for p in part["population"]}


def test_a_report_per_indicator_provider_and_month_with_teams_as_strata() -> None:
    rows = [
        _row("DNA01", "CMHT North", 3, 10),
        _row("DNA01", "CMHT South", 1, 0),  # no planned contacts: the team's value is undefined
        _row("DNA01", "CMHT North", 5, 20, provider="RYY"),
    ]
    bundle = measure_reports(rows, NOW)
    validate(bundle)
    reports = [e["resource"] for e in bundle["entry"]]
    assert [(r["reporter"]["identifier"]["value"], r["measure"]) for r in reports] == [
        ("RXX", f"{MEASURE_BASE}/DNA01"),
        ("RYY", f"{MEASURE_BASE}/DNA01"),
    ]
    first = reports[0]
    assert first["period"] == {"start": "2024-02-01", "end": "2024-02-29"}  # a leap year's February
    assert (first["status"], first["type"]) == ("complete", "summary")
    group = first["group"][0]
    assert _populations(group) == {"numerator": 4, "denominator": 10}
    assert group["measureScore"]["value"] == pytest.approx(40.0)
    north, south = group["stratifier"][0]["stratum"]
    assert north["value"]["text"] == "CMHT North"
    assert north["measureScore"]["value"] == pytest.approx(30.0)
    assert south["value"]["text"] == "CMHT South"
    assert "measureScore" not in south
    assert first["improvementNotation"]["coding"][0]["code"] == "decrease"  # fewer DNAs is better


def test_a_malformed_report_is_refused_by_validation() -> None:
    bundle = measure_reports([_row("DNA01", "t", 1, 2)], NOW)
    bundle["entry"][0]["resource"]["group"][0]["population"][0]["count"] = "four"
    with pytest.raises(ValueError, match="count"):
        validate(bundle)


def test_the_indicators_command_writes_measure_reports(tmp_path: Path) -> None:
    runner = CliRunner()
    db = tmp_path / "national.duckdb"
    assert runner.invoke(app, ["national", "ingest", str(_extract(tmp_path / "x")), "--db", str(db)]).exit_code == 0
    shown = runner.invoke(
        app, ["national", "indicators", "--period", "2024-03", "--db", str(db), "--format", "measurereport"]
    )
    assert shown.exit_code == 0, shown.output
    bundle = json.loads(shown.stdout)
    validate(bundle)
    dna = [e["resource"] for e in bundle["entry"] if e["resource"]["measure"].endswith("/DNA01")]
    assert len(dna) == 1
    assert _populations(dna[0]["group"][0]) == {"numerator": 1, "denominator": 2}
