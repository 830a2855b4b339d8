"""Every write and every read of a person's record is audited: who, what, when and why."""

from __future__ import annotations

from datetime import timedelta

from safetynet.audit import service as audit
from safetynet.core.clock import FixedClock
from safetynet.core.context import Context
from safetynet.record.chart import chart
from safetynet.record.risk import service as risk
from safetynet.record.risk.schemas import RiskEventIn
from tests import personas
from tests.factories import world


def test_a_write_records_who_what_when_and_why(ctx: Context, clock: FixedClock) -> None:
    w = world(ctx)
    event = risk.record_risk_event(
        ctx,
        w.patient.id,
        RiskEventIn(occurred_at=clock.now(), category="weapon", harm="none", source="gp", description="x"),
    )
    ctx.session.flush()
    entry = audit.events_for_patient(ctx, w.patient.id)[-1]
    assert (entry.action, entry.entity, entry.entity_id) == ("create", "risk_events", event.fact_id)
    assert (entry.actor_name, entry.actor_role, entry.purpose) == (personas.ALICE.name, "key_worker", "direct care")
    assert entry.at == clock.now()


def test_reading_a_record_is_audited_with_the_moment_asked_about(ctx: Context, clock: FixedClock) -> None:
    w = world(ctx)
    clock.advance(timedelta(days=2))
    reader = ctx.as_actor(personas.BOB)
    chart(reader, w.patient.nhs_number, clock.now() - timedelta(days=1))
    entry = audit.events_for_patient(ctx, w.patient.id)[-1]
    assert (entry.action, entry.entity, entry.actor_name) == ("read", "chart", personas.BOB.name)
    assert entry.purpose == "caseload management"
    assert entry.detail is not None
    assert "as known at" in entry.detail


def test_an_entered_in_error_marking_is_audited_with_its_reason(ctx: Context, clock: FixedClock) -> None:
    w = world(ctx)
    event = risk.record_risk_event(
        ctx,
        w.patient.id,
        RiskEventIn(occurred_at=clock.now(), category="weapon", harm="none", source="gp", description="x"),
    )
    ctx.session.flush()
    risk.enter_risk_event_in_error(ctx, w.patient.id, event.fact_id, "wrong person")
    ctx.session.flush()
    entry = audit.events_for_patient(ctx, w.patient.id)[-1]
    assert (entry.action, entry.detail) == ("enter_in_error", "wrong person")
