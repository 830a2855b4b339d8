"""The app's scheduler: each tick escalates overdue tasks, the indicator figures are recomputed once a night, a
failing job is recorded loudly (an operational alert) without stopping the others, and the running app ticks on
its own."""

from __future__ import annotations

import asyncio
import threading
import time
from contextlib import suppress
from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from safetynet import migrations
from safetynet.core.clock import LONDON, FixedClock
from safetynet.core.db import make_engine, unit_of_work
from safetynet.oversight.models import IndicatorRun
from safetynet.tasks.models import OperationalAlert, Task
from safetynet.tasks.runner import SAFETY_NET, reconcile
from safetynet.web import scheduler
from safetynet.web.app import create_app
from safetynet.web.settings import WebSettings
from tests.conftest import Databases
from tests.tasks.conftest import Trust


@pytest.fixture
def overdue(databases: Databases) -> SimpleNamespace:
    """A database with one family-concern task (SN01), and a clock just after it fell due (Wednesday 6 March)."""
    url = databases.new_url()
    migrations.upgrade(url)
    engine = make_engine(url)
    clock = FixedClock(datetime(2024, 3, 4, 12, 0, tzinfo=LONDON))
    with unit_of_work(engine) as session:
        trust = Trust(session, clock)
        (task,) = [t for t in reconcile(trust.ctx(SAFETY_NET), trust.history()).opened if t.rule_id == "SN01"]
        task_id = task.id
    clock.set(datetime(2024, 3, 6, 9, 0, tzinfo=LONDON))
    yield SimpleNamespace(url=url, engine=engine, clock=clock, task_id=task_id)
    engine.dispose()


def _level(engine, task_id: str) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        return int(connection.execute(select(Task.escalation_level).where(Task.id == task_id)).scalar_one())


def _runs(engine) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        return len(connection.execute(select(IndicatorRun.id)).all())


def test_a_tick_escalates_and_computes_the_figures_once_a_night(overdue: SimpleNamespace) -> None:
    assert _level(overdue.engine, overdue.task_id) == 0
    assert scheduler.tick(overdue.engine, overdue.url, overdue.clock) == ["escalation", "indicator figures"]
    assert _level(overdue.engine, overdue.task_id) == 1  # now with the team manager
    assert _runs(overdue.engine) == 1
    overdue.clock.advance(timedelta(hours=12))  # 21:00 the same day: the night's figures are done
    assert scheduler.tick(overdue.engine, overdue.url, overdue.clock) == ["escalation"]
    overdue.clock.set(datetime(2024, 3, 7, 1, 59, tzinfo=LONDON))  # not yet 02:00
    scheduler.tick(overdue.engine, overdue.url, overdue.clock)
    assert _runs(overdue.engine) == 1
    overdue.clock.set(datetime(2024, 3, 7, 2, 1, tzinfo=LONDON))
    assert "indicator figures" in scheduler.tick(overdue.engine, overdue.url, overdue.clock)
    assert _runs(overdue.engine) == 2


def test_a_failing_job_is_recorded_loudly_and_the_others_still_run(
    overdue: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(ctx: object, url: str) -> None:
        raise RuntimeError("the figures store is unreachable")

    monkeypatch.setattr(
        scheduler, "JOBS", (scheduler.Job("indicator figures", lambda ctx: True, broken), *scheduler.JOBS[:1])
    )
    assert scheduler.tick(overdue.engine, overdue.url, overdue.clock) == ["escalation"]
    assert _level(overdue.engine, overdue.task_id) == 1
    with overdue.engine.connect() as connection:
        alerts = connection.execute(select(OperationalAlert.rule_id, OperationalAlert.error)).all()
    assert [(rule, "unreachable" in error) for rule, error in alerts] == [("SCHEDULER", True)]


def test_a_tick_that_fails_outright_does_not_stop_the_scheduler(
    overdue: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database unreachable even for the alert: the loop logs it and ticks again, escalating once it is back."""
    real_tick, calls = scheduler.tick, []

    def flaky(engine: object, url: str, clock: object) -> list[str]:
        calls.append(1)
        if len(calls) == 1:
            raise OSError("database unreachable")
        return real_tick(overdue.engine, url, overdue.clock)

    monkeypatch.setattr(scheduler, "tick", flaky)

    async def a_few_ticks() -> None:
        ticking = asyncio.create_task(scheduler.run_forever(overdue.engine, overdue.url, overdue.clock, 0.01))
        deadline = time.monotonic() + 30
        while len(calls) < 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        ticking.cancel()
        with suppress(asyncio.CancelledError):
            await ticking

    # In a thread of its own: a browser test before this one may have left an event loop running on this one.
    runner = threading.Thread(target=asyncio.run, args=(a_few_ticks(),))
    runner.start()
    runner.join(timeout=60)
    assert len(calls) >= 2
    assert _level(overdue.engine, overdue.task_id) == 1


def test_the_running_app_ticks_on_its_own(overdue: SimpleNamespace) -> None:
    settings = WebSettings(
        database_url=overdue.url,
        secret_key="k" * 32,
        secure_cookies=False,
        clock=overdue.clock,
        scheduler_seconds=0.05,
    )
    with TestClient(create_app(settings)):
        deadline = time.monotonic() + 30
        while _level(overdue.engine, overdue.task_id) == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
    assert _level(overdue.engine, overdue.task_id) == 1
    assert _runs(overdue.engine) == 1


def test_without_a_scheduler_the_app_escalates_nothing(overdue: SimpleNamespace) -> None:
    settings = WebSettings(database_url=overdue.url, secret_key="k" * 32, secure_cookies=False, clock=overdue.clock)
    with TestClient(create_app(settings)):
        time.sleep(0.5)
    assert _level(overdue.engine, overdue.task_id) == 0
