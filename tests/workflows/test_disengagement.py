"""Instead of discharge, the disengagement steps: shown from the record where it can, recorded by hand otherwise."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from safetynet.core.clock import LONDON, FixedClock
from safetynet.core.context import Actor, Context, Role
from safetynet.core.errors import ValidationFailed
from safetynet.core.ids import SeededIds
from safetynet.rules.facts import load_history
from safetynet.scenarios import format as fmt
from safetynet.scenarios import loader
from safetynet.tasks.runner import SAFETY_NET, reconcile
from safetynet.workflows import disengagement

EVENTS = [
    {"at": "2024-01-08", "type": "episode_start", "team": "EIP", "pathway": "eip"},
    {"at": "2024-01-08", "type": "keyworker_assigned", "team": "EIP", "staff": "Jo Smith"},
    {"at": "2024-01-15", "type": "contact", "team": "EIP", "outcome": "dna", "mode": "face_to_face"},
    {"at": "2024-01-22", "type": "contact", "team": "EIP", "outcome": "no_access", "mode": "home_visit"},
]


def _task_id(session: Session, extra: list[dict[str, object]] | None = None) -> tuple[str, FixedClock]:
    scenario = fmt.parse(
        {
            "id": "d",
            "title": "d",
            "events": EVENTS + (extra or []),
            "patient": {"nhs_number": "9990000018", "name": "Sam Example", "born": "1990-01-01"},
        }
    )
    loaded = loader.load(session, scenario, ids=SeededIds("d"))
    session.flush()
    clock = FixedClock(datetime(2024, 1, 23, 9, tzinfo=LONDON))
    ctx = Context(session, SAFETY_NET, clock, SeededIds("t"))
    (task,) = [t for t in reconcile(ctx, load_history(session, loaded.patient_id)).opened if t.rule_id == "SN02"]
    return task.id, clock


def test_the_steps_are_all_outstanding_when_the_task_opens_and_family_does_not_apply_without_consent(
    session: Session,
) -> None:
    task_id, clock = _task_id(session)
    steps = {s.id: s for s in disengagement.plan(Context(session, SAFETY_NET, clock), task_id)}
    assert list(steps) == list(disengagement.STEPS)
    assert not steps["contact"].done
    assert not steps["home_visit"].done
    assert steps["family"].done
    assert "no carer with consent" in steps["family"].how


def test_a_phone_call_and_a_home_visit_in_the_record_complete_their_steps(session: Session) -> None:
    extra = [
        {
            "at": "2024-01-23T10:00",
            "type": "contact",
            "team": "EIP",
            "outcome": "dna",
            "mode": "phone",
            "planned": False,
        },
        {"at": "2024-01-24T10:00", "type": "contact", "team": "EIP", "outcome": "no_access", "mode": "home_visit"},
        {
            "at": "2024-01-24T11:00",
            "type": "carer_registered",
            "name": "Pat",
            "relationship": "mother",
            "consent_to_share": True,
        },
    ]
    task_id, clock = _task_id(session, extra)
    clock.advance(timedelta(days=3))
    steps = {s.id: s for s in disengagement.plan(Context(session, SAFETY_NET, clock), task_id)}
    assert steps["contact"].done
    assert steps["home_visit"].done
    assert not steps["family"].done  # a carer with consent now exists: the family must be contacted


def test_a_step_recorded_by_hand_is_done_with_who_and_what(session: Session) -> None:
    task_id, clock = _task_id(session)
    jo = Context(session, Actor("Jo Smith", Role.KEY_WORKER), clock)
    disengagement.record_step(jo, task_id, "gp", "Spoke to Dr Example's practice: no contact since December")
    (gp,) = [s for s in disengagement.plan(jo, task_id) if s.id == "gp"]
    assert gp.done
    assert "Jo Smith" in gp.how


def test_an_unknown_step_is_refused(session: Session) -> None:
    task_id, clock = _task_id(session)
    with pytest.raises(ValidationFailed, match="no step"):
        disengagement.record_step(Context(session, SAFETY_NET, clock), task_id, "discharge", "Discharged him")
