"""SN03 discharge-for-non-attendance (gate): a discharge for non-attendance or disengagement, or any discharge while
disengagement (SN02) is open, is blocked; a consultant or team manager may override with a written rationale."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from safetynet.core.context import Role
from safetynet.rules import engine, registry
from safetynet.rules.model import GateOutcome
from tests.rules.harness import assert_allows, assert_blocks, attempt, evidence_ids, gate, tell

RULE = "SN03"
EPISODE = [
    {"at": "2024-05-01", "type": "episode_start", "team": "EIP", "pathway": "eip"},
    {"at": "2024-05-01T10:00", "type": "contact", "team": "EIP", "outcome": "attended", "mode": "face_to_face"},
]
DNAS = [
    {"at": "2024-05-06", "type": "contact", "team": "EIP", "outcome": "dna", "mode": "face_to_face"},
    {"at": "2024-05-13", "type": "contact", "team": "EIP", "outcome": "dna", "mode": "face_to_face"},
]
RATIONALE = "Capacitous refusal of the service; GP and father told of relapse signs"


def discharge(reason: str = "recovered", **extra: object) -> dict[str, object]:
    return {"kind": "episode", "team": "EIP", "reason": reason, "destination": "gp", **extra}


@pytest.mark.parametrize("reason", ["non_attendance", "disengaged"])
def test_a_discharge_for_non_attendance_is_blocked(session: Session, reason: str) -> None:
    decision = assert_blocks(session, RULE, EPISODE, discharge(reason), "2024-05-02")
    assert f"the reason given is {reason}" in decision.reason
    assert decision.overridden_by is None


def test_a_discharge_for_another_reason_with_no_disengagement_open_is_allowed(session: Session) -> None:
    assert_allows(session, RULE, EPISODE, discharge("recovered"), "2024-05-02")
    assert_allows(session, RULE, EPISODE, discharge("moved_away", destination="other_team"), "2024-05-02")


def test_any_discharge_while_disengagement_is_open_is_blocked_with_its_evidence(session: Session) -> None:
    story = tell(session, [*EPISODE, *DNAS])
    decision = assert_blocks(session, RULE, story, discharge("recovered"), "2024-05-14")
    assert "disengagement (SN02) is open" in decision.reason
    assert evidence_ids(decision) == {story.id(2), story.id(3)}  # the two missed contacts


def test_the_block_follows_the_28_day_disengagement_threshold_to_the_minute(session: Session) -> None:
    story = tell(session, EPISODE)
    assert_allows(session, RULE, story, discharge("recovered"), "2024-05-29T09:59")
    assert_blocks(session, RULE, story, discharge("recovered"), "2024-05-29T10:01")


def test_an_attended_contact_lifts_the_disengagement_block_but_not_the_reason_block(session: Session) -> None:
    seen = {"at": "2024-05-14T17:30", "type": "contact", "team": "EIP", "outcome": "attended", "mode": "home_visit"}
    story = tell(session, [*EPISODE, *DNAS, seen])
    assert_allows(session, RULE, story, discharge("recovered"), "2024-05-15")
    decision = assert_blocks(session, RULE, story, discharge("disengaged"), "2024-05-15")
    assert "SN02" not in decision.reason


def test_a_missed_contact_recorded_late_does_not_block_before_it_is_recorded(session: Session) -> None:
    late = [DNAS[0], DNAS[1] | {"recorded": "2024-05-16T14:00"}]
    story = tell(session, [*EPISODE, *late])
    assert_allows(session, RULE, story, discharge("recovered"), "2024-05-16T13:59")
    assert_blocks(session, RULE, story, discharge("recovered"), "2024-05-16T14:01")


def test_with_no_episode_only_the_reason_matters(session: Session) -> None:
    note = [{"at": "2024-05-01", "type": "note", "text": "Referral discussed"}]
    assert_allows(session, RULE, note, discharge("recovered"), "2024-07-01")
    assert_blocks(session, RULE, note, discharge("non_attendance"), "2024-07-01")


def test_an_inpatient_discharge_is_not_judged_by_its_reason(session: Session) -> None:
    # Code's choice: the reason branch is about ending an episode of care; a ward discharge is not "for
    # non-attendance". It is still blocked while SN02 is open (any discharge).
    story = tell(session, [*EPISODE, *DNAS])
    ward = {"kind": "inpatient", "ward": "Willow Ward", "reason": "non_attendance"}
    assert_allows(session, RULE, EPISODE, ward, "2024-05-02")
    assert_blocks(session, RULE, story, ward, "2024-05-14")


@pytest.mark.parametrize("role", ["consultant", "team_manager"])
def test_a_consultant_or_team_manager_may_override_with_a_written_rationale(session: Session, role: str) -> None:
    story = tell(session, [*EPISODE, *DNAS])
    kwargs = discharge("non_attendance", override_by=role, override_rationale=RATIONALE)
    decision = gate(session, RULE, story, kwargs, "2024-05-14")
    assert decision is not None
    assert not decision.blocks
    assert decision.overridden_by == Role(role)
    result = engine.check_discharge(
        story.facts("2024-05-14"), attempt(story, "2024-05-14", **kwargs), [registry.get(RULE)]
    )
    assert result.outcome is GateOutcome.ALLOWED_WITH_WARNINGS


@pytest.mark.parametrize("rationale", [None, "", "   "])
def test_an_override_without_a_rationale_is_refused(session: Session, rationale: str | None) -> None:
    kwargs = discharge("non_attendance", override_by="consultant", override_rationale=rationale)
    decision = assert_blocks(session, RULE, EPISODE, kwargs, "2024-05-02")
    assert decision.overridden_by is None


@pytest.mark.parametrize("role", ["key_worker", "safety_lead", "administrator", "system"])
def test_an_override_by_any_other_role_is_refused(session: Session, role: str) -> None:
    kwargs = discharge("non_attendance", override_by=role, override_rationale=RATIONALE)
    decision = assert_blocks(session, RULE, EPISODE, kwargs, "2024-05-02")
    assert decision.overridden_by is None


def test_only_seniors_are_named_as_able_to_override() -> None:
    assert registry.get(RULE).overridable_by == frozenset({Role.CONSULTANT, Role.TEAM_MANAGER})
