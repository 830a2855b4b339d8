"""Who may do what, decided in one place by one pure function: ``decide(actor, action, resource, relationships)``.

Nothing here reads the database or the clock: the caller describes the resource (which person, if any; which share)
and the actor's relationships to it (``Relationships``: their teams and the person's, a care relationship, an open
break-glass grant, a partner's organisation, a family member's registration and consent), which
``record.relationships.load`` reads from the record. The web layer's ``requires(action)`` builds both from the
request and calls ``decide``; the command line and services call it the same way.

The rules, in words (docs/security.md has the table):

- every action belongs to a catalogue (``ACTIONS``) naming the roles that may ever take it and its *scope*;
- ``service`` actions need only the role (the caseload board, trust oversight, account administration);
- ``person`` actions need a legitimate relationship: the person is on the caseload of one of the actor's teams, or
  the actor has an active care relationship (key worker); the safety lead may read anyone's record for oversight;
  anyone else clinical may break the glass (a stated reason, time-limited, reviewed), which opens reading and
  recording only;
- ``shared`` actions (a partner's view) reach only what was shared with that partner's organisation;
- ``tell`` actions (a partner's or family's report) need no access to the record, only the right channel: the police
  can tell about anyone, a GP practice about its registered patients, a family member about the person they are a
  registered carer for; a family member sees the record only if the person consented;
- the ``system`` role (Safetynet's own jobs) and anyone without a role in an action's list get nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from safetynet.core.context import Actor, Role
from safetynet.core.errors import SafetynetError


class Scope(StrEnum):
    SESSION = "session"  # anyone signed in, about themselves
    SERVICE = "service"  # the role decides
    PERSON = "person"  # a legitimate relationship with the person (or break-glass)
    SHARED = "shared"  # only what was shared with the actor's organisation
    TELL = "tell"  # telling the team about a person, seeing nothing


class Basis(StrEnum):
    """Why an action was allowed: audit records it with the access."""

    ROLE = "role"
    CASELOAD = "caseload"
    CARE_RELATIONSHIP = "care_relationship"
    OPEN_TASK = "open_task"
    OVERSIGHT = "oversight"
    BREAK_GLASS = "break_glass"
    SHARED = "shared"
    CHANNEL = "channel"
    CONSENT = "consent"


CLINICAL = frozenset({Role.KEY_WORKER, Role.CONSULTANT, Role.TEAM_MANAGER, Role.SAFETY_LEAD})
SENIORS = frozenset({Role.CONSULTANT, Role.TEAM_MANAGER})
PARTNERS = frozenset({Role.GP_PARTNER, Role.POLICE_LIAISON})
EVERYONE = frozenset(Role) - {Role.SYSTEM}


@dataclass(frozen=True, slots=True)
class ActionSpec:
    description: str  # "read a person's record": completes "a <role> may not ..."
    scope: Scope
    roles: frozenset[Role]


ACTIONS: dict[str, ActionSpec] = {
    "session.end": ActionSpec("sign out", Scope.SESSION, EVERYONE),
    "work.view": ActionSpec("see their own work (tasks and caseload)", Scope.SERVICE, CLINICAL),
    "person.view": ActionSpec("read a person's record", Scope.PERSON, CLINICAL),
    "person.record": ActionSpec("record in a person's record", Scope.PERSON, CLINICAL),
    "person.share": ActionSpec("share a person's information with a partner", Scope.PERSON, CLINICAL),
    "task.acknowledge": ActionSpec("acknowledge a task", Scope.PERSON, CLINICAL),
    "task.snooze": ActionSpec("snooze a task", Scope.PERSON, CLINICAL),
    "task.dismiss": ActionSpec("dismiss a task", Scope.PERSON, CLINICAL),
    "family_concern.respond": ActionSpec("respond to a family concern", Scope.PERSON, CLINICAL),
    "discharge.request": ActionSpec("ask the discharge gates and discharge a person", Scope.PERSON, CLINICAL),
    "discharge.override": ActionSpec("override a discharge gate", Scope.PERSON, SENIORS),
    "break_glass.open": ActionSpec("break the glass to a record", Scope.SERVICE, CLINICAL),
    "break_glass.review": ActionSpec("review break-glass access", Scope.SERVICE, frozenset({Role.SAFETY_LEAD})),
    "board.read": ActionSpec("see a team's safety board", Scope.SERVICE, CLINICAL - {Role.KEY_WORKER}),
    "trust.read": ActionSpec("see the trust's oversight", Scope.SERVICE, CLINICAL - {Role.KEY_WORKER}),
    "audit.read": ActionSpec("read the audit trail", Scope.SERVICE, frozenset({Role.SAFETY_LEAD})),
    "review.read": ActionSpec(
        "prepare a learning-review pack about a person", Scope.SERVICE, frozenset({Role.SAFETY_LEAD})
    ),
    "rules.settings": ActionSpec(
        "change a rule's settings", Scope.SERVICE, frozenset({Role.SAFETY_LEAD, Role.ADMINISTRATOR})
    ),
    "admin.accounts": ActionSpec("administer accounts", Scope.SERVICE, frozenset({Role.ADMINISTRATOR})),
    "partner.submit": ActionSpec("tell the team something as a partner", Scope.TELL, PARTNERS),
    "partner.view": ActionSpec("see what was shared with their organisation", Scope.SHARED, PARTNERS),
    "family.submit": ActionSpec("tell the team something as family", Scope.TELL, frozenset({Role.FAMILY_MEMBER})),
    "family.view": ActionSpec(
        "see what the person consented to share with family", Scope.PERSON, frozenset({Role.FAMILY_MEMBER})
    ),
    "national.read": ActionSpec("see the national tier", Scope.SERVICE, frozenset({Role.NATIONAL_ANALYST})),
}
# What breaking the glass opens: reading and recording, nothing that closes the safety net's work.
BREAK_GLASS_ACTIONS = frozenset({"person.view", "person.record"})
# What an open safety-net task lets its holders do for someone no longer on their caseload (a follow-up after
# discharge to the GP, SN09 / SN12): read, record what they did, and act on the task; not discharge or share.
TASK_ACTIONS = frozenset(
    {"person.view", "person.record", "task.acknowledge", "task.snooze", "task.dismiss", "family_concern.respond"}
)
OVERSIGHT_READS = frozenset({"person.view"})


@dataclass(frozen=True, slots=True)
class Resource:
    """What the action is on: a person (by their record id), a share addressed to someone, or the service."""

    patient_id: str | None = None
    share_recipient: tuple[str, str] | None = None  # (recipient role, organisation) of a share being read

    @classmethod
    def service(cls) -> Resource:
        return cls()

    @classmethod
    def person(cls, patient_id: str) -> Resource:
        return cls(patient_id=patient_id)


@dataclass(frozen=True, slots=True)
class Relationships:
    """The actor's relationships to the resource, as known now (``record.relationships.load`` reads them)."""

    actor_teams: frozenset[str] = frozenset()
    caseload_teams: frozenset[str] = frozenset()  # teams with the person on their caseload (an open episode)
    care_relationship: bool = False  # the actor is the person's key worker
    task_holder: bool = False  # an open safety-net task about the person is with the actor or one of their teams
    break_glass_grant: str | None = None  # the actor's live break-glass grant for the person
    organisation: str | None = None  # a partner's organisation (ODS code of a practice, a police force)
    registered_gp: bool = False  # the person is registered with the actor's practice
    registered_carer: bool = False  # the actor is a registered carer of the person
    carer_consent: bool = False  # the person consented to share with that carer


