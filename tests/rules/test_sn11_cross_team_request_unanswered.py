"""SN11 cross-team-request-unanswered: a request from one team to another needs an answer with a rationale, due 7
days after the request was recorded."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from safetynet.core.errors import ValidationFailed
from tests.rules.harness import assert_fires, assert_silent, evidence_ids, evidence_text, findings, moment, tell

RULE = "SN11"
EPISODE = [{"at": "2024-04-02", "type": "episode_start", "team": "EIP", "pathway": "eip"}]


def request(at: str = "2024-05-06T10:00", ask: str = "cto", **extra: object) -> dict[str, object]:
    return {"at": at, "type": "cross_team_request", "from_team": "EIP", "to_team": "Willow Ward", "ask": ask, **extra}


def answer(
    at: str, ref: int | None = None, rationale: str = "Not detainable now; review at ward round"
) -> dict[str, object]:
    event: dict[str, object] = {"at": at, "type": "cross_team_response", "answer": "declined", "rationale": rationale}
    if ref is not None:
        event["ref"] = ref
    return event


def test_a_request_opens_when_recorded_due_7_days_later(session: Session) -> None:
    story = tell(session, [*EPISODE, request()])
    assert_silent(session, RULE, story, "2024-05-06T09:59")
    assert_fires(session, RULE, story, "2024-05-06T10:01", key=1, since="2024-05-06T10:00", due="2024-05-13T10:00")


def test_it_is_overdue_7_days_after_the_request_and_not_a_minute_before(session: Session) -> None:
    finding = assert_fires(session, RULE, [*EPISODE, request()], "2024-05-13T09:59")
    assert not finding.overdue(moment("2024-05-13T09:59"))
    assert finding.overdue(moment("2024-05-13T10:01"))
    assert_fires(session, RULE, [*EPISODE, request()], "2024-06-30")  # stays open until answered


def test_no_request_nothing_to_answer(session: Session) -> None:
    assert_silent(session, RULE, EPISODE, "2024-06-30")


def test_an_answer_with_a_rationale_closes_it(session: Session) -> None:
    story = tell(session, [*EPISODE, request(), answer("2024-05-09T16:00", ref=1)])
    assert_fires(session, RULE, story, "2024-05-09T15:59")
    assert_silent(session, RULE, story, "2024-05-09T16:01")


def test_an_answer_closes_only_the_request_it_answers(session: Session) -> None:
    events = [*EPISODE, request(ask="cto"), request(ask="depot"), answer("2024-05-07", ref=2)]
    story = tell(session, events)
    assert {f.key for f in findings(session, RULE, story, "2024-05-08")} == {story.id(1)}


def test_an_answer_without_a_reference_answers_the_oldest_unanswered_request(session: Session) -> None:
    events = [*EPISODE, request(ask="cto"), request("2024-05-06T11:00", ask="depot"), answer("2024-05-07")]
    story = tell(session, events)
    assert {f.key for f in findings(session, RULE, story, "2024-05-08")} == {story.id(2)}


def test_an_answer_needs_a_rationale(session: Session) -> None:
    with pytest.raises(ValidationFailed):
        tell(session, [*EPISODE, request(), answer("2024-05-07", ref=1, rationale="")])


def test_a_blank_rationale_is_no_answer(session: Session) -> None:
    # Fixed: a rationale of spaces used to close the request.
    assert_fires(session, RULE, [*EPISODE, request(), answer("2024-05-07", ref=1, rationale="   ")], "2024-05-08")


def test_a_request_recorded_late_is_invisible_before_and_due_7_days_after_it_was_recorded(session: Session) -> None:
    story = tell(session, [*EPISODE, request("2024-05-01", recorded="2024-05-06T10:00")])
    assert_silent(session, RULE, story, "2024-05-06T09:59")
    assert_fires(session, RULE, story, "2024-05-06T10:01", since="2024-05-06T10:00", due="2024-05-13T10:00")


def test_an_answer_recorded_late_closes_it_only_once_recorded(session: Session) -> None:
    story = tell(session, [*EPISODE, request(), answer("2024-05-08", ref=1) | {"recorded": "2024-05-15T12:00"}])
    assert_fires(session, RULE, story, "2024-05-15T11:59")
    assert_silent(session, RULE, story, "2024-05-15T12:01")


def test_the_evidence_is_the_request_naming_both_teams_and_the_ask(session: Session) -> None:
    story = tell(session, [*EPISODE, request(detail="Please consider a CTO before discharge")])
    finding = assert_fires(session, RULE, story, "2024-05-07", key=1)
    assert evidence_ids(finding) == {story.id(1)}
    assert evidence_text(finding) == "EIP asked Willow Ward: cto"
    assert finding.summary.startswith("Willow Ward has not answered EIP's request (cto)")
