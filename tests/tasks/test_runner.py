"""Findings become owned tasks, idempotently; tasks close when the condition clears; modes and failures."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from safetynet.core.clock import LONDON
from safetynet.core.context import Actor, Role
from safetynet.rules import registry
from safetynet.rules.model import Mode
from safetynet.tasks import service
from safetynet.tasks.models import OperationalAlert, Task, TaskStatus
from safetynet.tasks.runner import SAFETY_NET, reconcile
from safetynet.tasks.schemas import RuleSettingIn
from tests.tasks.conftest import Trust


def _sn01(trust: Trust) -> Task:
    (task,) = [t for t in service.live_tasks(trust.ctx(SAFETY_NET), trust.loaded.patient_id) if t.rule_id == "SN01"]
    return task


def test_a_finding_becomes_a_task_owned_by_the_key_worker_with_its_due_time_and_evidence(trust: Trust) -> None:
    result = reconcile(trust.ctx(SAFETY_NET), trust.history())
    assert [t.rule_id for t in result.opened] == ["SN01"]
    task = result.opened[0]
    assert task.owner_staff_id == trust.staff("Jo Smith").staff_id
    assert task.owner_role == "key_worker"
    assert task.due_at == datetime(2024, 3, 5, 23, 59, 59, tzinfo=LONDON)
    assert "Pat Example" in task.evidence[0]["text"]
    assert task.status == TaskStatus.OPEN


def test_reconciling_twice_never_duplicates_a_task(trust: Trust) -> None:
    reconcile(trust.ctx(SAFETY_NET), trust.history())
    again = reconcile(trust.ctx(SAFETY_NET), trust.history())
    assert again.opened == []
    assert trust.session.scalar(select(func.count()).select_from(Task)) == 1


def test_a_task_closes_with_a_reason_when_the_condition_clears(trust: Trust) -> None:
    reconcile(trust.ctx(SAFETY_NET), trust.history())
    trust.clock.advance(timedelta(hours=3))
    from safetynet.record.carers import service as carers
    from safetynet.record.carers.schemas import FamilyConcernResponseIn

    concern_id = trust.loaded.fact_ids[3]
    carers.respond_to_concern(
        trust.ctx(trust.staff("Jo Smith")),
        trust.loaded.patient_id,
        FamilyConcernResponseIn(occurred_at=trust.clock.now(), concern_fact_id=concern_id, text="Rang his mother back"),
    )
    trust.session.flush()
    result = reconcile(trust.ctx(SAFETY_NET), trust.history())
    assert [t.rule_id for t in result.closed] == ["SN01"]
    closed = result.closed[0]
    assert (closed.status, closed.close_reason) == (TaskStatus.CLOSED, "the condition cleared")
    assert [e.action for e in service.history(trust.ctx(SAFETY_NET), closed.id)] == ["opened", "closed"]


def test_monitor_mode_records_the_finding_but_asks_nobody_to_act(trust: Trust) -> None:
    lead = trust.ctx(trust.staff("Sal Safety"))
    service.set_rule(lead, "SN01", RuleSettingIn(mode=Mode.MONITOR, rationale="Piloting before go-live"))
    (task,) = reconcile(trust.ctx(SAFETY_NET), trust.history()).opened
    assert task.status == TaskStatus.MONITOR
    assert task.owner_staff_id is None
    assert service.worklist(trust.ctx(SAFETY_NET), trust.staff("Jo Smith").staff_id or "") == []


def test_off_mode_raises_nothing(trust: Trust) -> None:
    lead = trust.ctx(trust.staff("Sal Safety"))
    service.set_rule(lead, "SN01", RuleSettingIn(mode=Mode.OFF, rationale="Replaced by a local process"))
    assert reconcile(trust.ctx(SAFETY_NET), trust.history()).opened == []


def test_only_a_safety_lead_or_administrator_may_change_a_rule_and_parameters_are_validated(trust: Trust) -> None:
    from safetynet.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed, match="safety lead"):
        service.set_rule(
            trust.ctx(trust.staff("Jo Smith")), "SN06", RuleSettingIn(mode=Mode.OFF, rationale="Too many alerts")
        )
    lead = trust.ctx(trust.staff("Sal Safety"))
    with pytest.raises(ValidationFailed) as caught:
        service.set_rule(
            lead,
            "SN06",
            RuleSettingIn(
                mode=Mode.ACTIVE, parameters={"grace_days": 500, "colour": 1}, rationale="Local depot clinic practice"
            ),
        )
    assert {p.field for p in caught.value.problems} == {"parameters.grace_days", "parameters.colour"}
    with pytest.raises(ValidationFailed, match="no rule"):
        service.set_rule(lead, "SN99", RuleSettingIn(mode=Mode.OFF, rationale="Does not exist anyway"))


def test_a_rule_that_fails_is_an_operational_alert_and_the_other_rules_still_raise_tasks(
    trust: Trust, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(facts: object, params: object) -> list[object]:
        raise RuntimeError("boom")

    rules = tuple(replace(r, watch=broken) if r.id == "SN19" else r for r in registry.WATCH_RULES)
    monkeypatch.setattr("safetynet.tasks.runner.WATCH_RULES", rules)
    result = reconcile(trust.ctx(SAFETY_NET), trust.history())
    assert [t.rule_id for t in result.opened] == ["SN01"]
    (alert,) = trust.session.scalars(select(OperationalAlert))
    assert (alert.rule_id, alert.patient_id) == ("SN19", trust.loaded.patient_id)
    assert "boom" in alert.error


def test_with_no_key_worker_the_team_manager_owns_the_task(trust: Trust) -> None:
    from safetynet.record.episodes import service as episodes

    ctx = trust.ctx(Actor("Admin", Role.ADMINISTRATOR))
    (allocation,) = episodes.current_key_workers(ctx, trust.loaded.patient_id)
    episodes.end_key_worker(ctx, allocation.fact_id, trust.clock.now() - timedelta(hours=1))
    trust.session.flush()
    task = next(t for t in reconcile(trust.ctx(SAFETY_NET), trust.history()).opened if t.rule_id == "SN01")
    assert (task.owner_role, task.owner_staff_id) == ("team_manager", trust.staff("Tess Manager").staff_id)
