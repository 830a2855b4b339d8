"""NHS England's published MHSDS files: import, the MRS01b funnel of providers, and the commands.

Runs on the real published files in ../shared/data/mhsds-published/ (community mental health 4-week waits, periods
ending April to July 2024) and skips, saying so, where they are absent; the format checks use small files written
here.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from safetynet.cli import app
from safetynet.oversight.published import PROPORTIONS, PublishedError, import_published, proportion

PUBLISHED = Path(os.environ.get("SAFETYNET_MHSDS_PUBLISHED", Path(__file__).parents[3] / "shared/data/mhsds-published"))
needs_files = pytest.mark.skipif(
    not PUBLISHED.is_dir() or not list(PUBLISHED.glob("*.csv")),
    reason=f"NHS England's published MHSDS files are not at {PUBLISHED} (set SAFETYNET_MHSDS_PUBLISHED)",
)
HEADER = (
    "REPORTING_PERIOD_START,REPORTING_PERIOD_END,STATUS,BREAKDOWN,PRIMARY_LEVEL,PRIMARY_LEVEL_DESCRIPTION,"
    "SECONDARY_LEVEL,SECONDARY_LEVEL_DESCRIPTION,MEASURE_ID,MEASURE_NAME,MEASURE_VALUE\n"
)


def _row(code: str, measure: str, value: str, end: str = "30/06/2024", breakdown: str = "Provider") -> str:
    return (
        f"01/04/2024,{end},Performance,{breakdown},{code},TRUST {code},NONE,NONE,{measure},name of {measure},{value}\n"
    )


def _small_files(folder: Path) -> Path:
    folder.mkdir()
    rows = [
        _row("England", "MRS01", "1000", breakdown="England"),
        _row("England", "MRS01a", "100", breakdown="England"),
    ]
    rows += [_row("England", "MRS01b", "10.0", breakdown="England")]
    for i, (num, den) in enumerate([(20, 200), (30, 300), (5, 50), (60, 300), ("*", 40), (10, "*")]):
        rows += [_row(f"R{i}A", "MRS01", str(den)), _row(f"R{i}A", "MRS01a", str(num)), _row(f"R{i}A", "MRS01b", "*")]
    (folder / "small.csv").write_text(HEADER + "".join(rows), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def national(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not PUBLISHED.is_dir():
        pytest.skip(f"NHS England's published MHSDS files are not at {PUBLISHED}")
    database = tmp_path_factory.mktemp("published") / "national.duckdb"
    imported = CliRunner().invoke(app, ["national", "import-published", str(PUBLISHED), "--db", str(database)])
    assert imported.exit_code == 0, imported.output
    assert "2024-04, 2024-05, 2024-06, 2024-07" in imported.stdout.replace("\n", " ")
    return database


def test_small_files_import_and_give_the_funnel_its_figures(tmp_path: Path) -> None:
    database = tmp_path / "n.duckdb"
    result = import_published(_small_files(tmp_path / "in"), database)
    assert (result.files, result.rows, result.periods) == (1, 21, ("2024-06",))
    assert result.suppressed == 8
    data = proportion(database, "MRS01b", "2024-06")
    assert data.england is not None
    assert (data.england.numerator, data.england.denominator) == (100, 1000)
    by_code = {o.code: o for o in data.organisations}
    assert (by_code["R0A"].numerator, by_code["R0A"].denominator) == (20, 200)
    assert by_code["R4A"].numerator is None
    assert by_code["R5A"].denominator is None
    # importing the same period again replaces it
    assert import_published(tmp_path / "in", database).rows == 21
    assert len(proportion(database, "MRS01b", "2024-06").organisations) == 6


def test_bad_files_are_refused_and_nothing_is_loaded(tmp_path: Path) -> None:
    database = tmp_path / "n.duckdb"
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "a.csv").write_text("A,B\n1,2\n", encoding="utf-8")
    with pytest.raises(PublishedError, match="not an MHSDS long-format file"):
        import_published(folder, database)
    (folder / "a.csv").write_text(HEADER + _row("R1A", "MRS01", "lots"), encoding="utf-8")
    with pytest.raises(PublishedError, match="neither a number nor"):
        import_published(folder, database)
    (folder / "a.csv").write_text(HEADER + _row("R1A", "MRS01", "5") + _row("R1A", "MRS01", "10"), encoding="utf-8")
    with pytest.raises(PublishedError, match="more than one value"):
        import_published(folder, database)
    (folder / "a.csv").write_text(HEADER + _row("R1A", "MRS01", "5"), encoding="utf-8")
    (folder / "b.csv").write_text(HEADER + _row("R2A", "MRS01", "5"), encoding="utf-8")
    with pytest.raises(PublishedError, match="both hold the period ending 2024-06"):
        import_published(folder, database)
    with pytest.raises(PublishedError, match="No national database"):
        proportion(database, "MRS01b", "2024-06")
    with pytest.raises(PublishedError, match="not a proportion measure"):
        proportion(database, "MRS01", "2024-06")


@needs_files
@pytest.mark.slow
def test_the_published_proportions_are_numerator_over_denominator(national: Path) -> None:
    for measure in PROPORTIONS:
        for period in ("2024-04", "2024-07"):
            data = proportion(national, measure, period)
            assert data.england is not None
            assert data.england.numerator is not None
            assert data.england.denominator
            assert data.period_end.strftime("%Y-%m") == period
    data = proportion(national, "MRS01b", "2024-06")
    assert data.england is not None
    assert (data.england.numerator, data.england.denominator) == (934, 16139)


@needs_files
@pytest.mark.slow
def test_the_mrs01b_funnel_of_providers_names_those_outside_the_limits(national: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(
        app,
        ["national", "funnel", "--measure", "MRS01b", "--period", "2024-06", "--db", str(national), "--format", "json"],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["period_start"] == "2024-04-01"
    assert report["england_percent"] == pytest.approx(5.79, abs=0.01)
    assert report["in_funnel"] >= 20
    assert report["overdispersion_adjusted"]
    shown = {u["code"]: u for u in report["units"]}
    for unit in shown.values():
        # disclosure: sub-national counts are rounded to 5 and never 1 to 7
        assert unit["numerator"] == "*" or unit["numerator"] % 5 == 0
        assert unit["numerator"] != "*", "units with small counts are not shown at all"
    named = report["outside_998"] + report["outside_95"]
    assert named, "real providers differ: some are outside the 95% limits"
    for entry in named:
        unit = shown[entry["code"]]
        outside = unit["percent"] >= unit["upper_95"] or unit["percent"] <= unit["lower_95"]  # both rounded to 0.1
        assert outside
        assert entry["position"] == unit["position"]
    plain = runner.invoke(
        app,
        [
            "national",
            "funnel",
            "--measure",
            "MRS01b",
            "--period",
            "2024-06",
            "--db",
            str(national),
            "--format",
            "json",
            "--no-adjust",
        ],
    )
    unadjusted = json.loads(plain.stdout)
    assert not unadjusted["overdispersion_adjusted"]
    assert len(unadjusted["outside_998"]) > len(report["outside_998"])


@needs_files
@pytest.mark.slow
def test_the_command_line_imports_and_draws(national: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    database = national
    png, svg = tmp_path / "f.png", tmp_path / "f.svg"
    for chart in (png, svg):
        drawn = runner.invoke(
            app,
            [
                "national",
                "funnel",
                "--measure",
                "MRS01b",
                "--period",
                "2024-07",
                "--db",
                str(database),
                "--out",
                str(chart),
            ],
        )
        assert drawn.exit_code == 0, drawn.output
        assert "Outside the 95% limits" in drawn.stdout
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert svg.read_text(encoding="utf-8").startswith("<svg")
    assert 'role="img"' in svg.read_text(encoding="utf-8")
    csv_out = runner.invoke(
        app,
        ["national", "funnel", "--measure", "MRS01b", "--period", "2024-07", "--db", str(database), "--format", "csv"],
    )
    assert csv_out.stdout.splitlines()[0].startswith("code,name,numerator,denominator,percent")
    missing = runner.invoke(
        app, ["national", "funnel", "--measure", "MRS01b", "--period", "2023-01", "--db", str(database)]
    )
    assert missing.exit_code == 2
    wrong = runner.invoke(
        app,
        [
            "national",
            "funnel",
            "--measure",
            "MRS01b",
            "--period",
            "2024-07",
            "--db",
            str(database),
            "--out",
            str(tmp_path / "f.gif"),
        ],
    )
    assert wrong.exit_code == 2
