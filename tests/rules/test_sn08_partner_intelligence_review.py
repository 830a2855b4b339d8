"""SN08 partner-intelligence-review: police, court or probation information (arrest, charge, warrant, incident, court
date, liaison and diversion, or any with violence or a weapon) needs a risk assessment recorded after it, due 72
hours after it was recorded."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.rules.harness import assert_fires, assert_silent, evidence_ids, evidence_text, findings, moment, tell

RULE = "SN08"
EPISODE = [{"at": "2021-01-18", "type": "episode_start", "team": "EIP", "pathway": "eip"}]
# The example in the rulebook: an incident on 10 February that the team learns of on 24 February.
INCIDENT = {
    "at": "2021-02-10",
    "recorded": "2021-02-24",
    "type": "partner_info",
    "agency": "police",
    "kind": "incident",
    "violence": True,
    "detail": "Assault on neighbour reported",
}


def info(agency: str, kind: str, **extra: object) -> dict[str, object]:
    return {"at": "2021-03-01T10:00", "type": "partner_info", "agency": agency, "kind": kind, "detail": "x", **extra}


def assessment(at: str, **extra: object) -> dict[str, object]:
    return {
        "at": at,
        "type": "risk_assessment",
        "factors": {"violence_to_others": "present"},
        "safety_plan": True,
        **extra,
    }


def test_information_recorded_late_is_invisible_before_it_arrived_and_due_72_hours_after(session: Session) -> None:
    story = tell(session, [*EPISODE, INCIDENT])
    assert_silent(session, RULE, story, "2021-02-20")
    assert_silent(session, RULE, story, "2021-02-24T08:59")
    assert_fires(session, RULE, story, "2021-02-24T09:01", key=1, since="2021-02-24", due="2021-02-27")


def test_it_becomes_overdue_72_hours_after_it_was_recorded_and_stays_open(session: Session) -> None:
    story = tell(session, [*EPISODE, INCIDENT])
    finding = assert_fires(session, RULE, story, "2021-02-27T08:59")
    assert not finding.overdue(moment("2021-02-27T08:59"))
    assert finding.overdue(moment("2021-02-27T09:01"))
    assert_fires(session, RULE, story, "2021-03-01", key=1, due="2021-02-27")


@pytest.mark.parametrize("kind", ["arrest", "charge", "warrant", "incident", "court_date", "liaison_diversion"])
@pytest.mark.parametrize("agency", ["police", "court", "probation"])
def test_significant_justice_information_fires(session: Session, agency: str, kind: str) -> None:
    assert_fires(session, RULE, [*EPISODE, info(agency, kind)], "2021-03-01T10:01", since="2021-03-01T10:00")


@pytest.mark.parametrize("flag", ["violence", "weapon"])
def test_any_justice_information_with_violence_or_a_weapon_fires(session: Session, flag: str) -> None:
    assert_fires(session, RULE, [*EPISODE, info("police", "other", **{flag: True})], "2021-03-02")
    assert_fires(session, RULE, [*EPISODE, info("probation", "no_contact", **{flag: True})], "2021-03-02")


def test_routine_justice_information_does_not_fire(session: Session) -> None:
    routine = [info("police", "other"), info("court", "no_contact"), info("probation", "prescription_not_collected")]
    assert_silent(session, RULE, [*EPISODE, *routine], "2021-03-02")


@pytest.mark.parametrize("agency", ["gp", "social_care", "housing", "other"])
def test_information_from_other_agencies_does_not_fire(session: Session, agency: str) -> None:
    assert_silent(session, RULE, [*EPISODE, info(agency, "incident", violence=True)], "2021-03-02")


def test_with_no_episode_it_still_fires(session: Session) -> None:
    assert_fires(session, RULE, [INCIDENT], "2021-02-25")


def test_a_risk_assessment_recorded_after_it_closes_it(session: Session) -> None:
    story = tell(session, [*EPISODE, INCIDENT, assessment("2021-02-26T14:00")])
    assert_fires(session, RULE, story, "2021-02-26T13:59")
    assert_silent(session, RULE, story, "2021-02-26T14:01")


def test_an_assessment_recorded_before_it_arrived_does_not_close_it(session: Session) -> None:
    assert_fires(session, RULE, [*EPISODE, assessment("2021-02-15"), INCIDENT], "2021-02-25")


def test_an_assessment_recorded_late_closes_it_only_from_when_it_was_recorded(session: Session) -> None:
    # Code's choice, literal to the rulebook: "recorded after it", so a review done on the 26th but written up on
    # the 1st closes the finding on the 1st.
    story = tell(session, [*EPISODE, INCIDENT, assessment("2021-02-26", recorded="2021-03-01T12:00")])
    assert_fires(session, RULE, story, "2021-03-01T11:59")
    assert_silent(session, RULE, story, "2021-03-01T12:01")


def test_each_piece_of_information_is_its_own_finding(session: Session) -> None:
    story = tell(session, [*EPISODE, INCIDENT, info("court", "court_date")])
    assert {f.key for f in findings(session, RULE, story, "2021-03-02")} == {story.id(1), story.id(2)}


def test_the_evidence_names_the_agency_the_kind_and_the_flags(session: Session) -> None:
    story = tell(session, [*EPISODE, INCIDENT])
    finding = assert_fires(session, RULE, story, "2021-03-01", key=1)
    assert evidence_ids(finding) == {story.id(1)}
    assert evidence_text(finding) == "police incident (violence)"
    (evidence,) = finding.evidence
    assert evidence.occurred_at == moment("2021-02-10")
    assert evidence.recorded_at == moment("2021-02-24")
    assert "police incident (violence)" in finding.summary
