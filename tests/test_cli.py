"""The command line, run as a user runs it, against a real database that it commits to."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from safetynet.cli import app
from tests.conftest import SCENARIOS

runner = CliRunner()


@pytest.fixture
def env(fresh_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("SAFETYNET_DATABASE_URL", fresh_url)
    return fresh_url


def _run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def _tiny(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(
        """
id: tiny
title: Police information recorded late
patient: {nhs_number: "9990000018", name: Sam Example, born: 1992-03-14, sex: male, gp_practice: Y00001}
events:
  - {at: 2021-01-18, type: episode_start, team: EIP, pathway: eip}
  - {at: 2021-01-18, type: keyworker_assigned, team: EIP, staff: Jo Smith}
  - {at: 2021-02-10, recorded: 2021-02-24, type: partner_info, agency: police, kind: warrant, detail: Warrant issued}
"""
    )
    return path


def test_every_command_has_help() -> None:
    for command in (
        [],
        ["db"],
        ["db", "upgrade"],
        ["db", "stats"],
        ["scenario", "load"],
        ["synth"],
        ["patient", "show"],
        ["caseload"],
    ):
        result = runner.invoke(app, [*command, "--help"])
        assert result.exit_code == 0
        assert "Usage" in result.output


def test_patient_show_as_known_at_hides_what_was_recorded_later(env: str, tmp_path: Path) -> None:
    _run("scenario", "load", str(_tiny(tmp_path)))
    before = json.loads(_run("patient", "show", "9990000018", "--as-known-at", "2021-02-20", "--format", "json"))
    after = json.loads(_run("patient", "show", "9990000018", "--as-known-at", "2021-02-24T12:00", "--format", "json"))
    assert before["sections"]["partner_information"] == []
    (warrant,) = after["sections"]["partner_information"]
    assert warrant["occurred_at"].startswith("2021-02-10")
    assert warrant["recorded_at"].startswith("2021-02-24")


def test_patient_show_text_puts_the_risk_history_first(env: str, tmp_path: Path) -> None:
    _run("scenario", "load", str(_tiny(tmp_path)))
    text = _run("patient", "show", "9990000018")
    assert "Sam Example" in text
    assert text.index("Risk events") < text.index("Episodes")


def test_db_stats_counts_what_was_loaded(env: str, tmp_path: Path) -> None:
    _run("scenario", "load", str(_tiny(tmp_path)))
    stats = json.loads(_run("db", "stats", "--format", "json"))
    assert stats["patients"]["rows"] == 1
    assert stats["partner_information"] == {"rows": 1, "facts": 1}
    assert stats["audit_events"]["rows"] >= 4


def test_caseload_shows_the_key_worker(env: str, tmp_path: Path) -> None:
    _run("scenario", "load", str(_tiny(tmp_path)))
    (entry,) = json.loads(_run("caseload", "--team", "EIP", "--format", "json"))
    assert entry["key_worker"] == "Jo Smith"
    assert entry["nhs_number"] == "9990000018"


def test_an_invalid_scenario_exits_non_zero_listing_problems_and_loads_nothing(env: str) -> None:
    result = runner.invoke(app, ["scenario", "load", str(SCENARIOS / "invalid" / "several-errors.yaml")])
    assert result.exit_code == 2
    assert "nothing was written" in result.stderr
    assert json.loads(_run("db", "stats", "--format", "json"))["patients"]["rows"] == 0


def test_an_unknown_person_is_a_clear_error(env: str) -> None:
    result = runner.invoke(app, ["patient", "show", "9990000026"])
    assert result.exit_code == 1
    assert "no person with NHS number 9990000026" in result.stderr


def test_a_bad_date_is_a_clear_error(env: str) -> None:
    result = runner.invoke(app, ["patient", "show", "9990000026", "--as-known-at", "last tuesday"])
    assert result.exit_code == 2
    assert "not a date" in result.stderr


def test_the_installed_command_runs_in_a_real_process(env: str, tmp_path: Path) -> None:
    command = Path(sys.executable).parent / "safetynet"
    done = subprocess.run(
        [str(command), "scenario", "load", str(_tiny(tmp_path))],
        capture_output=True,
        text=True,
        env={**os.environ, "SAFETYNET_DATABASE_URL": env},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Loaded tiny" in done.stdout


def test_synth_people_per_cmht_cuts_the_trust_into_more_cmhts(env: str) -> None:
    from sqlalchemy import func, select

    from safetynet.core.db import make_engine
    from safetynet.record.org.models import Team

    refused = runner.invoke(app, ["synth", "--patients", "40", "--people-per-cmht", "10"])
    assert refused.exit_code == 2
    assert "people-per-cmht" in refused.output
    said = _run("synth", "--patients", "200", "--people-per-cmht", "50")
    engine = make_engine(env)
    with engine.connect() as connection:
        cmhts = connection.execute(select(func.count()).select_from(Team).where(Team.pathway == "cmht")).scalar_one()
    engine.dispose()
    assert cmhts == 4  # the default, one per 400 people, would give the smallest trust's two
    assert "200 people" in said
