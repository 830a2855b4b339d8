"""What was done comes from the safety net's tasks: a dismissed task (with its rationale and role) is shown against
the period its finding was open, and in the chronology's stream at the moment it was dismissed."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from safetynet.core.clock import LONDON, FixedClock
from safetynet.learning import chronology
from safetynet.learning.missed import Response
from safetynet.tasks import service
from safetynet.tasks.runner import SAFETY_NET, reconcile
from safetynet.tasks.schemas import DismissIn
from tests import personas
from tests.tasks.conftest import Trust

RECORDED = datetime(2024, 3, 4, 10, 0, tzinfo=LONDON)  # the concern (see tests/tasks/conftest.py)


@pytest.fixture
def trust(session: Session) -> Trust:
    return Trust(session, FixedClock(datetime(2024, 3, 4, 12, 0, tzinfo=LONDON)))


def test_a_dismissed_task_is_what_was_done_about_its_finding(trust: Trust) -> None:
    (task,) = reconcile(trust.ctx(SAFETY_NET), trust.history()).opened
    trust.clock.advance(timedelta(hours=2))
    service.dismiss(trust.ctx(trust.staff("Tess Manager")), task.id, DismissIn(rationale="Mother rang the GP instead"))
    trust.session.flush()
    trust.clock.set(datetime(2024, 3, 10, 12, 0, tzinfo=LONDON))
    ctx = trust.ctx(personas.DEV)
    found = chronology.build(ctx, "9990000018", start=date(2024, 1, 8), end=date(2024, 3, 9))
    (period,) = [p for p in found.periods if p.rule_id == "SN01"]
    assert period.opened_at == RECORDED
    assert period.closed_at is None
    assert period.response is Response.DISMISSED
    assert period.missed
    (trail,) = period.tasks
    assert [s.action for s in trail.steps] == ["opened", "dismissed"]
    assert trail.status == "dismissed"
    dismissal = period.dismissal
    assert dismissal is not None
    assert (dismissal.actor_role, dismissal.rationale) == ("team_manager", "Mother rang the GP instead")
    assert period.time_to_action() == timedelta(hours=4)  # 10:00 recorded, dismissed at 14:00
    stream = [r for r in found.rows() if r.what == "task"]
    assert [r.line for r in stream] == [
        "SN01 task dismissed by Tess Manager (team_manager): Mother rang the GP instead"
    ]


def test_as_known_before_the_dismissal_the_task_is_still_open(trust: Trust) -> None:
    (task,) = reconcile(trust.ctx(SAFETY_NET), trust.history()).opened
    trust.clock.advance(timedelta(hours=2))
    service.dismiss(trust.ctx(trust.staff("Tess Manager")), task.id, DismissIn(rationale="Mother rang the GP instead"))
    trust.session.flush()
    trust.clock.set(datetime(2024, 3, 10, 12, 0, tzinfo=LONDON))
    before = datetime(2024, 3, 4, 13, 0, tzinfo=LONDON)
    found = chronology.build(trust.ctx(personas.DEV), "9990000018", start=date(2024, 1, 8), at=before)
    (period,) = [p for p in found.periods if p.rule_id == "SN01"]
    assert period.response is Response.STILL_OPEN
    assert [t.status for t in period.tasks] == ["open"]
