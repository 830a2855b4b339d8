"""`safetynet access ...`, run as a user runs them against a database they commit to."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from typer.testing import CliRunner

from safetynet.cli import app
from safetynet.core.clock import LONDON, FixedClock
from safetynet.core.context import Context, Role
from safetynet.core.db import make_engine, unit_of_work
from safetynet.core.ids import SeededIds
from safetynet.record.org import service as org
from safetynet.record.org.schemas import StaffIn
from tests import personas
from tests.factories import NHS_NUMBERS, world

runner = CliRunner()
REASON = "Attended the emergency department overnight; crisis plan needed"


@pytest.fixture
def env(fresh_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("SAFETYNET_DATABASE_URL", fresh_url)
    engine = make_engine(fresh_url)
    with unit_of_work(engine) as session:
        ctx = Context(session, personas.ALICE, FixedClock(datetime(2024, 1, 15, 10, tzinfo=LONDON)), SeededIds("c"))
        world(ctx)
        for name, role, team in (
            ("Pat Ward", Role.KEY_WORKER, "Willow Ward"),
            ("Dev Lead", Role.SAFETY_LEAD, None),
            ("PC Liaison", Role.POLICE_LIAISON, None),
            ("Charlie Outsider", Role.SYSTEM, None),
        ):
            org.create_staff(ctx, StaffIn(name=name, role=role, team=team))
    engine.dispose()
    return fresh_url


def test_break_glass_then_the_queue_then_the_review(env: str) -> None:
    refused = runner.invoke(app, ["access", "check", NHS_NUMBERS[0], "--as", "Pat Ward", "--action", "person.view"])
    assert refused.exit_code == 5
    assert "break the glass" in refused.stdout
    opened = runner.invoke(app, ["access", "break-glass", NHS_NUMBERS[0], "--as", "Pat Ward", "--reason", REASON])
    assert opened.exit_code == 0, opened.output
    allowed = runner.invoke(app, ["access", "check", NHS_NUMBERS[0], "--as", "Pat Ward", "--action", "person.view"])
    assert allowed.exit_code == 0, allowed.output
    assert "break-glass" in allowed.stdout
    queue = json.loads(runner.invoke(app, ["access", "break-glass-queue", "--format", "json"]).stdout)
    assert [(q["who"], q["reason"]) for q in queue] == [("Pat Ward", REASON)]
    review = ["access", "break-glass-review", queue[0]["grant_id"][:8], "--outcome", "appropriate", "--note", "ok"]
    assert runner.invoke(app, [*review, "--as", "Pat Ward"]).exit_code == 5  # not a safety lead
    done = runner.invoke(app, [*review, "--as", "Dev Lead"])
    assert done.exit_code == 0, done.output
    assert json.loads(runner.invoke(app, ["access", "break-glass-queue", "--format", "json"]).stdout) == []
    log = json.loads(runner.invoke(app, ["audit", "access-log", NHS_NUMBERS[0], "--format", "json"]).stdout)
    assert any(e["action"] == "break_glass" and e["who"] == "Pat Ward" for e in log["entries"])


def test_charlie_cannot_break_the_glass(env: str) -> None:
    result = runner.invoke(
        app, ["access", "break-glass", NHS_NUMBERS[0], "--as", "Charlie Outsider", "--reason", REASON]
    )
    assert result.exit_code == 5


def test_share_with_the_police_and_what_the_police_then_see(env: str) -> None:
    share = [
        "access", "share", NHS_NUMBERS[0], "--as", "Jo Smith", "--to", "police_liaison",
        "--organisation", "Avon Police", "--basis", "uk_gdpr_6_1_e", "--basis", "uk_gdpr_9_2_g",
        "--basis", "crime_and_disorder_act_s115", "--purpose", "warrant", "--item", "risk_summary=Violence when unwell",
    ]  # fmt: skip
    result = runner.invoke(app, share)
    assert result.exit_code == 0, result.output
    seen = runner.invoke(
        app, ["access", "shared", "--as", "PC Liaison", "--organisation", "Avon Police", "--format", "json"]
    )
    assert [v["items"] for v in json.loads(seen.stdout)] == [[{"kind": "risk_summary", "text": "Violence when unwell"}]]
    other = runner.invoke(app, ["access", "shared", "--as", "PC Liaison", "--organisation", "Kent Police"])
    assert "Nothing has been shared" in other.stdout
    no_basis = [a for a in share if a not in ("--basis", "uk_gdpr_9_2_g")]
    assert runner.invoke(app, no_basis).exit_code == 2
    assert runner.invoke(app, ["access", "shared", "--as", "Charlie Outsider", "--organisation", "x"]).exit_code == 5
