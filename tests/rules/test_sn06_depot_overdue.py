"""SN06 depot-overdue: an active depot prescription whose last dose given (or its start) is more than the interval
plus 7 days ago. Closes when a dose is given or the prescription is stopped."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tests.rules.harness import assert_fires, assert_silent, evidence_ids, evidence_text, findings, tell

RULE = "SN06"
DRUG = "aripiprazole"
PRESCRIBED = [
    {"at": "2024-05-01", "type": "episode_start", "team": "CMHT North", "pathway": "cmht"},
    {"at": "2024-05-01", "type": "medication_start", "drug": DRUG, "route": "depot", "interval_days": 14},
]


def given(at: str, **extra: object) -> dict[str, object]:
    return {"at": at, "type": "depot_given", "drug": DRUG, **extra}


def refused(at: str) -> dict[str, object]:
    return {"at": at, "type": "depot_refused", "drug": DRUG}


def test_a_depot_not_given_for_the_interval_plus_7_days_is_overdue_from_that_moment(session: Session) -> None:
    # Given 1 May 10:00, every 14 days: overdue after 22 May 10:00 (14 + 7 days).
    events = [*PRESCRIBED, given("2024-05-01T10:00")]
    assert_fires(session, RULE, events, "2024-05-22T10:01", key=1, since="2024-05-22T10:00", due="2024-05-22T10:00")


def test_a_depot_given_on_time_is_not_overdue(session: Session) -> None:
    events = [*PRESCRIBED, given("2024-05-01T10:00"), given("2024-05-15"), given("2024-05-29")]
    assert_silent(session, RULE, events, "2024-06-18")


def test_the_threshold_is_exactly_interval_plus_7_days(session: Session) -> None:
    story = tell(session, [*PRESCRIBED, given("2024-05-01T10:00")])
    assert_silent(session, RULE, story, "2024-05-22T09:59")
    assert_silent(session, RULE, story, "2024-05-22T10:00")
    assert_fires(session, RULE, story, "2024-05-22T10:01")


def test_a_prescription_with_no_dose_given_runs_from_its_start(session: Session) -> None:
    story = tell(session, PRESCRIBED)
    assert_silent(session, RULE, story, "2024-05-22T08:59")
    finding = assert_fires(session, RULE, story, "2024-05-22T09:01", key=1, since="2024-05-22T09:00")
    assert evidence_ids(finding) == {story.id(1)}
    assert "prescribed, no dose given yet" in evidence_text(finding)


def test_refused_doses_do_not_reset_the_clock(session: Session) -> None:
    events = [*PRESCRIBED, given("2024-05-01T10:00"), refused("2024-05-15"), refused("2024-05-20")]
    assert_fires(session, RULE, events, "2024-05-22T10:01", since="2024-05-22T10:00")


def test_oral_medication_is_not_watched(session: Session) -> None:
    oral = [PRESCRIBED[0], {"at": "2024-05-01", "type": "medication_start", "drug": "olanzapine", "route": "oral"}]
    assert_silent(session, RULE, oral, "2024-12-01")


def test_a_dose_given_closes_it(session: Session) -> None:
    story = tell(session, [*PRESCRIBED, given("2024-05-01T10:00"), given("2024-05-24T11:00")])
    assert_fires(session, RULE, story, "2024-05-24T10:59")
    assert_silent(session, RULE, story, "2024-05-24T11:01")


def test_stopping_the_prescription_closes_it(session: Session) -> None:
    stop = {"at": "2024-05-24T11:00", "type": "medication_stop", "drug": DRUG, "reason": "Switched to oral"}
    story = tell(session, [*PRESCRIBED, given("2024-05-01T10:00"), stop])
    assert_fires(session, RULE, story, "2024-05-24T10:59")
    assert_silent(session, RULE, story, "2024-05-24T11:01")


def test_a_dose_recorded_late_does_not_close_it_before_it_was_recorded(session: Session) -> None:
    story = tell(session, [*PRESCRIBED, given("2024-05-01T10:00"), given("2024-05-20", recorded="2024-05-27T15:00")])
    assert_fires(session, RULE, story, "2024-05-27T14:59")
    assert_silent(session, RULE, story, "2024-05-27T15:01")


def test_a_prescription_recorded_late_is_invisible_before_it_was_recorded(session: Session) -> None:
    # Code's choice: the depot falls due by the clinical calendar (when the last dose was actually given), so once
    # known the finding's since is the clinical threshold, which may lie before it was recorded.
    late = [PRESCRIBED[0], PRESCRIBED[1] | {"recorded": "2024-05-30"}]
    story = tell(session, late)
    assert_silent(session, RULE, story, "2024-05-29")
    assert_fires(session, RULE, story, "2024-05-30T09:01", since="2024-05-22T09:00")


def test_each_prescription_is_its_own_finding(session: Session) -> None:
    second = {
        "at": "2024-05-01",
        "type": "medication_start",
        "drug": "paliperidone",
        "route": "depot",
        "interval_days": 28,
    }
    story = tell(session, [*PRESCRIBED, second])
    assert {f.key for f in findings(session, RULE, story, "2024-05-23")} == {story.id(1)}
    assert {f.key for f in findings(session, RULE, story, "2024-06-06")} == {story.id(1), story.id(2)}


def test_the_evidence_is_the_prescription_the_last_dose_and_refusals_since(session: Session) -> None:
    story = tell(session, [*PRESCRIBED, refused("2024-05-01T09:30"), given("2024-05-01T10:00"), refused("2024-05-15")])
    finding = assert_fires(session, RULE, story, "2024-05-23", key=1)
    assert evidence_ids(finding) == {story.id(1), story.id(3), story.id(4)}  # not the refusal before the last dose
    assert evidence_text(finding) == "aripiprazole every 14 days | last dose given | dose refused"
    assert "last given 2024-05-01" in finding.summary
