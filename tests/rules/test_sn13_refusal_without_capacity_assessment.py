"""SN13 refusal-without-capacity-assessment: 3 or more refusals (depot refused, non-adherence reports) within 90 days
of one another and no capacity assessment since the first. Closes only with a capacity assessment (version 2: it no
longer lapses as the refusals age; it stops being a live task a year after the last refusal)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tests.rules.harness import assert_fires, assert_silent, evidence_ids, evidence_text, tell

RULE = "SN13"
DRUG = "aripiprazole"
DEPOT = [
    {"at": "2024-04-02", "type": "episode_start", "team": "CMHT North", "pathway": "cmht"},
    {"at": "2024-04-02", "type": "medication_start", "drug": DRUG, "route": "depot", "interval_days": 28},
]


def refused(at: str, **extra: object) -> dict[str, object]:
    return {"at": at, "type": "depot_refused", "drug": DRUG, **extra}


def stopped(at: str, status: str = "non_adherent") -> dict[str, object]:
    return {"at": at, "type": "adherence_report", "status": status, "source": "family"}


def capacity(at: str) -> dict[str, object]:
    return {"at": at, "type": "capacity_assessment", "decision_about": "depot medication", "outcome": "has_capacity"}


THREE = [refused("2024-05-01"), stopped("2024-05-15"), refused("2024-06-03T10:00")]


def test_a_third_refusal_within_90_days_opens_it_due_in_14_days(session: Session) -> None:
    story = tell(session, [*DEPOT, *THREE])
    assert_silent(session, RULE, story, "2024-06-03T09:59")
    assert_fires(
        session, RULE, story, "2024-06-03T10:01", key="capacity", since="2024-06-03T10:00", due="2024-06-17T10:00"
    )


def test_two_refusals_or_partial_adherence_do_not_fire(session: Session) -> None:
    assert_silent(session, RULE, [*DEPOT, *THREE[:2]], "2024-06-04")
    # Code's choice: a partial adherence report is not a refusal here (SN05 and SN07 count it as a signal).
    assert_silent(session, RULE, [*DEPOT, *THREE[:2], stopped("2024-06-03", "partial")], "2024-06-04")


def test_refusals_more_than_90_days_apart_do_not_make_a_cluster(session: Session) -> None:
    spread = [refused("2024-05-01T09:00"), stopped("2024-06-15"), refused("2024-07-30T09:01")]
    assert_silent(session, RULE, [*DEPOT, *spread], "2024-08-01")
    close = [refused("2024-05-01T09:00"), stopped("2024-06-15"), refused("2024-07-30T09:00")]
    assert_fires(session, RULE, [*DEPOT, *close], "2024-08-01")


def test_an_unanswered_cluster_does_not_lapse_as_the_refusals_age(session: Session) -> None:
    # Version 1 cleared once the first refusal was 90 days old, though nobody had assessed capacity.
    story = tell(session, [*DEPOT, *THREE])
    assert_fires(session, RULE, story, "2024-07-30T09:01")
    assert_fires(session, RULE, story, "2025-06-03T09:59")


def test_it_stops_being_a_live_task_a_year_after_the_last_refusal(session: Session) -> None:
    story = tell(session, [*DEPOT, *THREE])
    assert_fires(session, RULE, story, "2025-06-03T09:59")
    assert_silent(session, RULE, story, "2025-06-03T10:01")


def test_a_capacity_assessment_closes_it(session: Session) -> None:
    story = tell(session, [*DEPOT, *THREE, capacity("2024-06-10T15:00")])
    assert_fires(session, RULE, story, "2024-06-10T14:59")
    assert_silent(session, RULE, story, "2024-06-10T15:01")


def test_only_a_capacity_assessment_on_or_after_the_first_refusal_closes_it(session: Session) -> None:
    assert_silent(session, RULE, [*DEPOT, *THREE, capacity("2024-06-04")], "2024-06-05")
    assert_fires(session, RULE, [*DEPOT, capacity("2024-04-20"), *THREE], "2024-06-04")


def test_no_refusals_no_finding(session: Session) -> None:
    assert_silent(session, RULE, DEPOT, "2024-12-01")


def test_a_refusal_recorded_late_opens_it_only_once_recorded_and_is_due_from_then(session: Session) -> None:
    late = [*THREE[:2], refused("2024-06-03T10:00", recorded="2024-06-07T16:00")]
    story = tell(session, [*DEPOT, *late])
    assert_silent(session, RULE, story, "2024-06-07T15:59")
    assert_fires(session, RULE, story, "2024-06-07T16:01", since="2024-06-07T16:00", due="2024-06-21T16:00")


def test_the_evidence_is_every_refusal_of_the_cluster_and_after(session: Session) -> None:
    story = tell(session, [*DEPOT, stopped("2024-01-01T12:00"), *THREE, stopped("2024-06-20")])
    finding = assert_fires(session, RULE, story, "2024-06-21", key="capacity", since="2024-06-03T10:00")
    assert evidence_ids(finding) == {story.id(3), story.id(4), story.id(5), story.id(6)}
    assert evidence_text(finding) == "depot refused | non-adherence report | depot refused | non-adherence report"
    assert finding.summary.startswith("4 refusals of treatment since 2024-05-01")
