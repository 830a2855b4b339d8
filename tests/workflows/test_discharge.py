"""Discharge through the gates: blocked discharges write nothing; senior overrides are recorded with rationale."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session

from safetynet.audit import service as audit
from safetynet.core.clock import LONDON, FixedClock
from safetynet.core.context import Actor, Context, Role
from safetynet.core.ids import SeededIds
from safetynet.record.careplans.models import GpLetterSection
from safetynet.record.episodes import service as episodes
from safetynet.record.org import service as org
from safetynet.rules.model import GateOutcome
from safetynet.scenarios import format as fmt
from safetynet.scenarios import loader
from safetynet.workflows import gp_letter
from safetynet.workflows.discharge import DischargeBlocked, DischargeRequest, check, discharge

SIX = [s.value for s in GpLetterSection]


def _person(session: Session, extra: list[dict[str, Any]]) -> tuple[loader.Loaded, str]:
    events = [
        {"at": "2024-01-08", "type": "episode_start", "team": "CMHT North", "pathway": "cmht"},
        {"at": "2024-01-08", "type": "keyworker_assigned", "team": "CMHT North", "staff": "Jo Smith"},
        {
            "at": "2024-02-01",
            "type": "risk_event",
            "category": "violence_to_others",
            "harm": "serious",
            "source": "police",
            "description": "Assaulted a neighbour when unwell",
        },
        {"at": "2024-02-20", "type": "adherence_report", "status": "non_adherent", "source": "family"},
        {"at": "2024-03-01", "type": "contact", "team": "CMHT North", "outcome": "attended", "mode": "home_visit"},
        {
            "at": "2024-03-01T11:00",
            "type": "risk_assessment",
            "factors": {"violence_to_others": "present"},
            "safety_plan": True,
            "formulation": "Stops medication when stressed; voices return within a fortnight",
        },
        *extra,
    ]
    scenario = fmt.parse(
        {
            "id": "discharge",
            "title": "discharge",
            "events": events,
            "patient": {"nhs_number": "9990000018", "name": "Sam Example", "born": "1990-01-01"},
        }
    )
    loaded = loader.load(session, scenario, ids=SeededIds("discharge"))
    session.flush()
    return loaded, "CMHT North"


def _ctx(session: Session, role: Role, when: datetime = datetime(2024, 3, 5, 11, tzinfo=LONDON)) -> Context:
    return Context(session, Actor(f"A {role}", role), FixedClock(when), SeededIds("ctx"))


def _team_id(ctx: Context, name: str) -> str:
    return org.get_team(ctx, name).id


def test_a_discharge_for_non_attendance_is_blocked_and_nothing_is_written(session: Session) -> None:
    loaded, team = _person(session, [{"at": "2024-03-04", "type": "gp_letter_sent", "sections": SIX}])
    ctx = _ctx(session, Role.KEY_WORKER)
    request = DischargeRequest(kind="episode", team_id=_team_id(ctx, team), reason="non_attendance", destination="gp")
    with pytest.raises(DischargeBlocked) as caught:
        discharge(ctx, loaded.patient_id, request)
    assert [p.field for p in caught.value.problems] == ["SN03"]
    assert episodes.open_episode(ctx, loaded.patient_id, _team_id(ctx, team)) is not None


def test_a_consultant_may_override_non_attendance_with_a_rationale_and_it_is_recorded(session: Session) -> None:
    loaded, team = _person(session, [{"at": "2024-03-04", "type": "gp_letter_sent", "sections": SIX}])
    ctx = _ctx(session, Role.CONSULTANT)
    request = DischargeRequest(
        kind="episode",
        team_id=_team_id(ctx, team),
        reason="non_attendance",
        destination="gp",
        override_rationale="Moved abroad permanently; GP and family informed; no contact possible",
    )
    result = discharge(ctx, loaded.patient_id, request)
    assert result.outcome is GateOutcome.ALLOWED_WITH_WARNINGS
    (ended,) = [e for e in episodes.episodes(ctx, loaded.patient_id) if e.status == "finished"]
    assert (ended.override_by_role, ended.discharge_reason) == ("consultant", "non_attendance")
    overrides = [e for e in audit.events_for_patient(ctx, loaded.patient_id) if e.action == "gate_override"]
    assert "SN03 overridden by a consultant" in (overrides[0].detail or "")


def test_a_key_worker_cannot_override(session: Session) -> None:
    loaded, team = _person(session, [{"at": "2024-03-04", "type": "gp_letter_sent", "sections": SIX}])
    ctx = _ctx(session, Role.KEY_WORKER)
    request = DischargeRequest(
        kind="episode",
        team_id=_team_id(ctx, team),
        reason="non_attendance",
        destination="gp",
        override_rationale="I think it is fine to discharge him now",
    )
    with pytest.raises(DischargeBlocked):
        discharge(ctx, loaded.patient_id, request)


def test_a_discharge_to_the_gp_needs_a_letter_with_all_six_sections(session: Session) -> None:
    loaded, team = _person(session, [{"at": "2024-03-04", "type": "gp_letter_sent", "sections": SIX[:3]}])
    ctx = _ctx(session, Role.KEY_WORKER)
    request = DischargeRequest(kind="episode", team_id=_team_id(ctx, team), reason="recovered", destination="gp")
    result = check(ctx, loaded.patient_id, request)
    assert result.outcome is GateOutcome.BLOCKED
    (decision,) = result.decisions
    assert decision.rule_id == "SN16"
    assert "legal_history" in decision.reason


def test_a_good_discharge_is_allowed_and_recorded(session: Session) -> None:
    loaded, team = _person(session, [{"at": "2024-03-04", "type": "gp_letter_sent", "sections": SIX}])
    ctx = _ctx(session, Role.KEY_WORKER)
    request = DischargeRequest(kind="episode", team_id=_team_id(ctx, team), reason="recovered", destination="gp")
    assert discharge(ctx, loaded.patient_id, request).outcome is GateOutcome.ALLOWED
    assert episodes.open_episode(ctx, loaded.patient_id, _team_id(ctx, team)) is None


def test_a_friday_ward_discharge_without_crisis_cover_is_blocked(session: Session) -> None:
    loaded, _ = _person(
        session, [{"at": "2024-03-02", "type": "admission", "ward": "Willow Ward", "legal_status": "03"}]
    )
    friday = datetime(2024, 3, 8, 15, tzinfo=LONDON)
    ctx = _ctx(session, Role.CONSULTANT, friday)
    with pytest.raises(DischargeBlocked) as caught:
        discharge(ctx, loaded.patient_id, DischargeRequest(kind="inpatient", carer_informed=True))
    assert "SN14" in [p.field for p in caught.value.problems]
    allowed = discharge(ctx, loaded.patient_id, DischargeRequest(kind="inpatient", crisis_team_accepted=True))
    assert allowed.outcome is GateOutcome.ALLOWED


def test_the_gp_letter_is_drafted_from_the_record_with_all_six_sections(session: Session) -> None:
    loaded, _ = _person(
        session, [{"at": "2024-03-02", "type": "admission", "ward": "Willow Ward", "legal_status": "03"}]
    )
    ctx = _ctx(session, Role.KEY_WORKER)
    letter = gp_letter.draft(ctx, loaded.patient_id)
    assert list(letter) == list(GpLetterSection)
    assert "Assaulted a neighbour" in letter[GpLetterSection.VIOLENCE_HISTORY]
    assert "non adherent" in letter[GpLetterSection.NON_ADHERENCE]
    assert "Stops medication when stressed" in letter[GpLetterSection.RELAPSE_SIGNATURE]
    assert "Section 3" in letter[GpLetterSection.LEGAL_HISTORY]
    assert "CMHT North" in letter[GpLetterSection.ROUTE_BACK]
