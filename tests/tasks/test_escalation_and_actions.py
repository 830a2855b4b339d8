"""Overdue tasks escalate one step at a time; acknowledging, dismissing and snoozing record who, when and why."""

from __future__ import annotations

from datetime import timedelta

import pytest

from safetynet.core.errors import ValidationFailed
from safetynet.tasks import service
from safetynet.tasks.escalation import escalate
from safetynet.tasks.models import Task, TaskStatus
from safetynet.tasks.runner import SAFETY_NET, reconcile
from safetynet.tasks.schemas import AcknowledgeIn, DismissIn, SnoozeIn
from tests.tasks.conftest import Trust


def _task(trust: Trust) -> Task:
    (task,) = [t for t in reconcile(trust.ctx(SAFETY_NET), trust.history()).opened if t.rule_id == "SN01"]
    return task


def test_nothing_escalates_before_it_is_overdue(trust: Trust) -> None:
    task = _task(trust)
    trust.clock.set(task.due_at)
    assert escalate(trust.ctx(SAFETY_NET)) == []


def test_an_overdue_task_goes_to_the_team_manager_then_a_working_day_later_to_the_consultant(trust: Trust) -> None:
    task = _task(trust)
    trust.clock.set(task.due_at + timedelta(minutes=1))
    assert escalate(trust.ctx(SAFETY_NET)) == [task]
    assert (task.escalation_level, task.owner_role) == (1, "team_manager")
    assert task.owner_staff_id == trust.staff("Tess Manager").staff_id
    assert escalate(trust.ctx(SAFETY_NET)) == []  # once per step, however often the scheduler runs
    trust.clock.set(task.due_at + timedelta(days=1, minutes=1))  # Wednesday: one working day later
    assert escalate(trust.ctx(SAFETY_NET)) == [task]
    assert (task.escalation_level, task.owner_role) == (2, "consultant")
    trust.clock.advance(timedelta(days=30))
    assert escalate(trust.ctx(SAFETY_NET)) == []  # the top of the ladder
    actions = [e.action for e in service.history(trust.ctx(SAFETY_NET), task.id)]
    assert actions == ["opened", "escalated", "escalated"]


def test_dismissal_records_who_their_role_and_why(trust: Trust) -> None:
    task = _task(trust)
    service.dismiss(
        trust.ctx(trust.staff("Jo Smith")), task.id, DismissIn(rationale="Mother rang back to say all is well")
    )
    assert task.status == TaskStatus.DISMISSED
    event = service.history(trust.ctx(SAFETY_NET), task.id)[-1]
    assert (event.action, event.actor_name, event.actor_role) == ("dismissed", "Jo Smith", "key_worker")
    assert event.rationale == "Mother rang back to say all is well"


def test_a_dismissal_without_a_real_rationale_is_refused(trust: Trust) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        DismissIn(rationale="ok")


def test_a_system_account_cannot_dismiss_a_safety_finding(trust: Trust) -> None:
    task = _task(trust)
    with pytest.raises(ValidationFailed, match="cannot dismiss"):
        service.dismiss(trust.ctx(SAFETY_NET), task.id, DismissIn(rationale="Automated clean-up of old tasks"))


def test_an_acknowledged_task_still_escalates_when_overdue(trust: Trust) -> None:
    task = _task(trust)
    service.acknowledge(
        trust.ctx(trust.staff("Jo Smith")), task.id, AcknowledgeIn(rationale="Calling her back after clinic")
    )
    trust.clock.set(task.due_at + timedelta(minutes=1))
    assert escalate(trust.ctx(SAFETY_NET)) == [task]


def test_a_snoozed_task_leaves_the_worklist_until_its_snooze_ends(trust: Trust) -> None:
    task = _task(trust)
    jo = trust.staff("Jo Smith")
    service.snooze(
        trust.ctx(jo),
        task.id,
        SnoozeIn(until=trust.clock.now() + timedelta(hours=4), rationale="Mother at work until 4pm"),
    )
    assert service.worklist(trust.ctx(jo), jo.staff_id or "") == []
    trust.clock.advance(timedelta(hours=5))
    assert service.worklist(trust.ctx(jo), jo.staff_id or "") == [task]


def test_a_snooze_longer_than_fourteen_days_is_refused(trust: Trust) -> None:
    task = _task(trust)
    with pytest.raises(ValidationFailed, match="14 days"):
        service.snooze(
            trust.ctx(trust.staff("Jo Smith")),
            task.id,
            SnoozeIn(until=trust.clock.now() + timedelta(days=15), rationale="Away on leave for a while"),
        )
