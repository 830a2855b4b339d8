"""SN01 family-concern-unanswered: a family or carer concern needs a recorded response by the end of the next
working day after it was recorded (England and Wales bank holidays are not working days)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.rules.harness import assert_fires, assert_silent, evidence_ids, evidence_text, moment, tell

RULE = "SN01"
EPISODE = [
    {"at": "2024-01-08", "type": "episode_start", "team": "CMHT North", "pathway": "cmht"},
]


def concern(at: str, **extra: object) -> dict[str, object]:
    return {
        "at": at,
        "type": "family_concern",
        "from": "Dee (sister)",
        "channel": "phone",
        "text": "He has not slept for days",
        **extra,
    }


def response(at: str, ref: int | None = None) -> dict[str, object]:
    event: dict[str, object] = {"at": at, "type": "family_concern_response", "text": "Called her back"}
    if ref is not None:
        event["ref"] = ref
    return event


def test_a_recorded_concern_opens_at_once_due_by_the_end_of_the_next_working_day(session: Session) -> None:
    # Tuesday 5 March 2024, 10:00: due by the end of Wednesday.
    events = [*EPISODE, concern("2024-03-05T10:00")]
    assert_fires(session, RULE, events, "2024-03-05T10:01", key=1, since="2024-03-05T10:00", due="2024-03-06T23:59:59")


def test_nothing_fires_before_the_concern_is_recorded_or_without_a_concern(session: Session) -> None:
    story = tell(session, [*EPISODE, concern("2024-03-05T10:00")])
    assert_silent(session, RULE, story, "2024-03-05T09:59")
    assert_silent(session, RULE, EPISODE, "2024-03-20")


def test_a_response_closes_the_concern(session: Session) -> None:
    story = tell(session, [*EPISODE, concern("2024-03-05T10:00"), response("2024-03-05T15:30", ref=1)])
    assert_fires(session, RULE, story, "2024-03-05T15:29", key=1)
    assert_silent(session, RULE, story, "2024-03-05T15:31")


def test_a_response_closes_only_the_concern_it_answers(session: Session) -> None:
    events = [*EPISODE, concern("2024-03-04T10:00"), concern("2024-03-05T10:00"), response("2024-03-05T11:00", ref=2)]
    assert_fires(session, RULE, events, "2024-03-05T12:00", key=1, due="2024-03-05T23:59:59")


def test_a_response_without_a_reference_answers_the_oldest_unanswered_concern(session: Session) -> None:
    events = [*EPISODE, concern("2024-03-04T10:00"), concern("2024-03-05T10:00"), response("2024-03-05T11:00")]
    assert_fires(session, RULE, events, "2024-03-05T12:00", key=2, due="2024-03-06T23:59:59")


def test_a_concern_on_a_friday_is_due_by_the_end_of_monday(session: Session) -> None:
    story = tell(session, [*EPISODE, concern("2024-03-08T16:40")])
    finding = assert_fires(
        session, RULE, story, "2024-03-09T12:00", since="2024-03-08T16:40", due="2024-03-11T23:59:59"
    )
    assert not finding.overdue(moment("2024-03-11T23:58:59"))
    assert finding.overdue(moment("2024-03-12T00:00:59"))


def test_a_concern_on_a_saturday_is_due_by_the_end_of_monday(session: Session) -> None:
    assert_fires(session, RULE, [*EPISODE, concern("2024-03-09T11:00")], "2024-03-09T12:00", due="2024-03-11T23:59:59")


def test_a_concern_on_maundy_thursday_is_due_by_the_end_of_the_tuesday_after_easter(session: Session) -> None:
    # Good Friday 29 March 2024 and Easter Monday 1 April 2024 are bank holidays: the next working day is Tuesday.
    story = tell(session, [*EPISODE, concern("2024-03-28T16:40")])
    finding = assert_fires(session, RULE, story, "2024-03-29T23:59", due="2024-04-02T23:59:59")
    assert not finding.overdue(moment("2024-03-30T00:01"))  # a rule that forgot Good Friday would say overdue
    assert not finding.overdue(moment("2024-04-02T23:58:59"))
    assert finding.overdue(moment("2024-04-03T00:00:59"))
    assert_fires(session, RULE, story, "2024-04-03T00:01", key=1)  # still open once overdue


def test_a_concern_on_good_friday_is_due_by_the_end_of_the_tuesday_after_easter(session: Session) -> None:
    assert_fires(session, RULE, [*EPISODE, concern("2024-03-29T11:00")], "2024-03-29T12:00", due="2024-04-02T23:59:59")


@pytest.mark.parametrize(
    ("recorded", "due"),
    [
        ("2024-03-28T23:59", "2024-04-02T23:59:59"),  # Thursday, a minute before midnight
        ("2024-03-29T00:01", "2024-04-02T23:59:59"),  # Good Friday, a minute after
        ("2024-04-01T23:59", "2024-04-02T23:59:59"),  # Easter Monday, last minute
        ("2024-04-02T00:01", "2024-04-03T23:59:59"),  # Tuesday, first minute: due end of Wednesday
    ],
)
def test_the_due_day_moves_at_midnight_london_time(session: Session, recorded: str, due: str) -> None:
    assert_fires(session, RULE, [*EPISODE, concern(recorded)], "2024-04-02T12:00", due=due)


def test_a_concern_recorded_late_is_invisible_before_it_was_recorded_and_due_from_the_recorded_day(
    session: Session,
) -> None:
    # Rang on Friday 1 March, written up on Monday 4 March at 10:00: due by the end of Tuesday, not of Monday.
    story = tell(session, [*EPISODE, concern("2024-03-01T16:00", recorded="2024-03-04T10:00")])
    assert_silent(session, RULE, story, "2024-03-04T09:59")
    assert_fires(session, RULE, story, "2024-03-04T10:01", since="2024-03-04T10:00", due="2024-03-05T23:59:59")


def test_a_response_recorded_late_leaves_the_concern_open_until_it_is_recorded(session: Session) -> None:
    events = [*EPISODE, concern("2024-03-05T10:00"), response("2024-03-05T15:00", ref=1) | {"recorded": "2024-03-08"}]
    story = tell(session, events)
    assert_fires(session, RULE, story, "2024-03-07T12:00", key=1)
    assert_silent(session, RULE, story, "2024-03-08T09:01")


def test_the_evidence_is_the_concern_with_who_raised_it_and_what_they_said(session: Session) -> None:
    story = tell(session, [*EPISODE, concern("2024-03-05T10:00")])
    finding = assert_fires(session, RULE, story, "2024-03-05T12:00")
    assert finding.key == story.id(1)
    assert evidence_ids(finding) == {story.id(1)}
    assert "Dee (sister) by phone: He has not slept for days" in evidence_text(finding)
    (evidence,) = finding.evidence
    assert evidence.kind == "family_concerns"
    assert evidence.recorded_at == moment("2024-03-05T10:00")
