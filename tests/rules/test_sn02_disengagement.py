"""SN02 disengagement: on an SMI pathway, the last 2 planned contacts missed, or no attended direct contact for more
than 28 days (14 on assertive outreach) since the episode began or the person was last seen."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.rules.harness import assert_fires, assert_silent, evidence_ids, evidence_text, tell

RULE = "SN02"


def episode(pathway: str = "cmht", at: str = "2024-05-01", team: str = "CMHT North") -> list[dict[str, object]]:
    return [
        {"at": at, "type": "episode_start", "team": team, "pathway": pathway},
        {"at": f"{at}T10:00", "type": "contact", "team": team, "outcome": "attended", "mode": "face_to_face"},
    ]


def contact(at: str, outcome: str = "attended", mode: str = "face_to_face", **extra: object) -> dict[str, object]:
    return {"at": at, "type": "contact", "team": "CMHT North", "outcome": outcome, "mode": mode, **extra}


def test_two_missed_planned_contacts_in_a_row_open_it_when_the_second_is_recorded(session: Session) -> None:
    # Monday 13 May 09:00: due two working days later, Wednesday 15 May 09:00.
    events = [*episode(), contact("2024-05-06", "dna"), contact("2024-05-13", "no_access", "home_visit")]
    assert_fires(session, RULE, events, "2024-05-13T09:01", key=0, since="2024-05-13", due="2024-05-15")


def test_one_missed_contact_or_a_break_in_the_run_does_not_fire(session: Session) -> None:
    assert_silent(session, RULE, [*episode(), contact("2024-05-13", "dna")], "2024-05-14")
    broken = [*episode(), contact("2024-05-06", "dna"), contact("2024-05-09", "cancelled_by_patient")]
    assert_silent(session, RULE, [*broken, contact("2024-05-13", "dna")], "2024-05-14")


def test_unplanned_missed_contacts_do_not_count_as_a_run(session: Session) -> None:
    events = [*episode(), contact("2024-05-06", "dna"), contact("2024-05-13", "no_access", planned=False)]
    assert_silent(session, RULE, events, "2024-05-14")


def test_not_on_an_smi_pathway_or_without_an_episode_it_does_not_fire(session: Session) -> None:
    crisis = episode("crisis", team="Crisis Team")
    assert_silent(session, RULE, [*crisis, contact("2024-05-06", "dna"), contact("2024-05-13", "dna")], "2024-07-01")
    assert_silent(session, RULE, [contact("2024-05-06", "dna"), contact("2024-05-13", "dna")], "2024-07-01")


@pytest.mark.parametrize("pathway", ["eip", "cmht", "assertive_outreach"])
def test_every_smi_pathway_is_watched(session: Session, pathway: str) -> None:
    assert_fires(session, RULE, episode(pathway, team="CMHT North"), "2024-08-01")


def test_more_than_28_days_unseen_opens_it_at_the_28th_day_and_not_a_minute_before(session: Session) -> None:
    # Last seen Wednesday 1 May 10:00: open from Wednesday 29 May 10:00, due Friday 31 May 10:00.
    story = tell(session, episode())
    assert_silent(session, RULE, story, "2024-05-29T09:59")
    assert_silent(session, RULE, story, "2024-05-29T10:00")
    assert_fires(session, RULE, story, "2024-05-29T10:01", since="2024-05-29T10:00", due="2024-05-31T10:00")


def test_on_assertive_outreach_14_days_unseen_is_enough(session: Session) -> None:
    story = tell(session, episode("assertive_outreach", team="AOT"))
    assert_silent(session, RULE, story, "2024-05-15T09:59")
    assert_fires(session, RULE, story, "2024-05-15T10:01", since="2024-05-15T10:00", due="2024-05-17T10:00")


def test_without_any_attended_contact_the_28_days_run_from_the_start_of_the_episode(session: Session) -> None:
    story = tell(session, episode()[:1])
    assert_silent(session, RULE, story, "2024-05-29T08:59")
    assert_fires(session, RULE, story, "2024-05-29T09:01", since="2024-05-29T09:00")


def test_an_attended_direct_contact_closes_it(session: Session) -> None:
    story = tell(session, [*episode(), contact("2024-06-03T11:00", mode="phone")])
    assert_fires(session, RULE, story, "2024-06-03T10:59")
    assert_silent(session, RULE, story, "2024-06-03T11:01")


def test_an_attended_text_message_is_not_a_direct_contact_and_does_not_close_it(session: Session) -> None:
    assert_fires(session, RULE, [*episode(), contact("2024-06-03T11:00", mode="text")], "2024-06-03T12:00")


def test_an_attended_contact_after_the_missed_ones_closes_the_run(session: Session) -> None:
    events = [*episode(), contact("2024-05-06", "dna"), contact("2024-05-13", "dna")]
    story = tell(session, [*events, contact("2024-05-14T17:30", mode="home_visit", planned=False)])
    assert_fires(session, RULE, story, "2024-05-14T17:29")
    assert_silent(session, RULE, story, "2024-05-14T17:31")


def test_a_missed_contact_recorded_late_opens_it_only_when_recorded_and_the_due_time_runs_from_then(
    session: Session,
) -> None:
    events = [*episode(), contact("2024-05-06", "dna"), contact("2024-05-13", "dna", recorded="2024-05-16T14:00")]
    story = tell(session, events)
    assert_silent(session, RULE, story, "2024-05-16T13:59")
    assert_fires(session, RULE, story, "2024-05-16T14:01", since="2024-05-16T14:00", due="2024-05-20T14:00")


def test_an_attended_contact_recorded_late_closes_it_only_once_recorded(session: Session) -> None:
    story = tell(session, [*episode(), contact("2024-05-27", recorded="2024-06-05")])
    assert_fires(session, RULE, story, "2024-06-04")
    assert_silent(session, RULE, story, "2024-06-05T09:01")


def test_the_evidence_names_the_episode_and_each_missed_contact(session: Session) -> None:
    story = tell(session, [*episode(), contact("2024-05-06", "dna"), contact("2024-05-13", "no_access", "home_visit")])
    finding = assert_fires(session, RULE, story, "2024-05-29T10:01", key=0, since="2024-05-13")
    assert evidence_ids(finding) == {story.id(0), story.id(2), story.id(3)}
    text = evidence_text(finding)
    assert "no attended direct contact for more than 28 days since 2024-05-01" in text
    assert "planned face_to_face contact: dna" in text
    assert "planned home_visit contact: no_access" in text
    assert "Do not discharge" in finding.summary
