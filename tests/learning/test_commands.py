"""``safetynet review-pack`` and ``safetynet review-themes`` against a real database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from safetynet.cli import app
from tests.conftest import SCENARIOS

runner = CliRunner()
NHS = "9991000577"  # police-warrant-unread-inbox


@pytest.fixture
def loaded(fresh_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("SAFETYNET_DATABASE_URL", fresh_url)
    result = runner.invoke(app, ["scenario", "load", str(SCENARIOS / "police-warrant-unread-inbox.yaml")])
    assert result.exit_code == 0, result.output
    return fresh_url


def _run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.slow
def test_review_pack_writes_html_and_pdf(loaded: str, tmp_path: Path) -> None:
    html = tmp_path / "pack.html"
    said = _run(
        "review-pack",
        NHS,
        "--from",
        "2022-04-25",
        "--to",
        "2022-10-26",
        "--out",
        str(html),
        "--format",
        "html",
        "--redact-third-parties",
    )
    assert "opportunities" in said
    assert "third parties withheld" in said
    text = html.read_text(encoding="utf-8")
    assert "Learning review pack" in text
    assert "[details withheld]" in text
    assert "door supervisor" not in text
    pdf = tmp_path / "pack.pdf"
    _run("review-pack", NHS, "--from", "2022-04-25", "--to", "2022-10-26", "--out", str(pdf))
    assert pdf.read_bytes().startswith(b"%PDF")


def test_review_pack_refuses_a_period_backwards_and_an_unknown_person(loaded: str, tmp_path: Path) -> None:
    out = str(tmp_path / "x.pdf")
    backwards = runner.invoke(app, ["review-pack", NHS, "--from", "2022-10-26", "--to", "2022-04-25", "--out", out])
    assert backwards.exit_code == 2
    unknown = runner.invoke(
        app, ["review-pack", "9990000018", "--from", "2022-01-01", "--to", "2022-02-01", "--out", out]
    )
    assert unknown.exit_code == 1
    assert not Path(out).exists()


def test_review_themes_aggregates_rules_teams_and_dismissals(loaded: str) -> None:
    data = json.loads(_run("review-themes", "--from", "2022-06-01", "--to", "2022-10-31", "--format", "json"))
    assert data["people"] == 1
    by_rule = {r["rule"]: r for r in data["rules"]}
    assert by_rule["SN08"]["opened"] == 2
    assert by_rule["SN08"]["missed"] == 2
    assert [t["team"] for t in data["teams"]] == ["CMHT North"]
    assert data["opportunities"] == sum(r["opened"] for r in data["rules"])
    text = _run("review-themes", "--from", "2022-06-01", "--to", "2022-10-31")
    assert "SN08" in text
    assert "CMHT North" in text
