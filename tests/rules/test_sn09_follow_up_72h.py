"""SN09 follow-up-72h: after discharge from an inpatient bed, an attended direct contact is due within 72 hours of the
discharge being recorded. Closes with an attended direct contact after the discharge."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.rules.harness import assert_fires, assert_silent, evidence_ids, evidence_text, moment, tell

RULE = "SN09"
WARD = "Willow Ward"
ADMITTED = [
    {"at": "2024-04-02", "type": "episode_start", "team": "CMHT North", "pathway": "cmht"},
    {"at": "2024-05-01", "type": "admission", "ward": WARD, "legal_status": "01"},
]
DISCHARGE = {"at": "2024-05-10T11:00", "type": "inpatient_discharge", "ward": WARD}


def contact(at: str, outcome: str = "attended", mode: str = "home_visit", **extra: object) -> dict[str, object]:
    return {"at": at, "type": "contact", "team": "CMHT North", "outcome": outcome, "mode": mode, **extra}


def test_a_discharge_opens_it_due_72_hours_later(session: Session) -> None:
    story = tell(session, [*ADMITTED, DISCHARGE])
    assert_silent(session, RULE, story, "2024-05-10T10:59")
    assert_fires(session, RULE, story, "2024-05-10T11:01", key=1, since="2024-05-10T11:00", due="2024-05-13T11:00")


def test_it_is_overdue_72_hours_after_the_discharge_and_not_a_minute_before(session: Session) -> None:
    finding = assert_fires(session, RULE, [*ADMITTED, DISCHARGE], "2024-05-13T10:59")
    assert not finding.overdue(moment("2024-05-13T10:59"))
    assert finding.overdue(moment("2024-05-13T11:01"))


def test_no_admission_or_still_an_inpatient_does_not_fire(session: Session) -> None:
    assert_silent(session, RULE, ADMITTED[:1], "2024-06-01")
    assert_silent(session, RULE, ADMITTED, "2024-06-01")


@pytest.mark.parametrize("mode", ["face_to_face", "home_visit", "video", "phone"])
def test_an_attended_direct_contact_after_discharge_closes_it(session: Session, mode: str) -> None:
    story = tell(session, [*ADMITTED, DISCHARGE, contact("2024-05-12T15:00", mode=mode)])
    assert_fires(session, RULE, story, "2024-05-12T14:59")
    assert_silent(session, RULE, story, "2024-05-12T15:01")


def test_a_text_a_missed_visit_or_a_contact_before_discharge_does_not_close_it(session: Session) -> None:
    events = [
        *ADMITTED,
        contact("2024-05-09", mode="face_to_face"),
        DISCHARGE,
        contact("2024-05-11", mode="text"),
        contact("2024-05-12", outcome="no_access"),
    ]
    assert_fires(session, RULE, events, "2024-05-14", key=1)


def test_a_discharge_recorded_late_is_invisible_before_and_due_72_hours_after_it_was_recorded(
    session: Session,
) -> None:
    story = tell(session, [*ADMITTED, DISCHARGE | {"recorded": "2024-05-12T09:00"}])
    assert_silent(session, RULE, story, "2024-05-12T08:59")
    assert_fires(session, RULE, story, "2024-05-12T09:01", since="2024-05-12T09:00", due="2024-05-15T09:00")


def test_a_contact_recorded_late_closes_it_only_once_recorded(session: Session) -> None:
    story = tell(session, [*ADMITTED, DISCHARGE, contact("2024-05-11", recorded="2024-05-14T16:00")])
    assert_fires(session, RULE, story, "2024-05-14T15:59")
    assert_silent(session, RULE, story, "2024-05-14T16:01")


def test_a_readmission_replaces_the_earlier_discharge(session: Session) -> None:
    readmitted = {"at": "2024-05-11", "type": "admission", "ward": WARD, "legal_status": "02"}
    story = tell(session, [*ADMITTED, DISCHARGE, readmitted, DISCHARGE | {"at": "2024-05-20T10:00"}])
    assert_silent(session, RULE, story, "2024-05-15")
    assert_fires(session, RULE, story, "2024-05-20T10:01", key=3, due="2024-05-23T10:00")


def test_the_evidence_is_the_admission_with_its_discharge_date(session: Session) -> None:
    story = tell(session, [*ADMITTED, DISCHARGE])
    finding = assert_fires(session, RULE, story, "2024-05-11", key=1)
    assert story.id(2) == story.id(1)  # the discharge is a new version of the admission
    assert evidence_ids(finding) == {story.id(1)}
    assert evidence_text(finding) == "inpatient discharge on 2024-05-10"
    assert finding.summary.startswith("Discharged from Willow Ward on 2024-05-10")
