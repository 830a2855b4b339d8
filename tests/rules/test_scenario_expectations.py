"""Acceptance: each library scenario's checks give what its authors expected from the rulebook and the review."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from safetynet.scenarios import format as fmt
from safetynet.scenarios import runner
from tests.conftest import SCENARIOS

LIBRARY = sorted(SCENARIOS.glob("*.yaml"))


def _expected(scenario: fmt.Scenario) -> list[dict[str, Any]]:
    expect = scenario.expect or {}
    checks: list[dict[str, Any]] = expect.get("checks", [])
    return checks


@pytest.mark.parametrize("path", LIBRARY, ids=[p.stem for p in LIBRARY])
def test_each_check_opens_exactly_the_expected_rules(path: Path) -> None:
    scenario = fmt.load_file(path)
    expected = _expected(scenario)
    assert len(expected) == len(scenario.checks), "every check needs an expectation"
    result = runner.run(scenario)
    for number, (check, want) in enumerate(zip(result["checks"], expected, strict=True)):
        got = sorted({finding["rule"] for finding in check["open"]})
        assert got == sorted(set(want.get("open", []))), f"check {number} on {check['on']}"
        if "discharge" in want:
            gate = check["discharge"]
            assert gate["outcome"] == want["discharge"]["outcome"], f"check {number} on {check['on']}"
            wanted = set(want["discharge"].get("rules", [])) | set(want["discharge"].get("warnings", []))
            assert sorted(gate["rules"]) == sorted(wanted), f"check {number} on {check['on']}"


@pytest.mark.parametrize("path", LIBRARY, ids=[p.stem for p in LIBRARY])
def test_every_finding_carries_evidence_and_a_due_time_after_it_opened(path: Path) -> None:
    result = runner.run(fmt.load_file(path))
    for check in result["checks"]:
        for finding in check["open"]:
            assert finding["evidence"]
            assert finding["due"] >= finding["since"]
            assert finding["since"] <= check["on"]
            assert "rule_failures" not in check
