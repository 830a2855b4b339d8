"""A trust indicator month by month as an SPC chart: the trust's value is its teams' numerators and denominators
summed (not their rates averaged); one team can be asked for; months without a value are left out, not drawn as
zero; bad requests are refused clearly; the command draws PNG and SVG and writes JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from safetynet import migrations
from safetynet.cli import app
from safetynet.core.db import make_engine
from safetynet.oversight import trustviews
from safetynet.oversight.indicators import run, with_values
from safetynet.oversight.trend import TrendError, month, monthly
from safetynet.synth import trust
from tests.conftest import Databases

pytestmark = pytest.mark.slow
FIRST, LAST = "2024-01", "2024-12"


@pytest.fixture(scope="module")
def trust_url(databases: Databases) -> str:
    url = databases.new_url()
    migrations.upgrade(url)
    engine = make_engine(url)
    try:
        trust.build(engine, patients=150, seed=5, workers=0)
    finally:
        engine.dispose()
    return url


@pytest.fixture(scope="module")
def by_team(trust_url: str) -> list[dict]:
    con, views = trustviews.views(trust_url, None, month(FIRST), month("2025-01").replace(day=1))
    return [r for r in with_values(run(views.materialise(), con, only=["DNA01"])) if r["month"] <= LAST]


def test_the_trust_value_sums_the_teams_counts(trust_url: str, by_team: list[dict]) -> None:
    trend = monthly(trust_url, "DNA01", FIRST, LAST)
    assert trend.months == [f"2024-{m:02d}" for m in range(1, 13)]
    for label, value, numerator, denominator in zip(
        trend.months, trend.values, trend.numerators, trend.denominators, strict=True
    ):
        rows = [r for r in by_team if r["month"] == label]
        assert numerator == sum(r["numerator"] for r in rows)
        assert denominator == sum(r["denominator"] for r in rows)
        assert value == pytest.approx(100 * numerator / denominator)
    assert [p.value for p in trend.chart.points] == trend.values
    assert trend.chart.options.improvement == "decrease"  # fewer missed appointments is better


def test_one_team(trust_url: str, by_team: list[dict]) -> None:
    team = sorted({r["team"] for r in by_team})[0]
    trend = monthly(trust_url, "DNA01", FIRST, LAST, team=team)
    mine = {r["month"]: r for r in by_team if r["team"] == team and r["denominator"]}
    assert trend.months == sorted(mine)
    assert trend.numerators == [mine[m]["numerator"] for m in trend.months]


def test_months_before_the_trust_had_anyone_have_no_value(trust_url: str) -> None:
    with pytest.raises(TrendError, match="fewer than two"):
        monthly(trust_url, "DNA01", "2001-01", "2001-06")
    trend = monthly(trust_url, "DNA01", "2001-01", LAST)
    assert "2001-01" in trend.without_value
    assert "2001-01" not in trend.months


@pytest.mark.parametrize(
    ("indicator", "first", "last", "team", "message"),
    [
        ("NOPE01", FIRST, LAST, None, "No indicator 'NOPE01'"),
        ("DNA01", "2024-13", LAST, None, "is not a month"),
        ("DNA01", LAST, FIRST, None, "is before"),
        ("DNA01", FIRST, LAST, "No Such Team", "No team 'No Such Team'"),
    ],
)
def test_bad_requests_are_refused(
    trust_url: str, indicator: str, first: str, last: str, team: str | None, message: str
) -> None:
    with pytest.raises(TrendError, match=message):
        monthly(trust_url, indicator, first, last, team=team)


def test_the_command_draws_and_reports(trust_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAFETYNET_DATABASE_URL", trust_url)
    runner = CliRunner()
    command = ["indicators", "spc", "DNA01", "--from", FIRST, "--to", LAST]
    for name in ("dna.png", "dna.svg"):
        drawn = runner.invoke(app, [*command, "--out", str(tmp_path / name)])
        assert drawn.exit_code == 0, drawn.output
        assert "Mean" in drawn.stdout
    assert (tmp_path / "dna.png").read_bytes().startswith(b"\x89PNG")
    assert "<svg" in (tmp_path / "dna.svg").read_text()
    shown = runner.invoke(app, [*command, "--format", "json"])
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.stdout)
    assert len(data["points"]) == 12
    bad = runner.invoke(app, ["indicators", "spc", "NOPE01", "--from", FIRST, "--to", LAST])
    assert bad.exit_code == 2
    assert "No indicator" in bad.output
