"""Evaluating rules: pure, over one person's facts as known at a moment. No side effects here.

One rule's failure never hides another's findings: it is reported as a failure (an operational alert for the
runner to record and show loudly). A gate rule that fails blocks, because an unchecked discharge is unsafe.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

from safetynet.rules.facts import PersonFacts
from safetynet.rules.model import DischargeAttempt, Finding, GateDecision, GateOutcome, Parameters, Rule
from safetynet.rules.registry import GATE_RULES, WATCH_RULES


@dataclass(frozen=True, slots=True)
class RuleFailure:
    rule_id: str
    error: str


@dataclass(frozen=True, slots=True)
class Evaluation:
    findings: list[Finding]
    failures: list[RuleFailure] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class GateResult:
    outcome: GateOutcome
    decisions: list[GateDecision]
    failures: list[RuleFailure] = field(default_factory=list)


def evaluate(
    facts: PersonFacts,
    rules: Iterable[Rule[Any]] = WATCH_RULES,
    params: Mapping[str, Parameters] | None = None,
) -> Evaluation:
    findings: list[Finding] = []
    failures: list[RuleFailure] = []
    chosen = params or {}
    for rule in rules:
        watch = rule.watch
        assert watch is not None, f"{rule.id} is not a watch rule"
        try:
            findings.extend(watch(facts, chosen.get(rule.id) or _defaults(rule.parameters)))
        except Exception as exc:
            failures.append(RuleFailure(rule.id, f"{type(exc).__name__}: {exc}"))
    if len(findings) > 1:
        findings.sort(key=_FINDING_ORDER)
    return Evaluation(findings, failures)


_FINDING_ORDER = attrgetter("rule_id", "since", "key")


_DEFAULTS: dict[type[Parameters], Parameters] = {}


def _defaults(parameters: type[Parameters]) -> Parameters:
    """A rule's default parameters, made once (they are frozen): making them per person cost more than some rules."""
    made = _DEFAULTS.get(parameters)
    if made is None:
        made = _DEFAULTS[parameters] = parameters()
    return made


def check_discharge(
    facts: PersonFacts,
    attempt: DischargeAttempt,
    rules: Iterable[Rule[Any]] = GATE_RULES,
    params: Mapping[str, Parameters] | None = None,
) -> GateResult:
    decisions: list[GateDecision] = []
    failures: list[RuleFailure] = []
    for rule in rules:
        assert rule.gate is not None, f"{rule.id} is not a gate rule"
        try:
            decision = rule.gate(facts, attempt, (params or {}).get(rule.id) or rule.defaults())
        except Exception as exc:
            failures.append(RuleFailure(rule.id, f"{type(exc).__name__}: {exc}"))
            decision = GateDecision(rule.id, blocks=True, reason=f"{rule.id} could not be checked ({exc})")
        if decision is not None:
            decisions.append(decision)
    if any(d.blocks for d in decisions):
        outcome = GateOutcome.BLOCKED
    elif decisions:
        outcome = GateOutcome.ALLOWED_WITH_WARNINGS
    else:
        outcome = GateOutcome.ALLOWED
    return GateResult(outcome, decisions, failures)
