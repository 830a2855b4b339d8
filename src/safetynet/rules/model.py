"""What a rule is, what it finds, and what a gate decides. Rules are data plus one pure function."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from safetynet.core.context import Role
from safetynet.rules.facts import Fact, PersonFacts


class RuleKind(StrEnum):
    WATCH = "watch"
    GATE = "gate"


class Mode(StrEnum):
    ACTIVE = "active"
    MONITOR = "monitor"  # record findings, raise no tasks
    OFF = "off"


class Parameters(BaseModel):
    """Base of every rule's parameters: defaults in the class, validation by pydantic, nothing unknown."""

    model_config = ConfigDict(extra="forbid", frozen=True)


P = TypeVar("P", bound=Parameters)


@dataclass(frozen=True, slots=True)
class Evidence:
    """A recorded fact that made a finding open: its kind, id, and dates, in words."""

    kind: str
    fact_id: str
    occurred_at: datetime
    recorded_at: datetime
    text: str

    @classmethod
    def of(cls, fact: Fact, text: str) -> Evidence:
        return cls(fact.table, fact.fact_id, fact.occurred_at, fact.recorded_at, text)


@dataclass(frozen=True, slots=True)
class Finding:
    """An obligation that is open at a moment: since when, due when, and why (its evidence)."""

    rule_id: str
    key: str  # what it is about, stable across evaluations (e.g. the concern's fact id): tasks are keyed on it
    since: datetime
    due: datetime
    summary: str
    evidence: tuple[Evidence, ...]

    def overdue(self, at: datetime) -> bool:
        return at > self.due


@dataclass(frozen=True, slots=True)
class DischargeAttempt:
    """A discharge someone is about to make, as the gate rules are asked about it (nothing is recorded)."""

    kind: str  # episode | inpatient
    at: datetime
    team_id: str | None = None
    ward_id: str | None = None
    reason: str | None = None
    destination: str | None = None
    crisis_team_accepted: bool | None = None
    carer_informed: bool | None = None
    override_by: Role | None = None
    override_rationale: str | None = None

    @property
    def has_override(self) -> bool:
        return self.override_by is not None and bool((self.override_rationale or "").strip())


class GateOutcome(StrEnum):
    BLOCKED = "blocked"
    ALLOWED_WITH_WARNINGS = "allowed_with_warnings"
    ALLOWED = "allowed"


@dataclass(frozen=True, slots=True)
class GateDecision:
    """One gate rule's answer: blocks, or warns (overridden), with its reason and evidence."""

    rule_id: str
    blocks: bool
    reason: str
    evidence: tuple[Evidence, ...] = ()
    overridden_by: Role | None = None


WatchFn = Callable[[PersonFacts, Any], Sequence[Finding]]
GateFn = Callable[[PersonFacts, DischargeAttempt, Any], GateDecision | None]


@dataclass(frozen=True)
class Rule(Generic[P]):
    """A rule of the rulebook. ``id`` never changes; any change to meaning or parameters bumps ``version``."""

    id: str
    version: int
    name: str
    kind: RuleKind
    title: str
    explanation: str
    answers: str  # the source it answers (review finding, guidance)
    parameters: type[P]
    watch: WatchFn | None = None
    gate: GateFn | None = None
    overridable_by: frozenset[Role] = field(default_factory=frozenset)

    def defaults(self) -> P:
        return self.parameters()
