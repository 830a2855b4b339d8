"""SN04 risk-downgraded: the latest risk assessment marks a category absent or not assessed while the risk history
holds an event of that category, and gives no rationale. Closes when a later assessment marks it present or gives a
rationale."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.rules.harness import assert_fires, assert_silent, evidence_ids, evidence_text, moment, tell

RULE = "SN04"
EPISODE = [{"at": "2024-01-08", "type": "episode_start", "team": "CMHT North", "pathway": "cmht"}]
VIOLENCE = {
    "at": "2024-01-10",
    "type": "risk_event",
    "category": "violence_to_others",
    "harm": "minor",
    "source": "record",
    "description": "Pushed his father over when unwell",
}


def assessment(at: str, *, rationale: str | None = None, **factors: str) -> dict[str, object]:
    event: dict[str, object] = {"at": at, "type": "risk_assessment", "factors": factors, "safety_plan": True}
    if rationale is not None:
        event["rationale"] = rationale
    return event


@pytest.mark.parametrize("status", ["absent", "not_assessed"])
def test_an_assessment_marking_a_known_risk_absent_or_not_assessed_without_rationale_fires(
    session: Session, status: str
) -> None:
    events = [*EPISODE, VIOLENCE, assessment("2024-03-01", violence_to_others=status)]
    assert_fires(session, RULE, events, "2024-03-01T09:01", key=2, since="2024-03-01", due="2024-03-08")


def test_an_assessment_that_leaves_a_known_risk_out_counts_as_not_assessed(session: Session) -> None:
    # Code's choice: a category missing from the factors is read as not assessed.
    events = [*EPISODE, VIOLENCE, assessment("2024-03-01", self_harm="absent")]
    assert_fires(session, RULE, events, "2024-03-02", key=2)


def test_an_assessment_marking_the_known_risk_present_or_giving_a_rationale_does_not_fire(session: Session) -> None:
    assert_silent(
        session, RULE, [*EPISODE, VIOLENCE, assessment("2024-03-01", violence_to_others="present")], "2024-03-02"
    )
    explained = assessment("2024-03-01", violence_to_others="absent", rationale="Single push ten years ago")
    assert_silent(session, RULE, [*EPISODE, VIOLENCE, explained], "2024-03-02")


def test_a_blank_rationale_is_no_rationale(session: Session) -> None:
    blank = assessment("2024-03-01", violence_to_others="absent", rationale="   ")
    assert_fires(session, RULE, [*EPISODE, VIOLENCE, blank], "2024-03-02")


def test_with_no_risk_history_or_no_assessment_it_does_not_fire(session: Session) -> None:
    assert_silent(session, RULE, [*EPISODE, assessment("2024-03-01", violence_to_others="absent")], "2024-03-02")
    assert_silent(session, RULE, [*EPISODE, VIOLENCE], "2024-12-01")


def test_a_risk_event_entered_in_error_is_not_risk_history(session: Session) -> None:
    error = {"at": "2024-01-11", "type": "risk_event_entered_in_error", "ref": 1, "reason": "Wrong patient"}
    events = [*EPISODE, VIOLENCE, error, assessment("2024-03-01", violence_to_others="absent")]
    assert_silent(session, RULE, events, "2024-03-02")


def test_only_risk_events_that_happened_before_the_assessment_count(session: Session) -> None:
    # The boundary: the same event a minute before the assessment is history; a minute after, it is not.
    before = [*EPISODE, VIOLENCE | {"at": "2024-03-01T08:59"}, assessment("2024-03-01", violence_to_others="absent")]
    after = [*EPISODE, assessment("2024-03-01", violence_to_others="absent"), VIOLENCE | {"at": "2024-03-01T09:01"}]
    assert_fires(session, RULE, before, "2024-03-02")
    assert_silent(session, RULE, after, "2024-03-02")


def test_it_is_due_seven_days_after_it_opened(session: Session) -> None:
    story = tell(session, [*EPISODE, VIOLENCE, assessment("2024-03-01T14:00", violence_to_others="absent")])
    finding = assert_fires(session, RULE, story, "2024-03-01T14:01", due="2024-03-08T14:00")
    assert not finding.overdue(moment("2024-03-08T13:59"))
    assert finding.overdue(moment("2024-03-08T14:01"))
    assert_silent(session, RULE, story, "2024-03-01T13:59")


def test_a_later_assessment_marking_it_present_or_giving_a_rationale_closes_it(session: Session) -> None:
    downgraded = [*EPISODE, VIOLENCE, assessment("2024-03-01", violence_to_others="absent")]
    present = tell(session, [*downgraded, assessment("2024-03-05", violence_to_others="present")])
    assert_fires(session, RULE, present, "2024-03-05T08:59", key=2)
    assert_silent(session, RULE, present, "2024-03-05T09:01")
    reasoned = [*downgraded, assessment("2024-03-05", violence_to_others="absent", rationale="Reviewed with family")]
    assert_silent(session, RULE, reasoned, "2024-03-05T09:01")


def test_a_later_assessment_that_still_drops_it_fires_again_for_that_assessment(session: Session) -> None:
    events = [
        *EPISODE,
        VIOLENCE,
        assessment("2024-03-01", violence_to_others="absent"),
        assessment("2024-03-05", violence_to_others="not_assessed"),
    ]
    assert_fires(session, RULE, events, "2024-03-06", key=3, since="2024-03-05", due="2024-03-12")


def test_an_assessment_recorded_late_is_invisible_before_it_was_recorded(session: Session) -> None:
    late = assessment("2024-03-01", violence_to_others="absent") | {"recorded": "2024-03-04T16:00"}
    story = tell(session, [*EPISODE, VIOLENCE, late])
    assert_silent(session, RULE, story, "2024-03-04T15:59")
    assert_fires(session, RULE, story, "2024-03-04T16:01", since="2024-03-04T16:00", due="2024-03-11T16:00")


def test_a_risk_event_recorded_after_the_assessment_opens_it_when_recorded_and_is_due_from_then(
    session: Session,
) -> None:
    # The A&E notes about January arrive on 20 March, after the 1 March assessment marked violence absent.
    late = VIOLENCE | {"recorded": "2024-03-20T11:00"}
    story = tell(session, [*EPISODE, assessment("2024-03-01", violence_to_others="absent"), late])
    assert_silent(session, RULE, story, "2024-03-20T10:59")
    assert_fires(session, RULE, story, "2024-03-20T11:01", key=1, since="2024-03-20T11:00", due="2024-03-27T11:00")


def test_the_evidence_is_the_assessment_and_the_history_it_drops(session: Session) -> None:
    threats = VIOLENCE | {"category": "threats", "description": "Threatened a neighbour", "harm": "none"}
    events = [*EPISODE, VIOLENCE, threats, assessment("2024-03-01", violence_to_others="absent", threats="present")]
    story = tell(session, events)
    finding = assert_fires(session, RULE, story, "2024-03-02", key=3)
    assert evidence_ids(finding) == {story.id(3), story.id(1)}
    text = evidence_text(finding)
    assert "assessment marks violence_to_others absent or not assessed" in text
    assert "violence_to_others (minor harm, source record)" in text
    assert "threats" not in text
    assert "violence to others" in finding.summary
