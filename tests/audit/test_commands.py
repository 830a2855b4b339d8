"""`safetynet audit verify`, `access-log` and `export`, run as a user runs them."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import pytest
from fhir.resources.R4B.auditevent import AuditEvent as FhirAuditEvent
from sqlalchemy import text
from typer.testing import CliRunner

from safetynet.cli import app
from safetynet.core.clock import LONDON, FixedClock
from safetynet.core.context import Context
from safetynet.core.db import make_engine, unit_of_work
from safetynet.core.ids import SeededIds
from safetynet.record.chart import chart
from tests import personas
from tests.audit.helpers import attacker
from tests.factories import NHS_NUMBERS, world

runner = CliRunner()


@pytest.fixture
def env(fresh_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A person whose record Alice wrote and Carol then read."""
    monkeypatch.setenv("SAFETYNET_DATABASE_URL", fresh_url)
    clock = FixedClock(datetime(2024, 1, 15, 10, 0, tzinfo=LONDON))
    engine = make_engine(fresh_url)
    with unit_of_work(engine) as session:
        world(Context(session, personas.ALICE, clock, SeededIds("env")))
    with unit_of_work(engine) as session:
        chart(Context(session, personas.CAROL, clock, SeededIds("read")), NHS_NUMBERS[0])
    engine.dispose()
    return fresh_url


def test_verify_says_the_chain_verifies_and_gives_an_anchor(env: str) -> None:
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "verifies" in result.stdout
    assert "anchor" in result.stdout
    found = re.search(r"\b(\d+:[0-9a-f]{64})\b", result.stdout)
    assert found, result.stdout
    anchor = found.group(1)
    again = runner.invoke(app, ["audit", "verify", "--anchor", anchor, "--format", "json"])
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["ok"] is True


def test_verify_fails_with_status_4_and_names_the_edited_event(env: str) -> None:
    with attacker(env) as sql:
        sql.execute(text("UPDATE audit_events SET purpose = 'curiosity' WHERE seq = 2"))
    result = runner.invoke(app, ["audit", "verify", "--format", "json"])
    assert result.exit_code == 4
    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert [(p["kind"], p["seq"]) for p in report["problems"]] == [("edited", 2)]


def test_verify_refuses_a_malformed_anchor(env: str) -> None:
    assert runner.invoke(app, ["audit", "verify", "--anchor", "3:abc"]).exit_code == 2


def test_a_persons_access_log_shows_who_wrote_and_who_read_with_role_and_purpose(env: str) -> None:
    result = runner.invoke(app, ["audit", "access-log", NHS_NUMBERS[0], "--format", "json"])
    assert result.exit_code == 0, result.output
    entries = json.loads(result.stdout)["entries"]
    assert {(e["who"], e["role"], e["action"]) for e in entries} >= {
        (personas.ALICE.name, "key_worker", "create"),
        (personas.CAROL.name, "consultant", "read"),
    }
    assert all(e["purpose"] for e in entries)
    again = json.loads(runner.invoke(app, ["audit", "access-log", NHS_NUMBERS[0], "--format", "json"]).stdout)
    asked = [e for e in again["entries"] if e["what"] == "access_log"]
    assert len(asked) == 1  # asking for the log is itself in the log
    assert asked[0]["purpose"] == "subject access request"
    text_result = runner.invoke(app, ["audit", "access-log", NHS_NUMBERS[0]])
    assert "Carol" in text_result.stdout


def test_the_access_log_of_someone_unknown_is_not_found(env: str) -> None:
    assert runner.invoke(app, ["audit", "access-log", NHS_NUMBERS[1]]).exit_code == 1


def test_export_writes_valid_fhir_r4_audit_events_with_their_place_in_the_chain(env: str, tmp_path: Path) -> None:
    out = tmp_path / "audit.ndjson"
    result = runner.invoke(app, ["audit", "export", "--out", str(out), "--patient", NHS_NUMBERS[0]])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert lines
    for resource in lines:
        FhirAuditEvent.model_validate(resource)  # raises if it breaks the R4 AuditEvent shape
        assert resource["entity"][0]["what"]["reference"].startswith("Patient/")
    read = next(r for r in lines if r["action"] == "R" and r["agent"][0]["who"]["display"] == personas.CAROL.name)
    assert read["purposeOfEvent"] == [{"text": "direct care"}]
    chained = {d["type"] for d in read["entity"][-1]["detail"]}
    assert chained == {"seq", "prev_hash", "event_hash"}
