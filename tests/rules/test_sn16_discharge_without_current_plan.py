"""SN16 discharge-without-current-plan (gate): a discharge is blocked without a risk assessment with a safety plan in
the last 14 days; a discharge to the GP also needs a GP handover letter holding all six sections."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.rules.harness import assert_allows, assert_blocks, evidence_ids, evidence_text, tell

RULE = "SN16"
TEAM = "CMHT North"
EPISODE = [{"at": "2024-03-01", "type": "episode_start", "team": TEAM, "pathway": "cmht"}]
SECTIONS = ["violence_history", "non_adherence", "relapse_signature", "legal_history", "what_to_do", "route_back"]
TO_GP = {"kind": "episode", "team": TEAM, "reason": "recovered", "destination": "gp"}
TO_TEAM = {"kind": "episode", "team": TEAM, "reason": "transferred", "destination": "other_team"}
NO_PLAN = "no risk assessment with a safety plan in the last 14 days"


def plan(at: str = "2024-05-01T10:00", safety_plan: bool = True, **extra: object) -> dict[str, object]:
    return {"at": at, "type": "risk_assessment", "factors": {}, "safety_plan": safety_plan, **extra}


def letter(at: str = "2024-05-02", sections: list[str] = SECTIONS, **extra: object) -> dict[str, object]:
    return {"at": at, "type": "gp_letter_sent", "sections": sections, **extra}


def test_a_discharge_without_a_recent_safety_plan_is_blocked(session: Session) -> None:
    decision = assert_blocks(session, RULE, EPISODE, TO_TEAM, "2024-05-10")
    assert decision.reason == NO_PLAN


def test_a_discharge_with_a_recent_safety_plan_and_a_full_gp_letter_is_allowed(session: Session) -> None:
    assert_allows(session, RULE, [*EPISODE, plan(), letter()], TO_GP, "2024-05-10")
    assert_allows(session, RULE, [*EPISODE, plan()], TO_TEAM, "2024-05-10")


def test_an_assessment_without_a_safety_plan_does_not_count(session: Session) -> None:
    assert_blocks(session, RULE, [*EPISODE, plan(safety_plan=False)], TO_TEAM, "2024-05-10")


def test_the_safety_plan_counts_for_14_days_to_the_minute(session: Session) -> None:
    story = tell(session, [*EPISODE, plan("2024-05-01T10:00")])
    assert_allows(session, RULE, story, TO_TEAM, "2024-05-15T09:59")
    assert_allows(session, RULE, story, TO_TEAM, "2024-05-15T10:00")
    assert_blocks(session, RULE, story, TO_TEAM, "2024-05-15T10:01")


def test_the_14_days_are_elapsed_time_whatever_zone_the_moment_is_written_in(session: Session) -> None:
    # Fixed: the window used to be counted in wall-clock days of the attempt's zone. A plan at 10:00 GMT on
    # 25 March stays current for 336 hours: until 11:00 BST (10:00 UTC) on 8 April.
    story = tell(session, [*EPISODE, plan("2024-03-25T10:00")])
    assert_allows(session, RULE, story, TO_TEAM, "2024-04-08T11:00")
    assert_allows(session, RULE, story, TO_TEAM, "2024-04-08T10:00:00+00:00")
    assert_blocks(session, RULE, story, TO_TEAM, "2024-04-08T11:01")
    assert_blocks(session, RULE, story, TO_TEAM, "2024-04-08T10:01:00+00:00")


def test_a_discharge_to_the_gp_without_a_handover_letter_is_blocked(session: Session) -> None:
    decision = assert_blocks(session, RULE, [*EPISODE, plan()], TO_GP, "2024-05-10")
    assert decision.reason == "no GP handover letter"
    assert decision.evidence == ()


def test_a_gp_letter_missing_sections_is_blocked_naming_them(session: Session) -> None:
    story = tell(session, [*EPISODE, plan(), letter(sections=["violence_history", "non_adherence", "what_to_do"])])
    decision = assert_blocks(session, RULE, story, TO_GP, "2024-05-10")
    assert decision.reason == "the GP handover letter lacks: relapse_signature, legal_history, route_back"
    assert evidence_ids(decision) == {story.id(2)}
    assert evidence_text(decision) == "GP letter with violence_history, non_adherence, what_to_do"


def test_the_latest_letter_is_the_one_that_counts(session: Session) -> None:
    events = [*EPISODE, plan(), letter("2024-05-02"), letter("2024-05-03", sections=SECTIONS[:5])]
    decision = assert_blocks(session, RULE, events, TO_GP, "2024-05-10")
    assert decision.reason == "the GP handover letter lacks: route_back"


def test_a_letter_from_before_the_episode_does_not_count(session: Session) -> None:
    events = [letter("2024-02-01"), *EPISODE, plan()]
    assert assert_blocks(session, RULE, events, TO_GP, "2024-05-10").reason == "no GP handover letter"


def test_without_an_episode_any_letter_counts(session: Session) -> None:
    assert_allows(session, RULE, [letter("2024-02-01"), plan()], TO_GP, "2024-05-10")


def test_an_inpatient_discharge_needs_the_plan_but_not_the_gp_letter(session: Session) -> None:
    # Code's choice: the handover letter is asked of a discharge from an episode of care to the GP.
    ward = {"kind": "inpatient", "ward": "Willow Ward", "destination": "gp"}
    assert_allows(session, RULE, [*EPISODE, plan()], ward, "2024-05-10")
    assert_blocks(session, RULE, EPISODE, ward, "2024-05-10")


def test_both_reasons_are_given_together(session: Session) -> None:
    decision = assert_blocks(session, RULE, EPISODE, TO_GP, "2024-05-10")
    assert decision.reason == f"{NO_PLAN}; no GP handover letter"


def test_a_plan_or_letter_recorded_late_does_not_count_before_it_was_recorded(session: Session) -> None:
    story = tell(
        session, [*EPISODE, plan("2024-05-10", recorded="2024-05-14T12:00"), letter(recorded="2024-05-14T13:00")]
    )
    assert_blocks(session, RULE, story, TO_GP, "2024-05-14T11:59")
    decision = assert_blocks(session, RULE, story, TO_GP, "2024-05-14T12:01")
    assert decision.reason == "no GP handover letter"
    assert_allows(session, RULE, story, TO_GP, "2024-05-14T13:01")


@pytest.mark.parametrize("role", ["consultant", "team_manager"])
def test_there_is_no_override(session: Session, role: str) -> None:
    override = TO_GP | {"override_by": role, "override_rationale": "GP will write their own plan"}
    decision = assert_blocks(session, RULE, EPISODE, override, "2024-05-10")
    assert decision.overridden_by is None