NO_RELATIONSHIPS = Relationships()


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reason: str
    basis: Basis | None = None
    break_glass_grant: str | None = None

    def __bool__(self) -> bool:
        return self.allowed


class AccessDenied(SafetynetError):
    """An actor tried something ``decide`` refused; the message is the decision's reason."""

    def __init__(self, decision: Decision) -> None:
        self.decision = decision
        super().__init__(decision.reason)


def _allow(reason: str, basis: Basis, grant: str | None = None) -> Decision:
    return Decision(True, reason, basis, grant)


def _deny(reason: str) -> Decision:
    return Decision(False, reason)


def _label(role: Role) -> str:
    return role.value.replace("_", " ")


def decide(actor: Actor, action: str, resource: Resource, relationships: Relationships = NO_RELATIONSHIPS) -> Decision:
    """May ``actor`` take ``action`` on ``resource``? Pure: the same arguments always give the same decision.

    An action missing from ``ACTIONS`` is a programming error (``KeyError``), never a quiet refusal."""
    spec = ACTIONS[action]
    if actor.role is Role.SYSTEM:
        return _deny("Safetynet's own jobs act through services, never through a user's action")
    if actor.role not in spec.roles:
        return _deny(f"a {_label(actor.role)} may not {spec.description}")
    if spec.scope in (Scope.SESSION, Scope.SERVICE):
        return _allow(f"a {_label(actor.role)} may {spec.description}", Basis.ROLE)
    if spec.scope is Scope.SHARED:
        wanted = resource.share_recipient
        if (
            wanted is not None
            and relationships.organisation
            and wanted == (actor.role.value, relationships.organisation)
        ):
            return _allow("shared with your organisation", Basis.SHARED)
        return _deny("this was not shared with your organisation")
    if resource.patient_id is None:
        return _deny(f"{spec.description} needs a person")
    if spec.scope is Scope.TELL:
        return _tell(actor, relationships)
    if actor.role is Role.FAMILY_MEMBER:
        if relationships.registered_carer and relationships.carer_consent:
            return _allow("the person consented to share with you", Basis.CONSENT)
        return _deny("the person has not consented to share their record with you")
    return _person(actor, action, relationships)


