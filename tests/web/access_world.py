"""The access tests' world: the web world (two people on CMHT North's caseload, Chris Taylor their key worker, a
team manager, consultant, safety lead and administrator on CMHT North) in its own database, plus one persona for
every other role: a key worker on another team (no relationship), a GP partner, a police liaison officer, a national
analyst, a family member, and Charlie, signed in with no access at all (the system role).

Each persona's relationships to the person the matrix asks about (``OTHER``) are stated here, as facts of the
story, so the matrix's expected answers come from ``access.decide`` alone."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from fastapi.testclient import TestClient

from safetynet.access import accounts
from safetynet.access.decide import Relationships
from safetynet.core.clock import FixedClock
from safetynet.core.context import SYSTEM_ACTOR, Actor, Context, Role
from safetynet.core.db import make_engine, unit_of_work
from safetynet.core.ids import RandomIds, SeededIds
from safetynet.record.org import service as org
from safetynet.record.org.models import Organisation
from safetynet.record.org.schemas import StaffIn, TeamIn
from safetynet.web.auth import SESSION_COOKIE
from tests.web import world as world_module
from tests.web.world import ACCOUNTS, NOW, PASSWORD, World

SECRET = "access-tests-secret-key"
OTHER_TEAM = "Crisis Team South"

# username -> (staff name, role, team); added to the web world's accounts.
EXTRA = {
    "sam": ("Sam Southward", Role.KEY_WORKER, OTHER_TEAM),
    "gina": ("Dr Gina Practice", Role.GP_PARTNER, None),
    "paul": ("PC Paul Liaison", Role.POLICE_LIAISON, None),
    "nia": ("Nia Analyst", Role.NATIONAL_ANALYST, None),
    "fran": ("Fran Relative", Role.FAMILY_MEMBER, None),
    "charlie": ("Charlie Outsider", Role.SYSTEM, None),
}


@dataclass(frozen=True)
class Persona:
    username: str | None  # None: not signed in
    label: str
    actor: Actor | None = None
    relationships: Relationships = field(default_factory=Relationships)


@dataclass
class AccessWorld:
    web: World
    team_ids: dict[str, str]  # team name -> id
    staff_ids: dict[str, str]  # username -> staff id
    personas: list[Persona]

    @property
    def url(self) -> str:
        return self.web.url

    @property
    def clock(self) -> FixedClock:
        return self.web.clock

    def sign_in(self, client: TestClient, username: str) -> str:
        """A fresh session for this persona, its cookie set on the client; returns its CSRF token. (The password
        journey is tested elsewhere; the matrix needs hundreds of sessions, without argon2 for each.)"""
        engine = make_engine(self.url)
        with unit_of_work(engine) as session:
            ctx = Context(session, SYSTEM_ACTOR, self.clock, RandomIds())
            account = accounts.find(ctx, username)
            assert account is not None
            token = accounts.start_session(ctx, account, key=SECRET, lifetime=timedelta(hours=12)).token
        engine.dispose()
        client.cookies.set(SESSION_COOKIE, token)
        return accounts.csrf_token(SECRET, token)


def build(url: str) -> AccessWorld:
    web = world_module.build(url)
    engine = make_engine(url)
    with unit_of_work(engine) as session:
        ctx = Context(session, Actor("Access test set-up", Role.SYSTEM), FixedClock(NOW), SeededIds("access"))
        north = org.get_team(ctx, "CMHT North")
        trust = session.get(Organisation, north.organisation_id)
        assert trust is not None
        south = org.create_team(ctx, trust, TeamIn(name=OTHER_TEAM, pathway="crisis"))
        session.flush()
        for username, (name, role, team) in EXTRA.items():
            member = org.create_staff(ctx, StaffIn(name=name, role=role, team=team))
            session.flush()
            accounts.create(ctx, staff_id=member.id, username=username, password=PASSWORD)
        staff_ids = {}
        for username in [*ACCOUNTS, *EXTRA]:
            account = accounts.find(ctx, username)
            assert account is not None
            staff_ids[username] = account.staff_id
        team_ids = {"CMHT North": north.id, OTHER_TEAM: south.id}
    engine.dispose()
    return AccessWorld(web, team_ids, staff_ids, _personas(staff_ids, team_ids))


def _personas(staff_ids: dict[str, str], team_ids: dict[str, str]) -> list[Persona]:
    north = frozenset({team_ids["CMHT North"]})
    on_caseload = Relationships(actor_teams=north, caseload_teams=north)
    everyone = {u: (n, r) for u, (n, r) in ACCOUNTS.items()} | {u: (n, r) for u, (n, r, _) in EXTRA.items()}

    def persona(username: str, label: str, relationships: Relationships | None = None) -> Persona:
        name, role = everyone[username]
        stated = relationships or Relationships(caseload_teams=north)
        return Persona(username, label, Actor(name, role, staff_ids[username]), stated)

    return [
        persona(
            "chris",
            "key worker with a relationship",
            Relationships(actor_teams=north, caseload_teams=north, care_relationship=True),
        ),
        persona(
            "sam",
            "key worker without a relationship",
            Relationships(actor_teams=frozenset({team_ids[OTHER_TEAM]}), caseload_teams=north),
        ),
        persona("lee", "consultant", on_caseload),
        persona("pat", "team manager", on_caseload),
        persona("dana", "safety lead", on_caseload),
        persona("ada", "administrator", on_caseload),
        persona("gina", "GP partner"),
        persona("paul", "police liaison"),
        persona("nia", "national analyst"),
        persona("fran", "family member"),
        persona("charlie", "signed in with no access at all"),
        Persona(None, "not signed in"),
    ]
