"""Bad input gets a clear error naming every problem and its field, and writes nothing."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select

from safetynet.core.context import Context
from safetynet.core.errors import ValidationFailed
from safetynet.record.episodes import service as episodes
from safetynet.record.episodes.schemas import EpisodeEndIn, EpisodeIn
from safetynet.record.legal.schemas import AdmissionIn
from safetynet.record.medication import service as medication
from safetynet.record.medication.schemas import DepotAdministrationIn, PrescriptionIn
from safetynet.record.patients import service as patients
from safetynet.record.patients.schemas import PatientIn, check_nhs_number
from safetynet.record.risk.models import RiskEvent
from safetynet.record.risk.schemas import RiskAssessmentIn, RiskEventIn
from tests.factories import world


@pytest.mark.parametrize("number", ["9990000018", "999 000 0018", "999-000-0018"])
def test_a_valid_nhs_number_is_accepted_in_any_common_layout(number: str) -> None:
    assert check_nhs_number(number) == "9990000018"


@pytest.mark.parametrize(
    ("number", "reason"),
    [("9990000019", "check digit"), ("999000001", "10 digits"), ("99900000AB", "10 digits"), ("", "10 digits")],
)
def test_an_invalid_nhs_number_is_refused_with_the_reason(number: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        check_nhs_number(number)


def test_every_problem_in_an_input_is_listed_with_its_field() -> None:
    with pytest.raises(ValidationError) as caught:
        RiskEventIn.model_validate(
            {"occurred_at": "yesterday", "category": "vibes", "harm": "huge", "source": "police", "colour": "red"}
        )
    fields = {".".join(str(p) for p in e["loc"]) for e in caught.value.errors()}
    assert fields == {"occurred_at", "category", "harm", "description", "colour"}


def test_a_naive_datetime_is_refused_because_it_is_ambiguous() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        RiskEventIn.model_validate(
            {
                "occurred_at": "2024-01-01T10:00:00",
                "category": "weapon",
                "harm": "none",
                "source": "gp",
                "description": "x",
            }
        )


def test_a_depot_prescription_needs_its_interval(ctx: Context) -> None:
    with pytest.raises(ValidationError, match="interval_days"):
        PrescriptionIn(occurred_at=ctx.clock.now(), drug="Paliperidone palmitate", route="depot")


def test_an_unknown_risk_category_in_an_assessment_is_refused(ctx: Context) -> None:
    with pytest.raises(ValidationError, match="factors"):
        RiskAssessmentIn.model_validate({"occurred_at": ctx.clock.now(), "factors": {"astrology": "present"}})


def test_an_unknown_legal_status_code_is_refused(ctx: Context) -> None:
    with pytest.raises(ValidationError, match="legal status code"):
        AdmissionIn(occurred_at=ctx.clock.now(), ward_id="x", legal_status="11")


def test_registering_the_same_nhs_number_twice_is_refused(ctx: Context) -> None:
    w = world(ctx)
    with pytest.raises(ValidationFailed, match="already registered"):
        patients.register(ctx, PatientIn(nhs_number=w.patient.nhs_number, name="Someone Else", born=date(1980, 1, 1)))


def test_a_depot_given_without_a_depot_prescription_is_refused_and_writes_nothing(ctx: Context) -> None:
    w = world(ctx)
    before = ctx.session.scalar(select(func.count()).select_from(RiskEvent))
    with pytest.raises(ValidationFailed, match="no active depot prescription"):
        medication.record_depot(
            ctx,
            w.patient.id,
            DepotAdministrationIn(occurred_at=ctx.clock.now(), drug="Haloperidol decanoate", outcome="given"),
        )
    assert ctx.session.scalar(select(func.count()).select_from(RiskEvent)) == before


def test_a_second_open_episode_with_the_same_team_is_refused(ctx: Context) -> None:
    w = world(ctx)
    with pytest.raises(ValidationFailed, match="already open"):
        episodes.start_episode(ctx, w.patient.id, EpisodeIn(occurred_at=ctx.clock.now(), team_id=w.team.id))


def test_ending_an_episode_lists_every_problem_at_once(ctx: Context) -> None:
    w = world(ctx)
    data = EpisodeEndIn(
        ended_at=ctx.clock.now() - timedelta(days=10),
        reason="non_attendance",
        destination="gp",
        override_by_role="consultant",
    )
    with pytest.raises(ValidationFailed) as caught:
        episodes.end_episode(ctx, w.episode.fact_id, data)
    assert {p.field for p in caught.value.problems} == {"ended_at", "override_rationale"}


def test_an_amendment_without_a_reason_is_refused(ctx: Context) -> None:
    from safetynet.record import writes
    from safetynet.record.risk import service as risk

    w = world(ctx)
    event = risk.record_risk_event(
        ctx,
        w.patient.id,
        RiskEventIn(occurred_at=ctx.clock.now(), category="weapon", harm="none", source="gp", description="x"),
    )
    ctx.session.flush()
    with pytest.raises(ValidationFailed) as caught:
        writes.amend(ctx, RiskEvent, event.fact_id, reason="  ", harm="minor", colour="red")
    assert {p.field for p in caught.value.problems} == {"reason", "colour"}


def test_the_records_own_bookkeeping_cannot_be_amended(ctx: Context) -> None:
    from safetynet.record import writes
    from safetynet.record.risk import service as risk

    w = world(ctx)
    event = risk.record_risk_event(
        ctx,
        w.patient.id,
        RiskEventIn(occurred_at=ctx.clock.now(), category="weapon", harm="none", source="gp", description="x"),
    )
    ctx.session.flush()
    with pytest.raises(ValidationFailed) as caught:
        writes.amend(ctx, RiskEvent, event.fact_id, reason="tidying", recorded_at=ctx.clock.now(), version=9)
    assert {p.field for p in caught.value.problems} == {"recorded_at", "version"}


def test_correcting_a_contact_outcome_recomputes_its_mhsds_code(ctx: Context) -> None:
    from safetynet.record.contacts import service as contacts
    from safetynet.record.contacts.models import ContactOutcome
    from safetynet.record.contacts.schemas import ContactIn

    w = world(ctx)
    contact = contacts.record_contact(
        ctx, w.patient.id, ContactIn(occurred_at=ctx.clock.now(), outcome="dna", mode="home_visit", team_id=w.team.id)
    )
    ctx.session.flush()
    assert contact.attend_or_dna_code == "3"
    corrected = contacts.correct_outcome(ctx, contact.fact_id, ContactOutcome.ATTENDED, reason="Seen; entered wrongly")
    assert (corrected.version, corrected.outcome, corrected.attend_or_dna_code) == (2, "attended", "5")
