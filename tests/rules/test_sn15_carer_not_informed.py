"""SN15 carer-not-informed (gate): a discharge is blocked while a registered carer with consent to share has not been
informed of it. There is no override."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.rules.harness import assert_allows, assert_blocks, evidence_ids, evidence_text, tell

RULE = "SN15"
EPISODE = [{"at": "2024-03-01", "type": "episode_start", "team": "CMHT North", "pathway": "cmht"}]
SISTER = {
    "at": "2024-03-01T10:00",
    "type": "carer_registered",
    "name": "Dee Placeholder",
    "relationship": "sister",
    "consent_to_share": True,
}
EPISODE_DISCHARGE = {"kind": "episode", "team": "CMHT North", "reason": "recovered", "destination": "gp"}
WARD_DISCHARGE = {"kind": "inpatient", "ward": "Willow Ward", "destination": "other_team"}


@pytest.mark.parametrize("discharge", [EPISODE_DISCHARGE, WARD_DISCHARGE], ids=["episode", "inpatient"])
def test_a_discharge_without_telling_a_carer_who_may_be_told_is_blocked(
    session: Session, discharge: dict[str, object]
) -> None:
    decision = assert_blocks(session, RULE, [*EPISODE, SISTER], discharge, "2024-05-10")
    assert decision.reason == "Dee Placeholder (sister) may be told and has not been told of this discharge"


def test_telling_the_carer_allows_it(session: Session) -> None:
    assert_allows(session, RULE, [*EPISODE, SISTER], EPISODE_DISCHARGE | {"carer_informed": True}, "2024-05-10")
    assert_blocks(session, RULE, [*EPISODE, SISTER], EPISODE_DISCHARGE | {"carer_informed": False}, "2024-05-10")


def test_no_carer_or_a_carer_without_consent_to_share_does_not_block(session: Session) -> None:
    assert_allows(session, RULE, EPISODE, EPISODE_DISCHARGE, "2024-05-10")
    assert_allows(session, RULE, [*EPISODE, SISTER | {"consent_to_share": False}], EPISODE_DISCHARGE, "2024-05-10")


def test_a_carer_counts_from_the_minute_they_are_registered(session: Session) -> None:
    story = tell(session, [*EPISODE, SISTER])
    assert_allows(session, RULE, story, EPISODE_DISCHARGE, "2024-03-01T09:59")
    assert_blocks(session, RULE, story, EPISODE_DISCHARGE, "2024-03-01T10:01")


def test_a_carer_recorded_late_does_not_block_before_they_were_recorded(session: Session) -> None:
    story = tell(session, [*EPISODE, SISTER | {"recorded": "2024-05-10T12:00"}])
    assert_allows(session, RULE, story, EPISODE_DISCHARGE, "2024-05-10T11:59")
    assert_blocks(session, RULE, story, EPISODE_DISCHARGE, "2024-05-10T12:01")


def test_there_is_no_override(session: Session) -> None:
    override = EPISODE_DISCHARGE | {"override_by": "team_manager", "override_rationale": "Could not reach her"}
    decision = assert_blocks(session, RULE, [*EPISODE, SISTER], override, "2024-05-10")
    assert decision.overridden_by is None


def test_the_evidence_is_every_carer_with_consent(session: Session) -> None:
    mother = SISTER | {"name": "Pat Placeholder", "relationship": "mother"}
    friend = SISTER | {"name": "Sam Friend", "relationship": "friend", "consent_to_share": False}
    story = tell(session, [*EPISODE, SISTER, mother, friend])
    decision = assert_blocks(session, RULE, story, EPISODE_DISCHARGE, "2024-05-10")
    assert evidence_ids(decision) == {story.id(1), story.id(2)}
    assert (
        evidence_text(decision) == "carer Dee Placeholder, consent to share | carer Pat Placeholder, consent to share"
    )
    assert decision.reason.startswith("Dee Placeholder (sister), Pat Placeholder (mother) may be told")