def _tell(actor: Actor, relationships: Relationships) -> Decision:
    if actor.role is Role.POLICE_LIAISON:
        return _allow("the police may tell the team about anyone; they see nothing back", Basis.CHANNEL)
    if actor.role is Role.GP_PARTNER:
        if relationships.registered_gp:
            return _allow("the person is registered with your practice", Basis.CHANNEL)
        return _deny("the person is not registered with your practice")
    if relationships.registered_carer:
        return _allow("you are a registered carer of this person", Basis.CHANNEL)
    return _deny("you are not a registered carer of this person")


def _person(actor: Actor, action: str, relationships: Relationships) -> Decision:
    if relationships.care_relationship:
        return _allow("you are the person's key worker", Basis.CARE_RELATIONSHIP)
    if relationships.actor_teams & relationships.caseload_teams:
        return _allow("the person is on your team's caseload", Basis.CASELOAD)
    if relationships.task_holder and action in TASK_ACTIONS:
        return _allow("a safety-net task about the person is open with you or your team", Basis.OPEN_TASK)
    if actor.role is Role.SAFETY_LEAD and action in OVERSIGHT_READS:
        return _allow("the safety lead oversees every caseload", Basis.OVERSIGHT)
    if relationships.break_glass_grant and action in BREAK_GLASS_ACTIONS:
        return _allow("break-glass access, to be reviewed", Basis.BREAK_GLASS, relationships.break_glass_grant)
    if relationships.break_glass_grant:
        return _deny("break-glass access lets you read and record, not this")
    return _deny(
        "the person is not on your team's caseload and you have no care relationship with them; "
        "break the glass, with a reason, if you must"
    )


def permitted(role: Role, action: str) -> bool:
    """May this role ever take this action (before any relationship to a person is weighed)? An action missing from
    ``ACTIONS`` is a programming error (``KeyError``), not a refusal."""
    return role is not Role.SYSTEM and role in ACTIONS[action].roles


def require(decision: Decision) -> Decision:
    """The decision if allowed; ``AccessDenied`` otherwise."""
    if not decision.allowed:
        raise AccessDenied(decision)
    return decision
