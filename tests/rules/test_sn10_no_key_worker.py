"""SN10 no-key-worker: an open, active episode without a named key worker for more than 7 days. Closes when one is
named."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tests.rules.harness import assert_fires, assert_silent, evidence_ids, evidence_text, findings, tell

RULE = "SN10"
TEAM = "CMHT North"
EPISODE = [{"at": "2024-05-01", "type": "episode_start", "team": TEAM, "pathway": "cmht"}]


def assigned(at: str, staff: str = "Chris Taylor", **extra: object) -> dict[str, object]:
    return {"at": at, "type": "keyworker_assigned", "team": TEAM, "staff": staff, **extra}


def test_an_episode_without_a_key_worker_for_more_than_7_days_opens_it_on_the_7th_day(session: Session) -> None:
    story = tell(session, EPISODE)
    assert_silent(session, RULE, story, "2024-05-08T08:59")
    assert_silent(session, RULE, story, "2024-05-08T09:00")
    assert_fires(session, RULE, story, "2024-05-08T09:01", key=0, since="2024-05-08", due="2024-05-08")


def test_a_key_worker_named_within_the_week_keeps_it_silent(session: Session) -> None:
    assert_silent(session, RULE, [*EPISODE, assigned("2024-05-07")], "2024-08-01")


def test_no_episode_or_an_ended_episode_does_not_fire(session: Session) -> None:
    referral = [{"at": "2024-05-01", "type": "referral_accepted", "team": TEAM}]
    ended = {"at": "2024-05-03", "type": "episode_end", "team": TEAM, "reason": "moved_away", "destination": "none"}
    assert_silent(session, RULE, referral, "2024-08-01")
    assert_silent(session, RULE, [*EPISODE, ended], "2024-08-01")


def test_naming_a_key_worker_closes_it(session: Session) -> None:
    story = tell(session, [*EPISODE, assigned("2024-05-20T14:00")])
    assert_fires(session, RULE, story, "2024-05-20T13:59")
    assert_silent(session, RULE, story, "2024-05-20T14:01")


def test_when_the_key_worker_leaves_the_week_runs_from_their_last_day(session: Session) -> None:
    left = {"at": "2024-06-03T17:00", "type": "keyworker_ended", "team": TEAM, "staff": "Chris Taylor"}
    story = tell(session, [*EPISODE, assigned("2024-05-01T10:00"), left])
    assert_silent(session, RULE, story, "2024-06-10T16:59")
    assert_fires(session, RULE, story, "2024-06-10T17:01", key=0, since="2024-06-10T17:00")


def test_a_replacement_key_worker_leaves_no_gap(session: Session) -> None:
    events = [*EPISODE, assigned("2024-05-01T10:00"), assigned("2024-06-03", staff="Jo Smith")]
    assert_silent(session, RULE, events, "2024-08-01")


def test_a_key_worker_recorded_late_closes_it_only_once_recorded(session: Session) -> None:
    story = tell(session, [*EPISODE, assigned("2024-05-03", recorded="2024-05-10T12:00")])
    assert_fires(session, RULE, story, "2024-05-10T11:59")
    assert_silent(session, RULE, story, "2024-05-10T12:01")


def test_an_episode_recorded_late_is_invisible_before_it_was_recorded(session: Session) -> None:
    # Code's choice: the week runs from when the episode began (how long the person has been without a key worker),
    # so once the late episode is known the finding's since can lie before it was recorded.
    story = tell(session, [EPISODE[0] | {"recorded": "2024-05-20"}])
    assert_silent(session, RULE, story, "2024-05-20T08:59")
    assert_fires(session, RULE, story, "2024-05-20T09:01", since="2024-05-08T09:00")


def test_each_open_episode_is_watched_on_its_own(session: Session) -> None:
    second = {"at": "2024-05-05", "type": "episode_start", "team": "EIP", "pathway": "eip"}
    story = tell(session, [*EPISODE, assigned("2024-05-02"), second])
    assert {f.key for f in findings(session, RULE, story, "2024-05-13")} == {story.id(2)}


def test_the_evidence_is_the_episode_with_its_team_and_start(session: Session) -> None:
    story = tell(session, EPISODE)
    finding = assert_fires(session, RULE, story, "2024-05-09", key=0)
    assert evidence_ids(finding) == {story.id(0)}
    assert evidence_text(finding) == "episode with CMHT North open since 2024-05-01"
    assert finding.summary == "No named key worker on CMHT North since 2024-05-01: allocate one."
