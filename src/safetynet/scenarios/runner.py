"""Running a scenario: load it into a fresh, temporary database (never the user's), then ask the rules what
was open at each check, using only what had been recorded by then, and what each discharge attempt would meet."""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from safetynet.core.clock import iso_utc
from safetynet.core.db import Base
from safetynet.core.ids import SeededIds
from safetynet.record import registry  # noqa: F401  (every table on the metadata)
from safetynet.rules import engine
from safetynet.rules.facts import History, load_history
from safetynet.rules.model import DischargeAttempt, Evidence
from safetynet.scenarios import format as fmt
from safetynet.scenarios import loader


def run(scenario: fmt.Scenario) -> dict[str, Any]:
    """The scenario's checks, in the output contract of scenarios.md."""
    db = create_engine("sqlite://", poolclass=StaticPool)
    Base.metadata.create_all(db)
    try:
        with Session(db) as session:
            loaded = loader.load(session, scenario, ids=SeededIds(scenario.id))
            session.flush()
            history = load_history(session, loaded.patient_id)
    finally:
        db.dispose()
    label = _EvidenceLabels(scenario, loaded)
    return {"scenario": scenario.id, "checks": [_check(scenario, history, check, label) for check in scenario.checks]}


def _check(scenario: fmt.Scenario, history: History, check: fmt.Check, label: _EvidenceLabels) -> dict[str, Any]:
    facts = history.as_known_at(check.on)
    evaluation = engine.evaluate(facts)
    result: dict[str, Any] = {
        "on": iso_utc(check.on),
        "open": [
            {
                "rule": f.rule_id,
                "since": iso_utc(f.since),
                "due": iso_utc(f.due),
                "overdue": f.overdue(check.on),
                "summary": f.summary,
                "evidence": [label(e) for e in f.evidence],
            }
            for f in evaluation.findings
        ],
    }
    if evaluation.failures:
        result["rule_failures"] = [{"rule": f.rule_id, "error": f.error} for f in evaluation.failures]
    if check.discharge is not None:
        d = check.discharge
        teams = {info.name.lower(): team_id for team_id, info in history.directory.teams.items()}
        attempt = DischargeAttempt(
            kind=d.kind,
            at=check.on,
            team_id=teams.get((d.team or "").lower()),
            ward_id=teams.get((d.ward or "").lower()),
            reason=d.reason,
            destination=d.destination,
            crisis_team_accepted=d.crisis_team_accepted,
            carer_informed=d.carer_informed,
            override_by=d.override_by,
            override_rationale=d.override_rationale,
        )
        gate = engine.check_discharge(facts, attempt)
        result["discharge"] = {
            "outcome": str(gate.outcome),
            "rules": [decision.rule_id for decision in gate.decisions],
            "warnings": [decision.rule_id for decision in gate.decisions if not decision.blocks],
            "reasons": [f"{decision.rule_id}: {decision.reason}" for decision in gate.decisions],
        }
    return result


class _EvidenceLabels:
    """Names evidence as the scenario's author knows it: ``partner_info #4 police incident recorded 2021-02-24``."""

    def __init__(self, scenario: fmt.Scenario, loaded: loader.Loaded) -> None:
        self.events = scenario.events
        self.indexes: dict[str, list[int]] = {}
        for index, fact_id in sorted(loaded.fact_ids.items()):
            self.indexes.setdefault(fact_id, []).append(index)

    def __call__(self, evidence: Evidence) -> str:
        indexes = self.indexes.get(evidence.fact_id, [])
        exact = [i for i in indexes if self.events[i].recorded_at == evidence.recorded_at]
        candidates = exact or indexes
        index = candidates[0] if candidates else None
        name = self.events[index].type if index is not None else evidence.kind
        where = f" #{index}" if index is not None else ""
        return f"{name}{where} {evidence.text} recorded {evidence.recorded_at.date().isoformat()}"
