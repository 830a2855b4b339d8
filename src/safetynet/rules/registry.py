"""The rulebook: every rule, by id. A rule is registered by being a module in ``definitions/``."""

from __future__ import annotations

import pkgutil
from importlib import import_module
from typing import Any

from safetynet.core.errors import Problem, ValidationFailed
from safetynet.rules import definitions
from safetynet.rules.model import Parameters, Rule, RuleKind


def _discover() -> dict[str, Rule[Any]]:
    found: dict[str, Rule[Any]] = {}
    for info in sorted(pkgutil.iter_modules(definitions.__path__), key=lambda i: i.name):
        rule = import_module(f"{definitions.__name__}.{info.name}").RULE
        if rule.id in found:
            raise RuntimeError(f"rule id {rule.id} is defined twice")
        found[rule.id] = rule
    return found


RULES: dict[str, Rule[Any]] = _discover()
WATCH_RULES = tuple(r for r in RULES.values() if r.kind is RuleKind.WATCH)
GATE_RULES = tuple(r for r in RULES.values() if r.kind is RuleKind.GATE)


def get(rule_id: str) -> Rule[Any]:
    try:
        return RULES[rule_id.upper()]
    except KeyError:
        raise ValidationFailed([Problem("rule", f"no rule {rule_id!r}; rules are {', '.join(RULES)}")]) from None


def default_parameters() -> dict[str, Parameters]:
    return {rule.id: rule.defaults() for rule in RULES.values()}
