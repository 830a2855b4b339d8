"""A person on CMHT North with a key worker, a team manager, a consultant and a safety lead, and one family concern
recorded on Monday 4 March 2024 at 10:00 (SN01 due by the end of Tuesday 5 March)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session

from safetynet.core.clock import LONDON, FixedClock
from safetynet.core.context import Actor, Context, Role
from safetynet.core.ids import SeededIds
from safetynet.record.org import service as org
from safetynet.record.org.schemas import StaffIn
from safetynet.rules.facts import History, load_history
from safetynet.scenarios import format as fmt
from safetynet.scenarios import loader

EVENTS: list[dict[str, Any]] = [
    {"at": "2024-01-08", "type": "episode_start", "team": "CMHT North", "pathway": "cmht"},
    {"at": "2024-01-08", "type": "keyworker_assigned", "team": "CMHT North", "staff": "Jo Smith"},
    {"at": "2024-03-01T10:00", "type": "contact", "team": "CMHT North", "outcome": "attended", "mode": "home_visit"},
    {
        "at": "2024-03-04T10:00",
        "type": "family_concern",
        "from": "Pat Example (mother)",
        "channel": "phone",
        "text": "He is not sleeping and has stopped his tablets",
    },
]


class Trust:
    def __init__(self, session: Session, clock: FixedClock) -> None:
        self.session = session
        self.clock = clock
        scenario = fmt.parse(
            {
                "id": "tasks",
                "title": "tasks",
                "events": EVENTS,
                "patient": {"nhs_number": "9990000018", "name": "Sam Example", "born": "1990-01-01"},
            }
        )
        self.loaded = loader.load(session, scenario, ids=SeededIds("tasks"))
        ctx = self.ctx(Actor("Setup", Role.ADMINISTRATOR))
        for name, role in (
            ("Tess Manager", Role.TEAM_MANAGER),
            ("Cal Consultant", Role.CONSULTANT),
            ("Sal Safety", Role.SAFETY_LEAD),
        ):
            org.create_staff(
                ctx, StaffIn(name=name, role=role, team=None if role is Role.SAFETY_LEAD else "CMHT North")
            )
        session.flush()

    def ctx(self, actor: Actor) -> Context:
        return Context(self.session, actor, self.clock, SeededIds("tasks-ctx"))

    def staff(self, name: str) -> Actor:
        member = org.find_staff(self.ctx(Actor("x", Role.SYSTEM)), name)
        assert member is not None
        return Actor(member.name, Role(member.role), member.id)

    def history(self) -> History:
        return load_history(self.session, self.loaded.patient_id)


@pytest.fixture
def trust(session: Session) -> Trust:
    return Trust(session, FixedClock(datetime(2024, 3, 4, 12, 0, tzinfo=LONDON)))
