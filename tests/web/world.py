"""The web tests' world: two people from the family-concern scenario, loaded up to the moment the second concern
was recorded (Maundy Thursday 2021, 16:40), with the safety net's SN01 task for each owned by their key worker
Chris Taylor; one staff member per other role; accounts for all but one; a risk event entered in error."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from safetynet.access import accounts
from safetynet.core.clock import LONDON, FixedClock
from safetynet.core.context import Actor, Context, Role
from safetynet.core.db import make_engine, unit_of_work
from safetynet.core.ids import SeededIds
from safetynet.record.medication import service as medication
from safetynet.record.medication.schemas import DepotAdministrationIn, PrescriptionIn
from safetynet.record.org import service as org
from safetynet.record.org.schemas import StaffIn
from safetynet.record.risk import service as risk
from safetynet.record.risk.schemas import RiskEventIn
from safetynet.scenarios import format as fmt
from safetynet.scenarios.loader import Loading
from safetynet.tasks.models import Task
from safetynet.tasks.runner import reconcile_people
from tests.conftest import SCENARIOS

LOADED_UNTIL = datetime(2021, 4, 1, 17, 0, tzinfo=LONDON)
NOW = datetime(2021, 4, 2, 9, 0, tzinfo=LONDON)  # Good Friday morning: the concern is open, not yet overdue
PASSWORD = "a synthetic password 4 tests"
RESPONDER = "9991000089"  # the key worker records a response for this person in the browser test
OTHER = "9990000018"  # the same story under another NHS number: its task stays open for the other tests

# username -> (staff name, role); Chris Taylor is the scenario's key worker.
ACCOUNTS = {
    "chris": ("Chris Taylor", Role.KEY_WORKER),
    "pat": ("Pat Manager", Role.TEAM_MANAGER),
    "lee": ("Dr Lee Consultant", Role.CONSULTANT),
    "dana": ("Dana Safety-Lead", Role.SAFETY_LEAD),
    "ada": ("Ada Administrator", Role.ADMINISTRATOR),
}
NAMES = {RESPONDER: "Jordan Placeholder", OTHER: "Riley Example"}
NO_ACCOUNT = "Mo Ahmed"  # took the concern at the duty desk; has no account


@dataclass
class World:
    url: str
    clock: FixedClock
    concern_ids: dict[str, str]  # NHS number -> the unanswered concern's fact id
    task_ids: dict[str, str]  # NHS number -> its SN01 task id
    struck_risk_event: str  # fact id of the risk event entered in error (on OTHER)

    def reset_clock(self) -> None:
        self.clock.set(NOW)


def build(url: str) -> World:
    engine = make_engine(url)
    scenario = fmt.load_file(SCENARIOS / "family-concern-easter.yaml")
    concern_ids: dict[str, str] = {}
    people: dict[str, str] = {}
    with unit_of_work(engine) as session:
        for number in (RESPONDER, OTHER):
            patient = scenario.patient.model_copy(update={"nhs_number": number, "name": NAMES[number]})
            story = scenario.model_copy(update={"patient": patient})
            loading = Loading(session, story, ids=SeededIds(f"web-{number}"))
            for index in loading.order:
                if story.events[index].recorded_at <= LOADED_UNTIL:
                    loading.apply(index)
            people[number] = loading.loaded.patient_id
            concern_ids[number] = loading.loaded.fact_ids[15]
        ctx = Context(session, Actor("Web test set-up", Role.SYSTEM), FixedClock(LOADED_UNTIL), SeededIds("web"))
        reconcile_people(ctx, list(people.values()))
        for name, role in ACCOUNTS.values():
            if org.find_staff(ctx, name) is None:
                org.create_staff(ctx, StaffIn(name=name, role=role, team="CMHT North"))
        session.flush()
        for username, (name, _) in ACCOUNTS.items():
            staff = org.find_staff(ctx, name)
            assert staff is not None
            accounts.create(ctx, staff_id=staff.id, username=username, password=PASSWORD)
        chris = org.find_staff(ctx, "Chris Taylor")
        assert chris is not None
        acting = ctx.as_actor(Actor("Chris Taylor", Role.KEY_WORKER, staff_id=chris.id))
        event = risk.record_risk_event(
            acting,
            people[OTHER],
            RiskEventIn(
                occurred_at=LOADED_UNTIL - timedelta(days=30),
                category="violence_to_others",
                harm="minor",
                source="family",
                description="Pushed his sister during an argument (recorded against the wrong person)",
            ),
        )
        session.flush()
        risk.enter_risk_event_in_error(acting, people[OTHER], event.fact_id, "Recorded on the wrong person's record")
        start = LOADED_UNTIL - timedelta(days=60)
        medication.prescribe(
            acting,
            people[OTHER],
            PrescriptionIn(occurred_at=start, drug="paliperidone", route="depot", dose="100 mg", interval_days=28),
        )
        medication.record_depot(
            acting,
            people[OTHER],
            DepotAdministrationIn(occurred_at=start + timedelta(days=30), drug="paliperidone", outcome="given"),
        )
        tasks = {
            t.patient_id: t.id
            for t in session.scalars(select(Task).where(Task.rule_id == "SN01", Task.closed_at.is_(None)))
        }
        task_ids = {number: tasks[pid] for number, pid in people.items()}
    engine.dispose()
    return World(
        url=url, clock=FixedClock(NOW), concern_ids=concern_ids, task_ids=task_ids, struck_risk_event=event.fact_id
    )
