"""SN17 section-2-after-section-3: an admission under section 2 for someone with an earlier admission under section 3
(or 37), and no MDT decision on the legal framework within 7 days."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.rules.harness import assert_fires, assert_silent, evidence_ids, evidence_text, moment, tell

RULE = "SN17"
WARD = "Willow Ward"


def admitted(at: str, status: str, **extra: object) -> dict[str, object]:
    return {"at": at, "type": "admission", "ward": WARD, "legal_status": status, **extra}


def discharged(at: str) -> dict[str, object]:
    return {"at": at, "type": "inpatient_discharge", "ward": WARD}


def decided(at: str, topic: str = "legal_framework") -> dict[str, object]:
    return {"at": at, "type": "mdt_decision", "topic": topic, "decision": "Convert to s3", "rationale": "Keeps s117"}


def history(status: str = "03") -> list[dict[str, object]]:
    return [admitted("2022-01-10", status), discharged("2022-03-01")]


NOW = admitted("2024-05-06T10:00", "02")


def test_a_section_2_after_an_earlier_section_3_opens_it_due_in_7_days(session: Session) -> None:
    story = tell(session, [*history(), NOW])
    assert_silent(session, RULE, story, "2024-05-06T09:59")
    assert_fires(session, RULE, story, "2024-05-06T10:01", key=2, since="2024-05-06T10:00", due="2024-05-13T10:00")


@pytest.mark.parametrize("status", ["03", "09", "10"], ids=["s3", "s37 with s41", "s37"])
def test_earlier_treatment_sections_count(session: Session, status: str) -> None:
    assert_fires(session, RULE, [*history(status), NOW], "2024-05-07", key=2)


@pytest.mark.parametrize("status", ["01", "02", "04"], ids=["informal", "s2", "s4"])
def test_earlier_assessment_or_informal_admissions_do_not_count(session: Session, status: str) -> None:
    assert_silent(session, RULE, [*history(status), NOW], "2024-05-07")


def test_a_first_admission_or_a_later_admission_under_section_3_does_not_fire(session: Session) -> None:
    assert_silent(session, RULE, [NOW], "2024-05-07")
    assert_silent(session, RULE, [*history(), admitted("2024-05-06T10:00", "03")], "2024-05-07")
    assert_silent(session, RULE, history(), "2024-05-07")


def test_an_earlier_admission_changed_to_section_3_counts(session: Session) -> None:
    change = {"at": "2022-01-20", "type": "legal_status_change", "code": "03"}
    story = tell(session, [admitted("2022-01-10", "02"), change, discharged("2022-03-01"), NOW])
    finding = assert_fires(session, RULE, story, "2024-05-07", key=3)
    assert evidence_ids(finding) == {story.id(3), story.id(1)}


def test_an_informal_admission_changed_to_section_2_counts(session: Session) -> None:
    change = {"at": "2024-05-07T15:00", "type": "legal_status_change", "code": "02"}
    story = tell(session, [*history(), admitted("2024-05-06T10:00", "01"), change])
    assert_silent(session, RULE, story, "2024-05-07T14:59")
    assert_fires(session, RULE, story, "2024-05-07T15:01", key=2)


def test_it_is_overdue_7_days_after_the_admission_was_recorded_and_not_a_minute_before(session: Session) -> None:
    finding = assert_fires(session, RULE, [*history(), NOW], "2024-05-13T09:59")
    assert not finding.overdue(moment("2024-05-13T09:59"))
    assert finding.overdue(moment("2024-05-13T10:01"))


def test_an_mdt_decision_on_the_legal_framework_closes_it(session: Session) -> None:
    story = tell(session, [*history(), NOW, decided("2024-05-08T14:00")])
    assert_fires(session, RULE, story, "2024-05-08T13:59")
    assert_silent(session, RULE, story, "2024-05-08T14:01")


def test_a_decision_on_another_topic_or_before_the_admission_does_not_close_it(session: Session) -> None:
    assert_fires(session, RULE, [*history(), NOW, decided("2024-05-08", "discharge")], "2024-05-09")
    assert_fires(session, RULE, [*history(), decided("2022-03-01T12:00"), NOW], "2024-05-09")


def test_an_admission_recorded_late_is_invisible_before_and_due_from_when_it_was_recorded(session: Session) -> None:
    story = tell(session, [*history(), NOW | {"recorded": "2024-05-08T12:00"}])
    assert_silent(session, RULE, story, "2024-05-08T11:59")
    assert_fires(session, RULE, story, "2024-05-08T12:01", since="2024-05-08T12:00", due="2024-05-15T12:00")


def test_a_change_to_section_2_recorded_late_is_due_from_when_it_was_recorded(session: Session) -> None:
    # Fixed: the deadline used to run from the informal admission, before anyone knew of the section 2.
    change = {"at": "2024-05-07", "recorded": "2024-05-09T16:00", "type": "legal_status_change", "code": "02"}
    story = tell(session, [*history(), admitted("2024-05-06T10:00", "01"), change])
    assert_silent(session, RULE, story, "2024-05-09T15:59")
    assert_fires(session, RULE, story, "2024-05-09T16:01", key=2, since="2024-05-09T16:00", due="2024-05-16T16:00")


def test_the_evidence_is_the_section_2_admission_and_the_earlier_detention(session: Session) -> None:
    story = tell(session, [*history(), NOW])
    finding = assert_fires(session, RULE, story, "2024-05-07", key=2)
    assert evidence_ids(finding) == {story.id(2), story.id(0)}
    assert evidence_text(finding) == "admission under section 2 | earlier detention (legal status 03)"
    assert finding.evidence[1].occurred_at == moment("2022-01-10")
