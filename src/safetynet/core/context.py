"""Who is acting, why, and with which session and clock: what every service call receives."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy.orm import Session

from safetynet.core.clock import Clock, SystemClock
from safetynet.core.ids import IdSource, RandomIds


class Role(StrEnum):
    KEY_WORKER = "key_worker"
    CONSULTANT = "consultant"
    TEAM_MANAGER = "team_manager"
    SAFETY_LEAD = "safety_lead"
    ADMINISTRATOR = "administrator"
    SYSTEM = "system"


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
