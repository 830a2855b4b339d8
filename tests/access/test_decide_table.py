"""decide() for every role and every action, with and without a relationship to the person: one table, read row by
row. Charlie (no access) is refused everything whatever his relationships."""

from __future__ import annotations

import pytest

from safetynet.access.decide import (
    ACTIONS,
    NO_RELATIONSHIPS,
    AccessDenied,
    Basis,
    Relationships,
    Resource,
    decide,
    require,
)
from safetynet.core.context import Actor, Role
from tests import personas

KW, CON, TM, SL, ADM = Role.KEY_WORKER, Role.CONSULTANT, Role.TEAM_MANAGER, Role.SAFETY_LEAD, Role.ADMINISTRATOR
GP, POL, NAT, FAM, SYS = Role.GP_PARTNER, Role.POLICE_LIAISON, Role.NATIONAL_ANALYST, Role.FAMILY_MEMBER, Role.SYSTEM
CLINICAL = {KW, CON, TM, SL}
ALL_BUT_SYSTEM = set(Role) - {SYS}

# action: (roles allowed with a relationship to the person, roles allowed with none)
TABLE: dict[str, tuple[set[Role], set[Role]]] = {
    "session.end": (ALL_BUT_SYSTEM, ALL_BUT_SYSTEM),
    "work.view": (CLINICAL, CLINICAL),
    "person.view": (CLINICAL, {SL}),  # the safety lead oversees every caseload
    "person.record": (CLINICAL, set()),
    "person.share": (CLINICAL, set()),
    "task.acknowledge": (CLINICAL, set()),
    "task.snooze": (CLINICAL, set()),
    "task.dismiss": (CLINICAL, set()),
    "family_concern.respond": (CLINICAL, set()),
    "discharge.request": (CLINICAL, set()),
    "discharge.override": ({CON, TM}, set()),
    "break_glass.open": (CLINICAL, CLINICAL),
    "break_glass.review": ({SL}, {SL}),
    "board.read": ({CON, TM, SL}, {CON, TM, SL}),
    "trust.read": ({CON, TM, SL}, {CON, TM, SL}),
    "audit.read": ({SL}, {SL}),
    "review.read": ({SL}, {SL}),  # learning-review packs: the safety lead, for anyone
    "rules.settings": ({SL, ADM}, {SL, ADM}),
    "admin.accounts": ({ADM}, {ADM}),
    "partner.submit": ({GP, POL}, {POL}),  # the police may tell about anyone; a practice about its own patients
    "partner.view": ({GP, POL}, set()),
    "family.submit": ({FAM}, set()),
    "family.view": ({FAM}, set()),
    "national.read": ({NAT}, {NAT}),
}

ORG = "Y00001"


def _actor(role: Role) -> Actor:
    return Actor(name=f"Test {role}", role=role, staff_id=f"staff-{role}")


def _with(role: Role) -> tuple[Resource, Relationships]:
    """Every relationship the role can have with the person (or the share addressed to it)."""
    resource = Resource(patient_id="p-1", share_recipient=(role.value, ORG))
    return resource, Relationships(
        actor_teams=frozenset({"team-a"}),
        caseload_teams=frozenset({"team-a"}),
        organisation=ORG,
        registered_gp=True,
        registered_carer=True,
        carer_consent=True,
    )


def test_the_table_covers_the_whole_catalogue() -> None:
    assert set(TABLE) == set(ACTIONS)


CASES = [(action, role) for action in sorted(TABLE) for role in Role]


@pytest.mark.parametrize(("action", "role"), CASES, ids=[f"{a}-{r}" for a, r in CASES])
def test_decide_for_every_role_and_action_with_a_relationship(action: str, role: Role) -> None:
    resource, relationships = _with(role)
    decision = decide(_actor(role), action, resource, relationships)
    assert decision.allowed is (role in TABLE[action][0]), decision.reason
    assert decision.reason


