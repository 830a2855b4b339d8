"""SN14 weekend-discharge-without-crisis-cover (gate): an inpatient discharge on a Friday, Saturday, Sunday or bank
holiday (London time) is blocked unless the crisis team has accepted the person. There is no override."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from safetynet.rules import engine, registry
from safetynet.rules.model import GateOutcome
from tests.rules.harness import assert_allows, assert_blocks, attempt, tell

RULE = "SN14"
WARD = "Willow Ward"
ADMITTED = [
    {"at": "2024-03-01", "type": "episode_start", "team": "CMHT North", "pathway": "cmht"},
    {"at": "2024-03-20", "type": "admission", "ward": WARD, "legal_status": "02"},
]
DISCHARGE = {"kind": "inpatient", "ward": WARD, "destination": "other_team"}


@pytest.mark.parametrize(
    ("at", "day"),
    [
        ("2024-05-10T11:00", "Friday"),
        ("2024-05-11T11:00", "Saturday"),
        ("2024-05-12T11:00", "Sunday"),
        ("2024-03-29T11:00", "Friday"),  # Good Friday
        ("2024-04-01T11:00", "Monday"),  # Easter Monday
        ("2024-05-06T11:00", "Monday"),  # early May bank holiday
        ("2024-12-26T11:00", "Thursday"),  # Boxing Day
    ],
)
def test_a_friday_weekend_or_bank_holiday_discharge_without_crisis_cover_is_blocked(
    session: Session, at: str, day: str
) -> None:
    decision = assert_blocks(session, RULE, ADMITTED, DISCHARGE, at)
    assert decision.reason == f"a {day} discharge needs the crisis team to accept the person first"


@pytest.mark.parametrize("at", ["2024-05-07T11:00", "2024-05-08T11:00", "2024-05-09T11:00", "2024-05-13T11:00"])
def test_a_discharge_from_monday_to_thursday_is_allowed(session: Session, at: str) -> None:
    assert_allows(session, RULE, ADMITTED, DISCHARGE, at)


def test_crisis_team_acceptance_allows_a_friday_discharge(session: Session) -> None:
    assert_allows(session, RULE, ADMITTED, DISCHARGE | {"crisis_team_accepted": True}, "2024-05-10T11:00")
    assert_blocks(session, RULE, ADMITTED, DISCHARGE | {"crisis_team_accepted": False}, "2024-05-10T11:00")


def test_the_day_turns_at_midnight_london_time(session: Session) -> None:
    story = tell(session, ADMITTED)
    assert_allows(session, RULE, story, DISCHARGE, "2024-05-09T23:59")  # Thursday
    assert_blocks(session, RULE, story, DISCHARGE, "2024-05-10T00:01")  # Friday
    assert_blocks(session, RULE, story, DISCHARGE, "2024-05-12T23:59")  # Sunday
    assert_allows(session, RULE, story, DISCHARGE, "2024-05-13T00:01")  # Monday


def test_a_moment_given_in_utc_is_judged_by_its_london_day_and_named_so(session: Session) -> None:
    # 23:30 UTC on Thursday 9 May is 00:30 BST on Friday 10 May.
    decision = assert_blocks(session, RULE, ADMITTED, DISCHARGE, "2024-05-09T23:30:00+00:00")
    assert decision.reason.startswith("a Friday discharge")  # fixed: used to name the UTC day, Thursday
    assert_allows(session, RULE, ADMITTED, DISCHARGE, "2024-05-12T23:30:00+00:00")  # Monday 00:30 BST


def test_an_episode_discharge_is_not_judged_by_this_rule(session: Session) -> None:
    episode = {"kind": "episode", "team": "CMHT North", "reason": "recovered", "destination": "gp"}
    assert_allows(session, RULE, ADMITTED, episode, "2024-05-10T11:00")


def test_there_is_no_override_even_by_a_consultant_with_a_rationale(session: Session) -> None:
    override = DISCHARGE | {"override_by": "consultant", "override_rationale": "Bed needed; family will support"}
    decision = assert_blocks(session, RULE, ADMITTED, override, "2024-05-10T11:00")
    assert decision.overridden_by is None
    assert registry.get(RULE).overridable_by == frozenset()


def test_only_the_attempt_matters_not_what_the_record_holds(session: Session) -> None:
    # Missing data: with nothing on record (no admission), a Friday ward discharge is still blocked.
    note = [{"at": "2024-05-01", "type": "note", "text": "Nothing else known"}]
    assert_blocks(session, RULE, note, DISCHARGE, "2024-05-10T11:00")
    # A crisis acceptance recorded on an earlier discharge does not carry over to this attempt.
    earlier = {"at": "2024-05-03T11:00", "type": "inpatient_discharge", "ward": WARD, "crisis_team_accepted": True}
    readmitted = {"at": "2024-05-05", "type": "admission", "ward": WARD, "legal_status": "02"}
    assert_blocks(session, RULE, [*ADMITTED, earlier, readmitted], DISCHARGE, "2024-05-10T11:00")


def test_the_engine_reports_the_discharge_as_blocked(session: Session) -> None:
    story = tell(session, ADMITTED)
    at = "2024-05-10T11:00"
    result = engine.check_discharge(story.facts(at), attempt(story, at, **DISCHARGE), [registry.get(RULE)])
    assert result.outcome is GateOutcome.BLOCKED
    assert [d.rule_id for d in result.decisions] == [RULE]
