"""SN12 post-discharge-signal: within 12 months of discharge to the GP, for someone with a risk history of violence,
weapons, threats or a suicide attempt, or any past detention: a report of no GP contact, prescriptions not
collected, or any police information. Closes with a re-referral (a new episode) or an MDT decision on discharge."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.rules.harness import assert_fires, assert_silent, evidence_ids, evidence_text, findings, tell

RULE = "SN12"
TEAM = "CMHT North"
VIOLENCE = {
    "at": "2022-12-01",
    "type": "risk_event",
    "category": "violence_to_others",
    "harm": "minor",
    "source": "record",
    "description": "Pushed his father",
}
DISCHARGED = [
    {"at": "2023-01-09", "type": "episode_start", "team": TEAM, "pathway": "cmht"},
    VIOLENCE,
    {"at": "2024-03-04", "type": "episode_end", "team": TEAM, "reason": "recovered", "destination": "gp"},
]


def signal(
    at: str = "2024-09-02T10:00", agency: str = "gp", kind: str = "no_contact", **extra: object
) -> dict[str, object]:
    return {"at": at, "type": "partner_info", "agency": agency, "kind": kind, "detail": "Not seen since March", **extra}


def test_a_signal_after_discharge_to_the_gp_opens_it_due_in_two_working_days(session: Session) -> None:
    # Monday 2 September 10:00: due Wednesday 4 September 10:00.
    story = tell(session, [*DISCHARGED, signal()])
    assert_silent(session, RULE, story, "2024-09-02T09:59")
    assert_fires(session, RULE, story, "2024-09-02T10:01", key=3, since="2024-09-02T10:00", due="2024-09-04T10:00")


def test_a_signal_on_a_friday_is_due_on_the_tuesday(session: Session) -> None:
    assert_fires(session, RULE, [*DISCHARGED, signal("2024-08-23T10:00")], "2024-08-24", due="2024-08-28T10:00")


@pytest.mark.parametrize(
    ("agency", "kind"),
    [("gp", "no_contact"), ("other", "prescription_not_collected"), ("police", "other"), ("police", "arrest")],
)
def test_no_gp_contact_prescriptions_not_collected_or_any_police_information_is_a_signal(
    session: Session, agency: str, kind: str
) -> None:
    assert_fires(session, RULE, [*DISCHARGED, signal(agency=agency, kind=kind)], "2024-09-03")


@pytest.mark.parametrize(("agency", "kind"), [("gp", "other"), ("court", "court_date"), ("housing", "incident")])
def test_other_information_is_not_a_signal(session: Session, agency: str, kind: str) -> None:
    assert_silent(session, RULE, [*DISCHARGED, signal(agency=agency, kind=kind)], "2024-09-03")


@pytest.mark.parametrize("category", ["violence_to_others", "weapon", "threats", "suicide_attempt"])
def test_each_serious_risk_history_qualifies(session: Session, category: str) -> None:
    events = [DISCHARGED[0], VIOLENCE | {"category": category}, DISCHARGED[2], signal()]
    assert_fires(session, RULE, events, "2024-09-03")


def test_a_past_detention_qualifies_without_any_risk_history(session: Session) -> None:
    detained = [
        {"at": "2023-02-01", "type": "admission", "ward": "Willow Ward", "legal_status": "03"},
        {"at": "2023-03-01", "type": "inpatient_discharge", "ward": "Willow Ward"},
    ]
    story = tell(session, [DISCHARGED[0], *detained, DISCHARGED[2], signal()])
    finding = assert_fires(session, RULE, story, "2024-09-03", key=4)
    assert "past detention (legal status 03)" in evidence_text(finding)


def test_without_serious_history_or_detention_it_does_not_fire(session: Session) -> None:
    informal = {"at": "2023-02-01", "type": "admission", "ward": "Willow Ward", "legal_status": "01"}
    back = {"at": "2023-03-01", "type": "inpatient_discharge", "ward": "Willow Ward"}
    self_harm = VIOLENCE | {"category": "self_harm"}
    assert_silent(session, RULE, [DISCHARGED[0], self_harm, informal, back, DISCHARGED[2], signal()], "2024-09-03")


def test_without_a_discharge_to_the_gp_it_does_not_fire(session: Session) -> None:
    elsewhere = DISCHARGED[2] | {"destination": "other_team", "reason": "transferred"}
    assert_silent(session, RULE, [*DISCHARGED[:2], elsewhere, signal()], "2024-09-03")
    assert_silent(session, RULE, [*DISCHARGED[:2], signal()], "2024-09-03")


def test_a_signal_before_the_discharge_does_not_count(session: Session) -> None:
    assert_silent(session, RULE, [*DISCHARGED[:2], signal("2024-03-01"), DISCHARGED[2]], "2024-03-05")


def test_signals_count_for_12_months_after_discharge_and_not_a_minute_more(session: Session) -> None:
    # 12 months is round(12 x 30.44) = 365 days: the discharge at 09:00 on 4 March 2024 covers signals recorded up
    # to 09:00 on 4 March 2025.
    assert_fires(session, RULE, [*DISCHARGED, signal("2025-03-04T08:59")], "2025-03-04T10:00")
    assert_fires(session, RULE, [*DISCHARGED, signal("2025-03-04T09:00")], "2025-03-04T10:00")
    assert_silent(session, RULE, [*DISCHARGED, signal("2025-03-04T09:01")], "2025-03-04T10:00")


def test_a_finding_stays_open_after_the_12_months_until_someone_acts(session: Session) -> None:
    # Fixed: the finding used to vanish when the discharge became 12 months old, with nothing done.
    story = tell(session, [*DISCHARGED, signal("2025-02-20T10:00")])
    assert_fires(session, RULE, story, "2025-06-01", key=3, since="2025-02-20T10:00")


def test_a_new_episode_closes_it(session: Session) -> None:
    back = {"at": "2024-09-05T11:00", "type": "episode_start", "team": TEAM, "pathway": "cmht"}
    story = tell(session, [*DISCHARGED, signal(), back])
    assert_fires(session, RULE, story, "2024-09-05T10:59")
    assert_silent(session, RULE, story, "2024-09-05T11:01")


def test_an_mdt_decision_on_discharge_after_the_signal_closes_it(session: Session) -> None:
    decision = {
        "type": "mdt_decision",
        "topic": "discharge",
        "decision": "Stay with the GP; GP to review weekly",
        "rationale": "Seen by GP; well",
    }
    before = tell(session, [*DISCHARGED[:2], {**decision, "at": "2024-03-01"}, DISCHARGED[2], signal()])
    assert_fires(session, RULE, before, "2024-09-03")
    after = tell(session, [*DISCHARGED, signal(), {**decision, "at": "2024-09-03T12:00"}])
    assert_fires(session, RULE, after, "2024-09-03T11:59")
    assert_silent(session, RULE, after, "2024-09-03T12:01")


def test_a_signal_recorded_late_is_invisible_before_and_due_from_when_it_was_recorded(session: Session) -> None:
    story = tell(session, [*DISCHARGED, signal("2024-08-20", recorded="2024-09-02T10:00")])
    assert_silent(session, RULE, story, "2024-09-02T09:59")
    assert_fires(session, RULE, story, "2024-09-02T10:01", since="2024-09-02T10:00", due="2024-09-04T10:00")


def test_each_signal_is_its_own_finding(session: Session) -> None:
    story = tell(session, [*DISCHARGED, signal(), signal("2024-09-10", agency="police", kind="other")])
    assert {f.key for f in findings(session, RULE, story, "2024-09-11")} == {story.id(3), story.id(4)}


def test_the_evidence_is_the_signal_the_discharge_and_the_history(session: Session) -> None:
    story = tell(session, [*DISCHARGED, signal()])
    finding = assert_fires(session, RULE, story, "2024-09-03", key=3)
    assert story.id(2) == story.id(0)  # the discharge ends the episode: a new version of the same fact
    assert evidence_ids(finding) == {story.id(3), story.id(0), story.id(1)}
    assert evidence_text(finding) == "gp: no_contact | discharged to GP | risk history: violence_to_others"
    assert finding.summary.startswith("Since discharge to the GP on 2024-03-04: gp reports no_contact.")
