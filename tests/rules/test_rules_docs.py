"""docs/rules.md is generated from the registry and must not be stale."""

from __future__ import annotations

from pathlib import Path

from safetynet.rules.docs import render
from safetynet.rules.registry import RULES

DOC = Path(__file__).parents[2] / "docs" / "rules.md"


def test_docs_rules_md_is_up_to_date_run_safetynet_rules_docs_if_this_fails() -> None:
    assert DOC.read_text(encoding="utf-8") == render()


def test_every_rule_and_every_parameter_is_documented() -> None:
    text = render()
    for rule in RULES.values():
        assert f"## {rule.id} {rule.name}" in text
        for name in rule.parameters.model_fields:
            assert f"`{name}`" in text
