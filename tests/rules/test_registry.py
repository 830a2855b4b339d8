"""The rulebook as registered: ids, kinds and names as in the rulebook table, complete metadata, strict parameters,
a test module per rule, and an engine in which one rule's failure never hides another's findings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from annotated_types import Ge, Le
from pydantic import ValidationError
from sqlalchemy.orm import Session

from safetynet.core.errors import ValidationFailed
from safetynet.rules import engine, registry
from safetynet.rules.engine import RuleFailure
from safetynet.rules.model import GateOutcome, Parameters, Rule, RuleKind
from tests.rules.harness import attempt, tell

# The rulebook's table (/work/shared/brief/rulebook.md): ids are stable; kinds and names as written there.
RULEBOOK = {
    "SN01": ("watch", "family-concern-unanswered"),
    "SN02": ("watch", "disengagement"),
    "SN03": ("gate", "discharge-for-non-attendance"),
    "SN04": ("watch", "risk-downgraded"),
    "SN05": ("watch", "risk-review-due"),
    "SN06": ("watch", "depot-overdue"),
    "SN07": ("watch", "relapse-cycle"),
    "SN08": ("watch", "partner-intelligence-review"),
    "SN09": ("watch", "follow-up-72h"),
    "SN10": ("watch", "no-key-worker"),
    "SN11": ("watch", "cross-team-request-unanswered"),
    "SN12": ("watch", "post-discharge-signal"),
    "SN13": ("watch", "refusal-without-capacity-assessment"),
    "SN14": ("gate", "weekend-discharge-without-crisis-cover"),
    "SN15": ("gate", "carer-not-informed"),
    "SN16": ("gate", "discharge-without-current-plan"),
    "SN17": ("watch", "section-2-after-section-3"),
    "SN18": ("watch", "waiting-unmonitored"),
    "SN19": ("watch", "care-plan-review-due"),
}
RULES = list(registry.RULES.values())
IDS = [rule.id for rule in RULES]
HERE = Path(__file__).parent


def module_name(rule: Rule[Any]) -> str:
    function = rule.watch or rule.gate
    assert function is not None
    return function.__module__.rsplit(".", 1)[-1]


def test_the_registered_ids_are_sn01_to_sn19_once_each_in_order() -> None:
    assert [rule.id for rule in RULES] == [f"SN{n:02d}" for n in range(1, 20)]
    assert len(set(IDS)) == len(IDS)
    assert all(rule.id == key for key, rule in registry.RULES.items())


def test_ids_kinds_and_names_match_the_rulebook_table() -> None:
    assert {rule.id: (str(rule.kind), rule.name) for rule in RULES} == RULEBOOK


def test_each_rule_lives_in_a_module_named_after_its_id_and_name() -> None:
    for rule in RULES:
        assert module_name(rule) == f"{rule.id.lower()}_{rule.name.replace('-', '_')}"


def test_watch_rules_watch_and_gate_rules_gate() -> None:
    assert {r.id for r in registry.WATCH_RULES} == {i for i, (kind, _) in RULEBOOK.items() if kind == "watch"}
    assert {r.id for r in registry.GATE_RULES} == {i for i, (kind, _) in RULEBOOK.items() if kind == "gate"}
    for rule in RULES:
        if rule.kind is RuleKind.WATCH:
            assert callable(rule.watch), rule.id
            assert rule.gate is None, rule.id
        else:
            assert callable(rule.gate), rule.id
            assert rule.watch is None, rule.id


def test_only_sn03_may_be_overridden() -> None:
    assert {rule.id for rule in RULES if rule.overridable_by} == {"SN03"}


@pytest.mark.parametrize("rule", RULES, ids=IDS)
def test_every_rule_has_a_version_a_title_an_explanation_and_the_source_it_answers(rule: Rule[Any]) -> None:
    assert isinstance(rule.version, int)
    assert rule.version >= 1
    assert rule.title.strip()
    assert len(rule.explanation.strip()) > 40
    assert rule.answers.strip()


@pytest.mark.parametrize("rule", RULES, ids=IDS)
def test_every_rule_has_a_table_test_module(rule: Rule[Any]) -> None:
    assert (HERE / f"test_{module_name(rule)}.py").is_file()


@pytest.mark.parametrize("rule", RULES, ids=IDS)
def test_default_parameters_validate(rule: Rule[Any]) -> None:
    defaults = rule.defaults()
    assert isinstance(defaults, Parameters)
    assert isinstance(defaults, rule.parameters)
    assert rule.parameters.model_validate(defaults.model_dump()) == defaults
    assert registry.default_parameters()[rule.id] == defaults


@pytest.mark.parametrize("rule", RULES, ids=IDS)
def test_parameters_refuse_unknown_keys(rule: Rule[Any]) -> None:
    with pytest.raises(ValidationError):
        rule.parameters.model_validate({**rule.defaults().model_dump(), "no_such_setting": 1})


PARAMETERS = [(rule, name) for rule in RULES for name in rule.parameters.model_fields]


@pytest.mark.parametrize(("rule", "name"), PARAMETERS, ids=[f"{r.id}.{n}" for r, n in PARAMETERS])
def test_every_parameter_is_bounded_and_refuses_values_out_of_range(rule: Rule[Any], name: str) -> None:
    field = rule.parameters.model_fields[name]
    lows = [m.ge for m in field.metadata if isinstance(m, Ge)]
    highs = [m.le for m in field.metadata if isinstance(m, Le)]
    assert lows, f"{rule.id}.{name} needs a lower bound"
    assert highs, f"{rule.id}.{name} needs an upper bound"
    low, high = lows[0], highs[0]
    assert low <= field.default <= high
    for value in (low, high):
        assert getattr(rule.parameters.model_validate({name: value}), name) == value
    for value in (low - 1, high + 1, "a lot"):
        with pytest.raises(ValidationError):
            rule.parameters.model_validate({name: value})


def test_parameters_are_frozen() -> None:
    defaults = registry.get("SN08").defaults()
    with pytest.raises(ValidationError):
        defaults.due_hours = 1


def test_rules_are_found_by_id_in_either_case() -> None:
    assert registry.get("SN08") is registry.get("sn08")


def test_an_unknown_rule_id_is_refused_naming_the_rules_there_are() -> None:
    with pytest.raises(ValidationFailed) as caught:
        registry.get("SN99")
    (problem,) = caught.value.problems
    assert problem.field == "rule"
    assert "SN99" in problem.message
    assert "SN01" in problem.message


# A story in which SN01 (a concern) and SN08 (police information) are open on 5 March 2024.
STORY = [
    {"at": "2024-02-05", "type": "episode_start", "team": "CMHT North", "pathway": "cmht"},
    {"at": "2024-02-05", "type": "keyworker_assigned", "team": "CMHT North", "staff": "Chris Taylor"},
    {"at": "2024-03-01", "type": "contact", "team": "CMHT North", "outcome": "attended", "mode": "face_to_face"},
    {"at": "2024-03-01T10:00", "type": "risk_assessment", "factors": {}, "safety_plan": True},
    {"at": "2024-03-01T11:00", "type": "care_plan_review", "crisis_plan": True, "shared_with_carer": False},
    {"at": "2024-03-04", "type": "family_concern", "from": "Mum", "channel": "phone", "text": "Worried"},
    {"at": "2024-03-04", "type": "partner_info", "agency": "police", "kind": "arrest", "detail": "Arrested"},
]


def broken(*_: object) -> Any:
    raise RuntimeError("boom")


def patch(monkeypatch: pytest.MonkeyPatch, rule_id: str, **functions: Any) -> None:
    """Make a registered rule's function raise for this test (rules are frozen: patch the instance's dict)."""
    rule = registry.get(rule_id)
    for name, function in functions.items():
        monkeypatch.setitem(vars(rule), name, function)


def test_a_watch_rule_that_raises_is_reported_as_a_failure_and_the_others_findings_still_come_back(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    facts = tell(session, STORY).facts("2024-03-05")
    assert {f.rule_id for f in engine.evaluate(facts).findings} == {"SN01", "SN08"}
    patch(monkeypatch, "SN08", watch=broken)
    evaluation = engine.evaluate(facts)
    assert evaluation.failures == [RuleFailure("SN08", "RuntimeError: boom")]
    assert {f.rule_id for f in evaluation.findings} == {"SN01"}


def test_a_gate_rule_that_raises_blocks_the_discharge(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    story = tell(session, STORY)
    # Tuesday, safety plan four days old, transfer to another team, no carer: every gate allows it.
    kwargs = {"kind": "episode", "team": "CMHT North", "reason": "transferred", "destination": "other_team"}
    discharge = attempt(story, "2024-03-05T10:00", **kwargs)
    facts = story.facts("2024-03-05T10:00")
    assert engine.check_discharge(facts, discharge).outcome is GateOutcome.ALLOWED
    patch(monkeypatch, "SN15", gate=broken)
    result = engine.check_discharge(facts, discharge)
    assert result.outcome is GateOutcome.BLOCKED
    assert result.failures == [RuleFailure("SN15", "RuntimeError: boom")]
    (decision,) = result.decisions
    assert decision.rule_id == "SN15"
    assert decision.blocks
    assert decision.reason == "SN15 could not be checked (boom)"


def test_parameters_given_to_the_engine_replace_the_defaults(session: Session) -> None:
    facts = tell(session, STORY).facts("2024-03-05")
    sn08 = registry.get("SN08")
    (default,) = engine.evaluate(facts, [sn08]).findings
    (tuned,) = engine.evaluate(facts, [sn08], {"SN08": sn08.parameters(due_hours=24)}).findings
    assert tuned.due - tuned.since == (default.due - default.since) / 3
