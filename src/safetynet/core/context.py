"""Who is acting, why, and with which session and clock: what every service call receives."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy.orm import Session

from safetynet.core.clock import Clock, SystemClock
from safetynet.core.ids import IdSource, RandomIds


class Role(StrEnum):
    """What someone is, for access (``access.decide``): staff, partners outside the trust, families, and the system.

    Partners, analysts and family members act only through their own channels: they never see the record itself."""

    KEY_WORKER = "key_worker"  # a clinician: key worker / care coordinator, nurse, social worker, psychologist
    CONSULTANT = "consultant"
    TEAM_MANAGER = "team_manager"
    SAFETY_LEAD = "safety_lead"
    ADMINISTRATOR = "administrator"  # accounts and settings; no clinical access
    SYSTEM = "system"  # Safetynet's own jobs, through services; no access through any route
    GP_PARTNER = "gp_partner"  # a GP practice: receives handover letters, reports no contact or uncollected scripts
    POLICE_LIAISON = "police_liaison"  # a police liaison officer: submits intelligence, sees only what was shared
    NATIONAL_ANALYST = "national_analyst"  # the national tier: pseudonymised extracts and indicators only
    FAMILY_MEMBER = "family_member"  # a registered carer: can tell the team something; sees only what was consented


@dataclass(frozen=True, slots=True)
class Actor:
    """The person (or system job) acting, and the purpose they act for: audit records both."""

    name: str
    role: Role
    staff_id: str | None = None
    purpose: str = "direct care"


SYSTEM_ACTOR = Actor(name="Safetynet", role=Role.SYSTEM, purpose="system operation")


@dataclass(slots=True)
class Context:
    """Everything a service needs. Services read and add through ``session`` and never commit."""

    session: Session
    actor: Actor
    clock: Clock = field(default_factory=SystemClock)
    ids: IdSource = field(default_factory=RandomIds)
    audit_reads: bool = True

    def as_actor(self, actor: Actor) -> Context:
        """The same unit of work, acting as someone else (a scenario event's ``by``)."""
        return Context(self.session, actor, self.clock, self.ids, self.audit_reads)
