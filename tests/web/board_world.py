"""The team board's and trust safety view's own world: a small trust with two community teams and a ward, built
through the record services (invented people), the safety net run over it, one rule in monitor mode and one
operational alert. Its own database, so the shared web world stays as its tests expect.

CMHT Board (the team whose board is tested), as known at NOW:

- Avery Boardtest: key worker Kim Keyworker; a family concern from her mother 5 days ago, never answered (SN01,
  overdue: suggested red); police information received 3 days ago.
- Blake Boardtest: key worker Sam Keyworker; the team set her zone green last week.
- Casey Boardtest: no key worker since her episode opened 40 days ago (SN10).
- Drew Boardtest: no key worker since her episode opened 10 days ago.
- Eden Boardtest: referral accepted 50 days ago, never seen: waiting for a second contact, none so far.
- Frankie Boardtest: key worker Kim Keyworker; admitted to Board Ward 6 days ago, still there.
- Harper Boardtest: referred 20 days ago, seen once (15 days ago) and taken on by Sam Keyworker: still waiting
  for a second contact.
- Indy Boardtest: referred 30 days ago, seen twice since and taken on by Sam Keyworker: no longer waiting.

EIP Board has Gale Boardtest (no key worker for 30 days) so the trust view has a second team.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from nhs_number.validate import is_valid

from safetynet.access import accounts
from safetynet.core.clock import LONDON, FixedClock
from safetynet.core.context import Actor, Context, Role
from safetynet.core.db import make_engine, unit_of_work
from safetynet.core.ids import SeededIds
from safetynet.record.carers import service as carers
from safetynet.record.carers.schemas import FamilyConcernIn
from safetynet.record.contacts import service as contacts
from safetynet.record.contacts.schemas import ContactIn
from safetynet.record.episodes import service as episodes
from safetynet.record.episodes.schemas import EpisodeIn, KeyWorkerIn, ReferralIn
from safetynet.record.legal import service as legal
from safetynet.record.legal.schemas import AdmissionIn
from safetynet.record.org import service as org
from safetynet.record.org.schemas import OrganisationIn, StaffIn, TeamIn
from safetynet.record.partners import service as partners
from safetynet.record.partners.schemas import PartnerInformationIn
from safetynet.record.patients import service as patients
from safetynet.record.patients.schemas import PatientIn
from safetynet.record.zoning import service as zoning
from safetynet.record.zoning.schemas import ZoneAssignmentIn
from safetynet.rules.model import Mode
from safetynet.tasks import service as task_service
from safetynet.tasks.models import OperationalAlert
from safetynet.tasks.runner import reconcile_people
from safetynet.tasks.schemas import RuleSettingIn

NOW = datetime(2026, 3, 11, 9, 0, tzinfo=LONDON)  # a Wednesday morning huddle
PASSWORD = "a synthetic password 4 board tests"
TEAM = "CMHT Board"
OTHER_TEAM = "EIP Board"
WARD = "Board Ward"
MONITORED = "SN08"  # police information to review: put in monitor mode by the safety lead
FAILED_RULE = "SN07"  # an operational alert for it
FAILURE = "KeyError: 'admissions' (synthetic failure for the board tests)"

# username -> (staff name, role, team)
ACCOUNTS = {
    "kim": ("Kim Keyworker", Role.KEY_WORKER, TEAM),
    "tara": ("Tara Manager", Role.TEAM_MANAGER, TEAM),
    "sol": ("Sol Safety", Role.SAFETY_LEAD, None),
    "cal": ("Cal Consultant", Role.CONSULTANT, TEAM),
}
OTHER_STAFF = {"Sam Keyworker": (Role.KEY_WORKER, TEAM), "Ola Idle": (Role.KEY_WORKER, TEAM)}


def _numbers() -> list[str]:
    """Valid NHS numbers in the 999 range (never issued to real people)."""
    found, n = [], 999_300_000
    while len(found) < 12:
        n += 1
        for check in range(10):
            candidate = f"{n}{check}"
            if is_valid(candidate):
                found.append(candidate)
                break
    return found


NUMBERS = _numbers()
PEOPLE = {
    "Avery Boardtest": NUMBERS[0],
    "Blake Boardtest": NUMBERS[1],
    "Casey Boardtest": NUMBERS[2],
    "Drew Boardtest": NUMBERS[3],
    "Eden Boardtest": NUMBERS[4],
    "Frankie Boardtest": NUMBERS[5],
    "Gale Boardtest": NUMBERS[6],
    "Harper Boardtest": NUMBERS[7],
    "Indy Boardtest": NUMBERS[8],
}


@dataclass
class BoardWorld:
    url: str
    clock: FixedClock
    team_id: str
    other_team_id: str
    ward_id: str
    patient_ids: dict[str, str] = field(default_factory=dict)  # name -> patient id

    def reset_clock(self) -> None:
        self.clock.set(NOW)


def build(url: str) -> BoardWorld:
    engine = make_engine(url)
    set_up = Actor("Board test set-up", Role.SYSTEM)
    with unit_of_work(engine) as session:
        ctx = Context(session, set_up, FixedClock(NOW - timedelta(days=60)), SeededIds("board-world"))
        trust = org.create_organisation(ctx, OrganisationIn(ods_code="RXB", name="Board Test NHS Trust"))
        team = org.create_team(ctx, trust, TeamIn(name=TEAM, pathway="cmht"))
        other = org.create_team(ctx, trust, TeamIn(name=OTHER_TEAM, pathway="eip"))
        ward = org.create_team(ctx, trust, TeamIn(name=WARD, pathway="inpatient"))
        session.flush()
        for name, role, team_name in ACCOUNTS.values():
            org.create_staff(ctx, StaffIn(name=name, role=role, team=team_name))
        for name, (role, team_name) in OTHER_STAFF.items():
            org.create_staff(ctx, StaffIn(name=name, role=role, team=team_name))
        session.flush()
        staff = {name: org.find_staff(ctx, name) for name in [*[a[0] for a in ACCOUNTS.values()], *OTHER_STAFF]}
        for username, (name, _, _) in ACCOUNTS.items():
            found = staff[name]
            assert found is not None
            accounts.create(ctx, staff_id=found.id, username=username, password=PASSWORD)
        ids = {
            name: patients.register(ctx, PatientIn(nhs_number=number, name=name, born=date(1990, 5, 17))).id
            for name, number in PEOPLE.items()
        }
        session.flush()

        def at(days_ago: float) -> FixedClock:
            return FixedClock(NOW - timedelta(days=days_ago))

        def acting(days_ago: float, who: str = "Tara Manager") -> Context:
            member = staff[who]
            assert member is not None
            made = ctx.as_actor(Actor(who, Role(member.role), staff_id=member.id))
            return Context(made.session, made.actor, at(days_ago), ctx.ids)

        def episode(name: str, team_id: str, days_ago: float, key_worker: str | None = None) -> None:
            c = acting(days_ago)
            started = episodes.start_episode(c, ids[name], EpisodeIn(occurred_at=c.clock.now(), team_id=team_id))
            session.flush()
            if key_worker:
                member = staff[key_worker]
                assert member is not None
                episodes.assign_key_worker(
                    c,
                    ids[name],
                    KeyWorkerIn(
                        occurred_at=c.clock.now(), team_id=team_id, episode_fact_id=started.fact_id, staff_id=member.id
                    ),
                )

        episode("Avery Boardtest", team.id, 90, "Kim Keyworker")
        episode("Blake Boardtest", team.id, 80, "Sam Keyworker")
        episode("Casey Boardtest", team.id, 40)
        episode("Drew Boardtest", team.id, 10)
        episode("Frankie Boardtest", team.id, 70, "Kim Keyworker")
        episode("Gale Boardtest", other.id, 30)
        for name, days_ago in (("Eden Boardtest", 50), ("Harper Boardtest", 20), ("Indy Boardtest", 30)):
            c = acting(days_ago)
            episodes.record_referral(c, ids[name], ReferralIn(occurred_at=c.clock.now(), team_id=team.id))
        for name, days_ago in (("Harper Boardtest", 15), ("Indy Boardtest", 25), ("Indy Boardtest", 18)):
            c = acting(days_ago, "Sam Keyworker")
            contacts.record_contact(
                c,
                ids[name],
                ContactIn(occurred_at=c.clock.now(), team_id=team.id, outcome="attended", mode="face_to_face"),
            )
        episode("Harper Boardtest", team.id, 15, "Sam Keyworker")
        episode("Indy Boardtest", team.id, 25, "Sam Keyworker")
        c = acting(5, "Kim Keyworker")
        carers.record_concern(
            c,
            ids["Avery Boardtest"],
            FamilyConcernIn(
                occurred_at=c.clock.now(),
                team_id=team.id,
                raised_by="Morgan Boardtest (mother)",
                channel="phone",
                text="She has stopped eating and is talking about people watching the house.",
            ),
        )
        c = acting(3, "Kim Keyworker")
        partners.record_partner_information(
            c,
            ids["Avery Boardtest"],
            PartnerInformationIn(
                occurred_at=c.clock.now() - timedelta(days=1),
                team_id=team.id,
                agency="police",
                kind="incident",
                detail="Called to a disturbance at her address; no arrest.",
            ),
        )
        c = acting(6)
        legal.admit(
            c, ids["Frankie Boardtest"], AdmissionIn(occurred_at=c.clock.now(), ward_id=ward.id, legal_status="03")
        )
        c = acting(7)
        zoning.set_zone(
            c,
            ids["Blake Boardtest"],
            ZoneAssignmentIn(
                occurred_at=c.clock.now(), team_id=team.id, zone="green", rationale="Settled; seen weekly"
            ),
        )
        lead = acting(1, "Sol Safety")
        task_service.set_rule(
            lead,
            MONITORED,
            RuleSettingIn(
                mode=Mode.MONITOR, rationale="Trialling the police information feed before asking anyone to act"
            ),
        )
        session.flush()
        now_ctx = Context(session, set_up, FixedClock(NOW), ctx.ids)
        reconcile_people(now_ctx, list(ids.values()))
        session.add(
            OperationalAlert(
                at=NOW - timedelta(hours=2), rule_id=FAILED_RULE, patient_id=ids["Avery Boardtest"], error=FAILURE
            )
        )
        world = BoardWorld(
            url=url,
            clock=FixedClock(NOW),
            team_id=team.id,
            other_team_id=other.id,
            ward_id=ward.id,
            patient_ids=ids,
        )
    engine.dispose()
    return world