@pytest.mark.parametrize(("action", "role"), CASES, ids=[f"{a}-{r}" for a, r in CASES])
def test_decide_for_every_role_and_action_without_one(action: str, role: Role) -> None:
    decision = decide(_actor(role), action, Resource.person("p-1"), NO_RELATIONSHIPS)
    assert decision.allowed is (role in TABLE[action][1]), decision.reason


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_charlie_is_refused_everything_whatever_his_relationships(action: str) -> None:
    resource, relationships = _with(personas.CHARLIE.role)
    assert not decide(personas.CHARLIE, action, resource, relationships).allowed
    assert not decide(personas.CHARLIE, action, Resource.person("p-1")).allowed


def test_a_key_worker_sees_people_they_care_for_and_their_teams_caseload_but_no_one_else() -> None:
    alice = personas.ALICE
    mine = Relationships(care_relationship=True)
    team = Relationships(actor_teams=frozenset({"north"}), caseload_teams=frozenset({"north", "crisis"}))
    other = Relationships(actor_teams=frozenset({"north"}), caseload_teams=frozenset({"south"}))
    assert decide(alice, "person.view", Resource.person("p"), mine).basis is Basis.CARE_RELATIONSHIP
    assert decide(alice, "person.view", Resource.person("p"), team).basis is Basis.CASELOAD
    refused = decide(alice, "person.view", Resource.person("p"), other)
    assert not refused.allowed
    assert "break the glass" in refused.reason


def test_break_glass_opens_reading_and_recording_only_and_says_so() -> None:
    grant = Relationships(break_glass_grant="g-1")
    for action in ("person.view", "person.record"):
        decision = decide(personas.ALICE, action, Resource.person("p"), grant)
        assert (decision.allowed, decision.basis, decision.break_glass_grant) == (True, Basis.BREAK_GLASS, "g-1")
    for action in ("task.dismiss", "person.share", "discharge.override", "family_concern.respond"):
        assert not decide(personas.CAROL, action, Resource.person("p"), grant).allowed


def test_a_partner_sees_only_what_was_shared_with_their_own_organisation() -> None:
    police = _actor(POL)
    mine = Relationships(organisation="Avon Police")
    assert decide(police, "partner.view", Resource(share_recipient=("police_liaison", "Avon Police")), mine)
    assert not decide(police, "partner.view", Resource(share_recipient=("police_liaison", "Kent Police")), mine)
    assert not decide(police, "partner.view", Resource(share_recipient=("gp_partner", "Avon Police")), mine)
    assert not decide(police, "person.view", Resource.person("p"), mine)


def test_a_family_member_can_tell_but_not_see_without_consent() -> None:
    family = _actor(FAM)
    carer = Relationships(registered_carer=True)
    assert decide(family, "family.submit", Resource.person("p"), carer).basis is Basis.CHANNEL
    assert not decide(family, "family.view", Resource.person("p"), carer).allowed
    consented = Relationships(registered_carer=True, carer_consent=True)
    assert decide(family, "family.view", Resource.person("p"), consented).basis is Basis.CONSENT
    assert not decide(family, "person.view", Resource.person("p"), consented).allowed


def test_an_unknown_action_is_a_programming_error_not_a_quiet_refusal() -> None:
    with pytest.raises(KeyError):
        decide(personas.ALICE, "person.delete", Resource.person("p"))


def test_require_raises_with_the_reason() -> None:
    with pytest.raises(AccessDenied, match="may not administer accounts"):
        require(decide(personas.ALICE, "admin.accounts", Resource.service()))


def test_decide_reads_nothing_but_its_arguments() -> None:
    """Pure: the same arguments give the same decision, and no database or clock is needed to ask."""
    args = (personas.BOB, "discharge.override", Resource.person("p"), Relationships(care_relationship=True))
    assert decide(*args) == decide(*args)


def test_an_open_task_opens_reading_recording_and_acting_on_tasks_only() -> None:
    holder = Relationships(task_holder=True)
    for action in ("person.view", "person.record", "task.acknowledge", "task.dismiss", "family_concern.respond"):
        decision = decide(personas.ALICE, action, Resource.person("p"), holder)
        assert (decision.allowed, decision.basis) == (True, Basis.OPEN_TASK), action
    for action in ("discharge.request", "discharge.override", "person.share"):
        assert not decide(personas.CAROL, action, Resource.person("p"), holder).allowed, action
    assert not decide(personas.CHARLIE, "person.view", Resource.person("p"), holder).allowed
