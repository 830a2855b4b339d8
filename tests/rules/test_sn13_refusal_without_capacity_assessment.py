"""SN13 refusal-without-capacity-assessment: 3 or more refusals (depot refused, non-adherence reports) within 90 days
and no capacity assessment in that window. Closes with a capacity assessment."""

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


def test_refusals_count_for_90_days_and_not_a_minute_more(session: Session) -> None:
    # The first refusal, 1 May 09:00, leaves the window after 30 July 09:00 and the finding clears with it.
    story = tell(session, [*DEPOT, *THREE])
    assert_fires(session, RULE, story, "2024-07-30T08:59")
    assert_fires(session, RULE, story, "2024-07-30T09:00")
    assert_silent(session, RULE, story, "2024-07-30T09:01")


def test_a_capacity_assessment_closes_it(session: Session) -> None:
    story = tell(session, [*DEPOT, *THREE, capacity("2024-06-10T15:00")])
    assert_fires(session, RULE, story, "2024-06-10T14:59")
    assert_silent(session, RULE, story, "2024-06-10T15:01")


def test_a_capacity_assessment_anywhere_in_the_window_counts_one_before_it_does_not(session: Session) -> None:
    # Code's choice: "no capacity assessment in that window" - one earlier in the 90 days counts, even before the
    # refusals; one older than 90 days does not.
    assert_silent(session, RULE, [*DEPOT, capacity("2024-04-20"), *THREE], "2024-06-04")
    assert_fires(session, RULE, [*DEPOT, capacity("2024-03-01"), *THREE], "2024-06-04")


def test_the_90_days_are_elapsed_time_whatever_zone_the_moment_is_written_in(session: Session) -> None:
    # Fixed: the window used to be counted in wall-clock days of the zone the moment was given in, so the same
    # instant asked about in London and in UTC gave different answers across the clock change.
    # 09:00 BST on 4 June is 08:00 UTC; 90 days (2,160 hours) before it is 08:00 GMT on 6 March.
    inside = tell(session, [*DEPOT, capacity("2024-03-06T08:00"), *THREE])
    outside = tell(session, [*DEPOT, capacity("2024-03-06T07:59"), *THREE])
    for same_instant in ("2024-06-04T09:00", "2024-06-04T08:00:00+00:00"):
        assert_silent(session, RULE, inside, same_instant)
        assert_fires(session, RULE, outside, same_instant)


def test_no_refusals_no_finding(session: Session) -> None:
    assert_silent(session, RULE, DEPOT, "2024-12-01")


def test_a_refusal_recorded_late_opens_it_only_once_recorded_and_is_due_from_then(session: Session) -> None:
    late = [*THREE[:2], refused("2024-06-03T10:00", recorded="2024-06-07T16:00")]
    story = tell(session, [*DEPOT, *late])
    assert_silent(session, RULE, story, "2024-06-07T15:59")
    assert_fires(session, RULE, story, "2024-06-07T16:01", since="2024-06-07T16:00", due="2024-06-21T16:00")


def test_the_evidence_is_every_refusal_in_the_window(session: Session) -> None:
    story = tell(session, [*DEPOT, stopped("2024-02-01T12:00"), *THREE, stopped("2024-06-20")])
    finding = assert_fires(session, RULE, story, "2024-06-21", key="capacity", since="2024-06-03T10:00")
    assert evidence_ids(finding) == {story.id(3), story.id(4), story.id(5), story.id(6)}
    assert evidence_text(finding) == "depot refused | non-adherence report | depot refused | non-adherence report"
    assert finding.summary.startswith("4 refusals of treatment in 90 days")
