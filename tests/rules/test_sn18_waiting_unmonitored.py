"""SN18 waiting-unmonitored: an accepted referral with no attended direct contact for more than 28 days and no safety
plan or check-in contact in the last 28 days. Closes with a check-in, a safety plan, or the first attended contact."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.rules.harness import assert_fires, assert_silent, evidence_ids, evidence_text, tell

RULE = "SN18"
TEAM = "CMHT North"
REFERRAL = [{"at": "2024-05-01", "type": "referral_accepted", "team": TEAM}]


def contact(at: str, outcome: str = "attended", mode: str = "text", **extra: object) -> dict[str, object]:
    return {"at": at, "type": "contact", "team": TEAM, "outcome": outcome, "mode": mode, **extra}


def safety_plan(at: str, safety_plan: bool = True) -> dict[str, object]:
    return {"at": at, "type": "risk_assessment", "factors": {}, "safety_plan": safety_plan}


def test_waiting_more_than_28_days_unmonitored_opens_it_on_the_28th_day(session: Session) -> None:
    story = tell(session, REFERRAL)
    assert_silent(session, RULE, story, "2024-05-29T08:59")
    assert_silent(session, RULE, story, "2024-05-29T09:00")
    assert_fires(session, RULE, story, "2024-05-29T09:01", key=0, since="2024-05-29", due="2024-05-29")


def test_someone_seen_within_28_days_is_not_waiting(session: Session) -> None:
    assert_silent(session, RULE, [*REFERRAL, contact("2024-05-20", mode="face_to_face")], "2024-09-01")


def test_no_referral_nothing_to_watch(session: Session) -> None:
    assert_silent(session, RULE, [contact("2024-05-20", outcome="dna")], "2024-09-01")


@pytest.mark.parametrize(
    "monitoring",
    [contact("2024-05-20T14:00"), safety_plan("2024-05-20T14:00")],
    ids=["check-in contact", "safety plan"],
)
def test_a_check_in_or_safety_plan_restarts_the_28_days(session: Session, monitoring: dict[str, object]) -> None:
    story = tell(session, [*REFERRAL, monitoring])
    assert_silent(session, RULE, story, "2024-06-17T13:59")
    assert_fires(session, RULE, story, "2024-06-17T14:01", key=0, since="2024-06-17T14:00")


@pytest.mark.parametrize(
    "monitoring",
    [contact("2024-06-03T14:00"), safety_plan("2024-06-03T14:00")],
    ids=["check-in contact", "safety plan"],
)
def test_a_check_in_or_safety_plan_closes_it(session: Session, monitoring: dict[str, object]) -> None:
    story = tell(session, [*REFERRAL, monitoring])
    assert_fires(session, RULE, story, "2024-06-03T13:59")
    assert_silent(session, RULE, story, "2024-06-03T14:01")


def test_the_first_attended_direct_contact_closes_it_for_good(session: Session) -> None:
    story = tell(session, [*REFERRAL, contact("2024-06-03T14:00", mode="face_to_face")])
    assert_fires(session, RULE, story, "2024-06-03T13:59")
    assert_silent(session, RULE, story, "2024-12-31")


def test_missed_contacts_and_assessments_without_a_safety_plan_are_not_monitoring(session: Session) -> None:
    events = [*REFERRAL, contact("2024-05-20", outcome="dna", mode="face_to_face"), safety_plan("2024-05-21", False)]
    assert_fires(session, RULE, events, "2024-05-29T09:01", since="2024-05-29")


def test_monitoring_before_the_referral_does_not_count(session: Session) -> None:
    assert_fires(session, RULE, [contact("2024-04-30"), *REFERRAL], "2024-05-29T09:01", since="2024-05-29")


def test_a_check_in_recorded_late_closes_it_only_once_recorded(session: Session) -> None:
    story = tell(session, [*REFERRAL, contact("2024-05-27", recorded="2024-06-04T12:00")])
    assert_fires(session, RULE, story, "2024-06-04T11:59")
    assert_silent(session, RULE, story, "2024-06-04T12:01")


def test_a_referral_recorded_late_is_invisible_before_it_was_recorded(session: Session) -> None:
    # Code's choice: the wait runs from when the referral was accepted (how long the person has waited), so once
    # the late referral is known the finding's since can lie before it was recorded.
    story = tell(session, [REFERRAL[0] | {"recorded": "2024-06-05"}])
    assert_silent(session, RULE, story, "2024-06-05T08:59")
    assert_fires(session, RULE, story, "2024-06-05T09:01", since="2024-05-29")


def test_the_evidence_is_the_referral_and_its_team(session: Session) -> None:
    story = tell(session, REFERRAL)
    finding = assert_fires(session, RULE, story, "2024-06-01", key=0)
    assert evidence_ids(finding) == {story.id(0)}
    assert evidence_text(finding) == "referral accepted by CMHT North"
    assert finding.summary.startswith("Waiting for CMHT North since 2024-05-01")
