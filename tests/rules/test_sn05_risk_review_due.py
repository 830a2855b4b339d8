"""SN05 risk-review-due: on an open episode (or in hospital), no risk assessment for 182 days, or a trigger with no
assessment within 7 days of the trigger being recorded. Closes with an assessment dated after the trigger."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.rules.harness import Events, assert_fires, assert_silent, evidence_ids, evidence_text, findings, tell

RULE = "SN05"
EPISODE = [{"at": "2024-04-02", "type": "episode_start", "team": "CMHT North", "pathway": "cmht"}]
ASSESSED = [*EPISODE, {"at": "2024-04-02T12:00", "type": "risk_assessment", "factors": {}, "safety_plan": True}]
CONCERN = {"at": "2024-05-06T10:00", "type": "family_concern", "from": "Mum", "channel": "phone", "text": "Worried"}


def assessment(at: str, **extra: object) -> dict[str, object]:
    return {"at": at, "type": "risk_assessment", "factors": {"self_harm": "absent"}, "safety_plan": True, **extra}


def keys(session: Session, events: Events, at: str) -> set[str]:
    return {f.key for f in findings(session, RULE, events, at)}


def test_six_months_without_an_assessment_opens_it_at_the_182nd_day_and_not_a_minute_before(
    session: Session,
) -> None:
    story = tell(session, ASSESSED)
    assert_silent(session, RULE, story, "2024-10-01T11:59")
    assert_silent(session, RULE, story, "2024-10-01T12:00")
    assert_fires(
        session, RULE, story, "2024-10-01T12:01", key="periodic", since="2024-10-01T12:00", due="2024-10-01T12:00"
    )


def test_the_182_days_are_elapsed_time_across_the_clock_change(session: Session) -> None:
    # Assessed 12:00 GMT on 8 January; 182 days later is 12:00 UTC, which is 13:00 in London (BST).
    story = tell(session, [{**EPISODE[0], "at": "2024-01-08"}, assessment("2024-01-08T12:00")])
    assert_silent(session, RULE, story, "2024-07-08T12:59")
    assert_fires(session, RULE, story, "2024-07-08T12:01:00+00:00", since="2024-07-08T12:00:00Z")


def test_with_no_assessment_ever_the_182_days_run_from_when_care_began(session: Session) -> None:
    story = tell(session, EPISODE)
    assert_silent(session, RULE, story, "2024-10-01T08:59")
    finding = assert_fires(session, RULE, story, "2024-10-01T09:01", key="periodic", since="2024-10-01")
    assert evidence_ids(finding) == {story.id(0)}
    assert evidence_text(finding) == "care began"


def test_an_inpatient_stay_without_an_episode_is_care_too(session: Session) -> None:
    admitted = [{"at": "2024-04-02", "type": "admission", "ward": "Willow Ward", "legal_status": "01"}]
    assert_fires(session, RULE, [*admitted, assessment("2024-04-03")], "2024-10-03", key="periodic")


def test_the_evidence_names_the_earliest_care_even_when_the_admission_came_before_the_episode(
    session: Session,
) -> None:
    events = [
        {"at": "2024-03-01", "type": "admission", "ward": "Willow Ward", "legal_status": "01"},
        *EPISODE,
    ]
    story = tell(session, events)
    finding = assert_fires(
        session, RULE, story, "2024-08-31", key="periodic", since="2024-08-30T10:00"
    )  # 09:00 GMT + 182 days
    assert evidence_ids(finding) == {story.id(0)}


def test_an_assessment_from_before_care_began_is_not_the_evidence(session: Session) -> None:
    story = tell(session, [assessment("2024-01-10"), *EPISODE])
    finding = assert_fires(session, RULE, story, "2024-10-02", key="periodic", since="2024-10-01")
    assert evidence_ids(finding) == {story.id(1)}
    assert evidence_text(finding) == "care began"


def test_without_an_open_episode_or_admission_nothing_is_due(session: Session) -> None:
    ended = {
        "at": "2024-04-20",
        "type": "episode_end",
        "team": "CMHT North",
        "reason": "recovered",
        "destination": "gp",
    }
    assert_silent(session, RULE, [*EPISODE, ended, CONCERN], "2025-01-01")
    assert_silent(session, RULE, [CONCERN], "2025-01-01")


TRIGGERS = {
    "admission": {"type": "admission", "ward": "Willow Ward", "legal_status": "02"},
    "police information": {"type": "partner_info", "agency": "police", "kind": "other", "detail": "Welfare check"},
    "court information": {"type": "partner_info", "agency": "court", "kind": "court_date", "detail": "Hearing"},
    "probation information": {"type": "partner_info", "agency": "probation", "kind": "other", "detail": "Report"},
    "new risk event": {
        "type": "risk_event",
        "category": "self_harm",
        "harm": "minor",
        "source": "self",
        "description": "Cut his arm",
    },
    "family concern": {"type": "family_concern", "from": "Mum", "channel": "phone", "text": "Worried"},
    "non-adherence report": {"type": "adherence_report", "status": "non_adherent", "source": "family"},
    "partial adherence report": {"type": "adherence_report", "status": "partial", "source": "pharmacy"},
}


@pytest.mark.parametrize("trigger", TRIGGERS, ids=list(TRIGGERS))
def test_a_trigger_with_no_assessment_within_7_days_opens_it_a_minute_after_the_week(
    session: Session, trigger: str
) -> None:
    story = tell(session, [*ASSESSED, {"at": "2024-05-06T10:00", **TRIGGERS[trigger]}])
    assert_silent(session, RULE, story, "2024-05-13T09:59")
    assert_silent(session, RULE, story, "2024-05-13T10:00")
    finding = assert_fires(session, RULE, story, "2024-05-13T10:01", key="trigger", since="2024-05-13T10:00")
    assert finding.due == finding.since
    assert evidence_ids(finding) == {story.id(2)}


def test_a_depot_refused_and_an_inpatient_discharge_are_triggers(session: Session) -> None:
    depot = [
        {"at": "2024-04-03", "type": "medication_start", "drug": "aripiprazole", "route": "depot", "interval_days": 28},
        {"at": "2024-05-06T10:00", "type": "depot_refused", "drug": "aripiprazole"},
    ]
    story = tell(session, [*ASSESSED, *depot])
    finding = assert_fires(session, RULE, story, "2024-05-13T10:01", key="trigger", since="2024-05-13T10:00")
    assert evidence_text(finding) == "depot refused"
    stay = [
        {"at": "2024-05-01", "type": "admission", "ward": "Willow Ward", "legal_status": "01"},
        assessment("2024-05-02"),
        {"at": "2024-05-10T15:00", "type": "inpatient_discharge", "ward": "Willow Ward"},
    ]
    finding = assert_fires(session, RULE, [*ASSESSED, *stay], "2024-05-17T15:01", key="trigger")
    assert evidence_text(finding) == "inpatient discharge"


def test_other_information_is_not_a_trigger(session: Session) -> None:
    quiet = [
        {"at": "2024-05-06", "type": "adherence_report", "status": "adherent", "source": "self"},
        {"at": "2024-05-06", "type": "partner_info", "agency": "gp", "kind": "other", "detail": "Seen for a cough"},
        {"at": "2024-05-06", "type": "contact", "team": "CMHT North", "outcome": "dna", "mode": "face_to_face"},
        {"at": "2024-05-06", "type": "note", "text": "Letter sent"},
    ]
    assert_silent(session, RULE, [*ASSESSED, *quiet], "2024-06-01")


def test_an_assessment_dated_after_the_trigger_closes_it_even_after_the_week(session: Session) -> None:
    story = tell(session, [*ASSESSED, CONCERN, assessment("2024-05-20T11:00")])
    assert_fires(session, RULE, story, "2024-05-20T10:59", key="trigger")
    assert_silent(session, RULE, story, "2024-05-20T11:01")


def test_an_assessment_before_the_trigger_does_not_close_it(session: Session) -> None:
    assert_fires(session, RULE, [*ASSESSED, assessment("2024-05-06T09:59"), CONCERN], "2024-05-14", key="trigger")


def test_a_trigger_recorded_late_is_invisible_until_recorded_and_the_week_runs_from_then(session: Session) -> None:
    police = {"at": "2024-05-01T22:00", "recorded": "2024-05-09T08:30", **TRIGGERS["police information"]}
    story = tell(session, [*ASSESSED, police])
    assert_silent(session, RULE, story, "2024-05-16T08:29")  # a week after it happened would already be overdue
    assert_fires(session, RULE, story, "2024-05-16T08:31", key="trigger", since="2024-05-16T08:30")


def test_an_assessment_recorded_late_does_not_close_it_before_it_was_recorded(session: Session) -> None:
    story = tell(session, [*ASSESSED, CONCERN, assessment("2024-05-08", recorded="2024-05-20T12:00")])
    assert_fires(session, RULE, story, "2024-05-20T11:59", key="trigger")
    assert_silent(session, RULE, story, "2024-05-20T12:01")


def test_the_oldest_overdue_trigger_sets_since_and_every_overdue_trigger_is_evidence(session: Session) -> None:
    second = {**TRIGGERS["non-adherence report"], "at": "2024-05-08T10:00"}
    story = tell(session, [*ASSESSED, CONCERN, second])
    finding = assert_fires(session, RULE, story, "2024-05-20", key="trigger", since="2024-05-13T10:00")
    assert evidence_ids(finding) == {story.id(2), story.id(3)}
    assert evidence_text(finding) == "family concern | adherence report: non_adherent"
    assert "family concern" in finding.summary


def test_a_periodic_and_a_trigger_finding_are_separate(session: Session) -> None:
    assert keys(session, [*ASSESSED, {**CONCERN, "at": "2024-09-30"}], "2024-10-08") == {"periodic", "trigger"}
