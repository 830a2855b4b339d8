"""`safetynet backup` and `safetynet restore`: the restored copy matches the original and its audit chain verifies."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from safetynet.cli import app
from safetynet.core.backup import fingerprint
from safetynet.core.clock import LONDON, FixedClock
from safetynet.core.context import Context
from safetynet.core.db import make_engine, unit_of_work
from safetynet.core.ids import SeededIds
from safetynet.record.chart import chart
from tests import personas
from tests.audit.helpers import attacker, verify
from tests.conftest import Databases
from tests.factories import NHS_NUMBERS, world

runner = CliRunner()


@pytest.fixture
def original(fresh_url: str) -> str:
    engine = make_engine(fresh_url)
    clock = FixedClock(datetime(2024, 1, 15, 10, tzinfo=LONDON))
    with unit_of_work(engine) as session:
        world(Context(session, personas.ALICE, clock, SeededIds("backup")))
    with unit_of_work(engine) as session:
        chart(Context(session, personas.CAROL, clock, SeededIds("read")), NHS_NUMBERS[0])
    engine.dispose()
    return fresh_url


def _fingerprint(url: str) -> dict[str, tuple[int, str]]:
    engine = make_engine(url)
    try:
        return fingerprint(engine)
    finally:
        engine.dispose()


def _target(databases: Databases) -> str:
    """A new, empty database (no schema) of the kind under test."""
    return databases.new_url()


def test_a_restored_copy_matches_the_original_and_its_chain_verifies(
    original: str, databases: Databases, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = tmp_path / "safetynet.backup"
    monkeypatch.setenv("SAFETYNET_DATABASE_URL", original)
    made = runner.invoke(app, ["backup", "--out", str(file)])
    assert made.exit_code == 0, made.output
    assert file.stat().st_size > 0
    copy = _target(databases)
    monkeypatch.setenv("SAFETYNET_DATABASE_URL", copy)
    restored = runner.invoke(app, ["restore", str(file)])
    assert restored.exit_code == 0, restored.output
    assert "verifies" in restored.stdout
    before, after = _fingerprint(original), _fingerprint(copy)
    assert before == after
    assert before["audit_events"][0] >= 3  # the person registered, their episode, and Carol reading them
    assert verify(copy).ok
    assert verify(copy).head_hash == verify(original).head_hash
    # the copy is a working database: the append-only guard came back with it
    engine = make_engine(copy)
    with pytest.raises(Exception, match="append-only"), engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_events"))
    engine.dispose()


def test_restore_refuses_a_database_that_is_not_empty(
    original: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = tmp_path / "b.backup"
    monkeypatch.setenv("SAFETYNET_DATABASE_URL", original)
    assert runner.invoke(app, ["backup", "--out", str(file)]).exit_code == 0
    assert runner.invoke(app, ["backup", "--out", str(file)]).exit_code == 1  # never overwrites a backup
    refused = runner.invoke(app, ["restore", str(file)])
    assert refused.exit_code == 1
    assert "empty" in refused.output


def test_a_backup_of_a_tampered_trail_restores_but_does_not_verify(
    original: str, databases: Databases, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with attacker(original) as sql:
        sql.execute(text("UPDATE audit_events SET actor_name = 'Mallory' WHERE seq = 2"))
    file = tmp_path / "tampered.backup"
    monkeypatch.setenv("SAFETYNET_DATABASE_URL", original)
    assert runner.invoke(app, ["backup", "--out", str(file)]).exit_code == 0
    monkeypatch.setenv("SAFETYNET_DATABASE_URL", _target(databases))
    restored = runner.invoke(app, ["restore", str(file)])
    assert restored.exit_code == 4
    assert "edited" in restored.output


def test_restore_refuses_a_file_that_is_not_a_backup(
    databases: Databases, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    junk = tmp_path / "junk.backup"
    junk.write_bytes(b"not a backup at all")
    monkeypatch.setenv("SAFETYNET_DATABASE_URL", _target(databases))
    result = runner.invoke(app, ["restore", str(junk)])
    assert result.exit_code == 1
    assert "not a" in " ".join(result.output.split())  # the message wraps where the terminal does
