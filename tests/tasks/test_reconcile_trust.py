"""``safetynet tasks reconcile``: the safety net run over a whole trust written in bulk (synth raises no tasks). It
opens one task per finding the batch evaluation shows as known at --as-of, owned as the incremental net would own it;
run again it changes nothing; and the demo key worker it leads to has tasks on their worklist."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from safetynet.access.models import Account
from safetynet.cli import app
from safetynet.core.clock import SystemClock, parse_moment
from safetynet.core.context import Context
from safetynet.core.db import make_engine
from safetynet.rules.replay import batch
from safetynet.synth import trust
from safetynet.tasks import service as tasks
from safetynet.tasks.models import Task, TaskStatus
from tests import personas

AS_OF = "2026-10-31"  # the synthetic stories' end
runner = CliRunner()


def _invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def _live(url: str) -> set[tuple[str, str, str]]:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            rows = session.execute(
                select(Task.patient_id, Task.rule_id, Task.finding_key).where(Task.closed_at.is_(None))
            )
            return {tuple(row) for row in rows}  # type: ignore[misc]
    finally:
        engine.dispose()


@pytest.fixture
def synthetic_trust(fresh_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("SAFETYNET_DATABASE_URL", fresh_url)
    engine = make_engine(fresh_url)
    trust.build(engine, patients=40, seed=7, workers=0)
    engine.dispose()
    return fresh_url


def test_reconcile_opens_a_task_per_finding_of_the_batch_and_a_second_run_changes_nothing(
    synthetic_trust: str,
) -> None:
    assert _live(synthetic_trust) == set()  # synth writes the record in bulk and raises no tasks
    first = _invoke("tasks", "reconcile", "--as-of", AS_OF)
    engine = make_engine(synthetic_trust)
    try:
        with Session(engine) as session:
            findings = {
                (person.patient_id, f.rule_id, f.key)
                for person, evaluation in batch(session, parse_moment(AS_OF))
                for f in evaluation.findings
            }
            statuses = set(session.scalars(select(Task.status).distinct()))
            made = session.scalar(select(func.count()).select_from(Task))
    finally:
        engine.dispose()
    assert findings, "a 40-person synthetic trust has open findings at the stories' end"
    assert _live(synthetic_trust) == findings  # every rule active by default: one task per finding, no more
    assert statuses == {TaskStatus.OPEN}
    assert f"{len(findings)} task(s) opened, 0 closed" in first
    second = _invoke("tasks", "reconcile", "--as-of", AS_OF)
    assert "0 task(s) opened, 0 closed" in second
    assert _live(synthetic_trust) == findings
    engine = make_engine(synthetic_trust)
    try:
        with Session(engine) as session:
            assert session.scalar(select(func.count()).select_from(Task)) == made
    finally:
        engine.dispose()


def test_the_demo_key_worker_has_tasks_on_their_worklist(synthetic_trust: str) -> None:
    _invoke("tasks", "reconcile", "--as-of", AS_OF)
    logins = _invoke("accounts", "demo")
    assert "demo-key-worker" in logins
    engine = make_engine(synthetic_trust)
    try:
        with Session(engine) as session:
            account = session.scalars(select(Account).where(Account.username == "demo-key-worker")).one()
            ctx = Context(session, personas.ALICE, SystemClock())
            assert tasks.worklist(ctx, account.staff_id), "My work shows the demo key worker's tasks"
    finally:
        engine.dispose()
