"""The partner and family channels' own world: its people, accounts and constants, kept apart from ``world.py``
(whose people other tests rely on); the fixtures are in ``channels_world``, which the tests load as a plugin.

Five people from the family-concern story (2021), loaded up to Thursday 1 April 17:00, each with Chris Taylor as key
worker and Dee Placeholder (sister, consented, no scope recorded) as registered carer:

- ``REGISTERED`` (Jordan Practice): registered with practice ``Y00004``; a handover letter sent there; shared with
  Northshire Police and with the practice; a second carer, Sam Noconsent (brother), without consent.
- ``ELSEWHERE`` (Robin Elsewhere): registered with practice ``Y00099``; a handover letter sent there; shared with
  Southshire Police.
- ``TWIN_A`` and ``TWIN_B``: both "Alex Twin", born the same day (a name and date of birth match two people).
- ``SCOPED`` (Casey Scoped, practice ``Y00004``): a carer, Val Scoped (mother), whose consent covers "the crisis
  plan and appointments"; a safety plan and an appointment booked.

Accounts: ``gwen`` (GP practice Y00004), ``morgan`` (Northshire Police), ``dee``, ``sam`` and ``val`` (carers),
``chris`` (the key worker). The clock stands at Good Friday, 2 April 2021, 09:00."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from safetynet.access import accounts
from safetynet.access.grants import LawfulBasis, SharedItem
from safetynet.access.shares import SharedItemIn, ShareIn
from safetynet.core.clock import LONDON, FixedClock
from safetynet.core.context import Actor, Context, Role
from safetynet.core.db import make_engine, unit_of_work
from safetynet.core.ids import SeededIds
from safetynet.record import channels, relationships
from safetynet.record.careplans import service as careplans
from safetynet.record.careplans.schemas import GpHandoverLetterIn
from safetynet.record.carers import service as carers
from safetynet.record.carers.schemas import CarerIn
from safetynet.record.contacts import service as contacts
from safetynet.record.contacts.schemas import AppointmentIn
from safetynet.record.org import service as org
from safetynet.record.org.schemas import StaffIn
from safetynet.record.risk import service as risk
from safetynet.record.risk.schemas import RiskAssessmentIn
from safetynet.scenarios import format as fmt
from safetynet.scenarios.loader import Loading
from safetynet.tasks.runner import reconcile_people
from tests.conftest import SCENARIOS
from tests.web.world import PASSWORD

LOADED_UNTIL = datetime(2021, 4, 1, 17, 0, tzinfo=LONDON)
NOW = datetime(2021, 4, 2, 9, 0, tzinfo=LONDON)  # Good Friday: the next working day is Tuesday 6 April
REGISTERED = "9993000019"
ELSEWHERE = "9993000027"
TWIN_A = "9993000035"
TWIN_B = "9993000043"
SCOPED = "9993000051"
UNKNOWN = "9993000078"  # a valid NHS number nobody in this world has
BORN = "1998-11-03"  # everyone's date of birth (the story's)
PRACTICE = "Y00004"
FORCE = "Northshire Police"
OTHER_FORCE = "Southshire Police"
LETTER_BODY = "Violence history: none recorded.\nRoute back: call CMHT North the same day."
OTHER_LETTER_BODY = "A letter for another practice's patient"
POLICE_SHARE = "Known to CMHT North; key worker Chris Taylor, 0113 496 0000 in office hours"
OTHER_FORCE_SHARE = "Shared with Southshire only"
PRACTICE_SHARE = "Crisis plan: call the crisis team on 0113 496 0999"
SAFETY_PLAN = "Call Val, then the crisis team; keep the medication locked away"
PEOPLE = {
    REGISTERED: ("Jordan Practice", PRACTICE),
    ELSEWHERE: ("Robin Elsewhere", "Y00099"),
    TWIN_A: ("Alex Twin", PRACTICE),
    TWIN_B: ("Alex Twin", "Y00099"),
    SCOPED: ("Casey Scoped", PRACTICE),
}
# username -> (name, role, organisation, cares for, registered carer name)
ACCOUNTS: dict[str, tuple[str, Role, str | None, str | None]] = {
    "gwen": ("Dr Gwen Practice", Role.GP_PARTNER, PRACTICE, None),
    "morgan": ("PC Morgan Liaison", Role.POLICE_LIAISON, FORCE, None),
    "dee": ("Dee Placeholder", Role.FAMILY_MEMBER, None, REGISTERED),
    "sam": ("Sam Noconsent", Role.FAMILY_MEMBER, None, REGISTERED),
    "val": ("Val Scoped", Role.FAMILY_MEMBER, None, SCOPED),
}


@dataclass
class ChannelsWorld:
    url: str
    clock: FixedClock
    patient_ids: dict[str, str]  # NHS number -> record id
    letter_ids: dict[str, str]  # NHS number -> handover letter fact id

    def reset_clock(self) -> None:
        self.clock.set(NOW)

    def count(self, model: type, *where: Any) -> int:
        engine = make_engine(self.url)
        with engine.connect() as connection:
            found = connection.execute(select(func.count()).select_from(model).where(*where)).scalar_one()
        engine.dispose()
        return int(found)

    def rows(self, model: type, *where: Any) -> list[Any]:
        engine = make_engine(self.url)
        with engine.connect() as connection:
            found = list(connection.execute(select(model).where(*where)).all())
        engine.dispose()
        return found


def _load(session: Any, number: str) -> str:
    scenario = fmt.load_file(SCENARIOS / "family-concern-easter.yaml")
    name, practice = PEOPLE[number]
    patient = scenario.patient.model_copy(update={"nhs_number": number, "name": name, "gp_practice": practice})
    story = scenario.model_copy(update={"patient": patient})
    loading = Loading(session, story, ids=SeededIds(f"channels-{number}"))
    for index in loading.order:
        if story.events[index].recorded_at <= LOADED_UNTIL:
            loading.apply(index)
    return loading.loaded.patient_id


def _share(ctx: Context, patient_id: str, role: Role, organisation: str, text: str, *bases: LawfulBasis) -> None:
    kind = SharedItem.RISK_SUMMARY if role is Role.POLICE_LIAISON else SharedItem.CRISIS_PLAN
    relationships.share(
        ctx,
        patient_id,
        ShareIn(
            recipient_role=role,
            recipient_organisation=organisation,
            lawful_basis=list(bases),
            purpose="Safeguarding: the person and the public",
            items=[SharedItemIn(kind=kind, text=text)],
        ),
    )


def build(url: str) -> ChannelsWorld:
    engine = make_engine(url)
    with unit_of_work(engine) as session:
        ids = {number: _load(session, number) for number in PEOPLE}
        setup = Context(session, Actor("Channels test set-up", Role.SYSTEM), FixedClock(LOADED_UNTIL), SeededIds("ch"))
        reconcile_people(setup, list(ids.values()))
        chris = org.find_staff(setup, "Chris Taylor")
        assert chris is not None
        ctx = setup.as_actor(Actor("Chris Taylor", Role.KEY_WORKER, staff_id=chris.id))
        at = LOADED_UNTIL - timedelta(days=1)
        carers.register_carer(
            ctx,
            ids[REGISTERED],
            CarerIn(occurred_at=at, name="Sam Noconsent", relationship="brother", consent_to_share=False),
        )
        carers.register_carer(
            ctx,
            ids[SCOPED],
            CarerIn(
                occurred_at=at,
                name="Val Scoped",
                relationship="mother",
                consent_to_share=True,
                consent_scope="the crisis plan and appointments",
            ),
        )
        risk.record_assessment(
            ctx,
            ids[SCOPED],
            RiskAssessmentIn(occurred_at=at, factors={}, safety_plan=True, safety_plan_detail=SAFETY_PLAN),
        )
        contacts.book_appointment(
            ctx, ids[SCOPED], AppointmentIn(occurred_at=at, due_at=NOW + timedelta(days=5), mode="home_visit")
        )
        letters = {
            number: careplans.record_gp_letter(
                ctx, ids[number], GpHandoverLetterIn(occurred_at=at, sections=["what_to_do", "route_back"], body=body)
            ).fact_id
            for number, body in ((REGISTERED, LETTER_BODY), (ELSEWHERE, OTHER_LETTER_BODY))
        }
        police = (LawfulBasis.CDA_S115, LawfulBasis.ART_6_1_E, LawfulBasis.ART_9_2_G)
        _share(ctx, ids[REGISTERED], Role.POLICE_LIAISON, FORCE, POLICE_SHARE, *police)
        _share(ctx, ids[ELSEWHERE], Role.POLICE_LIAISON, OTHER_FORCE, OTHER_FORCE_SHARE, *police)
        _share(
            ctx,
            ids[REGISTERED],
            Role.GP_PARTNER,
            PRACTICE,
            PRACTICE_SHARE,
            LawfulBasis.ART_6_1_E,
            LawfulBasis.ART_9_2_H,
        )
        session.flush()
        accounts.create(setup, staff_id=chris.id, username="chris", password=PASSWORD)
        for username, (name, role, organisation, cares_for) in ACCOUNTS.items():
            staff = org.create_staff(setup, StaffIn(name=name, role=role))
            session.flush([staff])
            channels.create_account(
                setup,
                staff=staff,
                username=username,
                password=PASSWORD,
                organisation=organisation,
                cares_for=cares_for,
            )
    engine.dispose()
    return ChannelsWorld(url=url, clock=FixedClock(NOW), patient_ids=ids, letter_ids=letters)
