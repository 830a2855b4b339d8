"""SN19 care-plan-review-due: an open episode with no care plan review for 365 days. Closes with a care plan review."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tests.rules.harness import assert_fires, assert_silent, evidence_ids, evidence_text, findings, tell

RULE = "SN19"
TEAM = "CMHT North"
EPISODE = [{"at": "2023-05-02", "type": "episode_start", "team": TEAM, "pathway": "cmht"}]


def review(at: str, **extra: object) -> dict[str, object]:
    return {"at": at, "type": "care_plan_review", "crisis_plan": True, "shared_with_carer": True, **extra}


def test_a_year_without_a_review_opens_it_on_the_365th_day_and_not_a_minute_before(session: Session) -> None:
    # 365 days after 2 May 2023 is 1 May 2024 (2024 is a leap year).
    story = tell(session, EPISODE)
    assert_silent(session, RULE, story, "2024-05-01T08:59")
    assert_silent(session, RULE, story, "2024-05-01T09:00")
    assert_fires(session, RULE, story, "2024-05-01T09:01", key="care-plan", since="2024-05-01", due="2024-05-01")


def test_a_review_within_the_year_keeps_it_silent_and_restarts_the_year(session: Session) -> None:
    story = tell(session, [*EPISODE, review("2023-11-15T14:00")])
    assert_silent(session, RULE, story, "2024-11-14T13:59")
    assert_fires(session, RULE, story, "2024-11-14T14:01", since="2024-11-14T14:00")


def test_no_open_episode_nothing_is_due(session: Session) -> None:
    ended = {"at": "2023-09-01", "type": "episode_end", "team": TEAM, "reason": "recovered", "destination": "gp"}
    assert_silent(session, RULE, [*EPISODE, ended], "2025-01-01")
    assert_silent(session, RULE, [{"at": "2023-05-02", "type": "referral_accepted", "team": TEAM}], "2025-01-01")


def test_a_review_closes_it(session: Session) -> None:
    story = tell(session, [*EPISODE, review("2024-06-03T11:00")])
    assert_fires(session, RULE, story, "2024-06-03T10:59")
    assert_silent(session, RULE, story, "2024-06-03T11:01")


def test_a_review_from_before_the_episode_does_not_count(session: Session) -> None:
    # Fixed: the evidence used to name the older review although the year ran from the episode start.
    story = tell(session, [review("2023-01-10"), *EPISODE])
    finding = assert_fires(session, RULE, story, "2024-05-02", since="2024-05-01")
    assert evidence_ids(finding) == {story.id(1)}


def test_a_review_recorded_late_closes_it_only_once_recorded(session: Session) -> None:
    story = tell(session, [*EPISODE, review("2024-04-20", recorded="2024-05-10T12:00")])
    assert_fires(session, RULE, story, "2024-05-10T11:59")
    assert_silent(session, RULE, story, "2024-05-10T12:01")


def test_an_episode_recorded_late_is_invisible_before_it_was_recorded(session: Session) -> None:
    # Code's choice: the year runs from when the episode began, not from when it was recorded.
    story = tell(session, [EPISODE[0] | {"recorded": "2024-05-20"}])
    assert_silent(session, RULE, story, "2024-05-20T08:59")
    assert_fires(session, RULE, story, "2024-05-20T09:01", since="2024-05-01")


def test_several_open_episodes_make_one_finding_from_the_earliest(session: Session) -> None:
    second = {"at": "2023-09-01", "type": "episode_start", "team": "EIP", "pathway": "eip"}
    story = tell(session, [*EPISODE, second])
    (finding,) = findings(session, RULE, story, "2024-05-02")
    assert evidence_ids(finding) == {story.id(0)}


def test_the_evidence_is_the_last_review_or_the_episode_start(session: Session) -> None:
    unreviewed = tell(session, EPISODE)
    finding = assert_fires(session, RULE, unreviewed, "2024-05-02")
    assert evidence_ids(finding) == {unreviewed.id(0)}
    assert evidence_text(finding) == "episode start"
    assert finding.summary.startswith("No care plan review since 2023-05-02")
    reviewed = tell(session, [*EPISODE, review("2023-06-01T10:00")])
    finding = assert_fires(session, RULE, reviewed, "2024-06-01", since="2024-05-31T10:00")
    assert evidence_ids(finding) == {reviewed.id(1)}
    assert evidence_text(finding) == "last care plan review"
