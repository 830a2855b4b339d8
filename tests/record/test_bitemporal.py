"""Every fact knows when it happened and when it became known; the record as known at any moment is exact."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from safetynet.core.clock import FixedClock
from safetynet.core.context import Context
from safetynet.core.facts import history, known_at
from safetynet.record import writes
from safetynet.record.chart import chart
from safetynet.record.partners import service as partners
from safetynet.record.partners.schemas import PartnerInformationIn
from safetynet.record.risk import service as risk
from safetynet.record.risk.models import RiskEvent
from safetynet.record.risk.schemas import RiskEventIn
from tests.factories import world


def test_police_information_recorded_late_is_invisible_before_it_was_recorded(ctx: Context, clock: FixedClock) -> None:
    w = world(ctx)
    happened = clock.now()
    clock.advance(timedelta(days=14))
    partners.record_partner_information(
        ctx,
        w.patient.id,
        PartnerInformationIn(occurred_at=happened, agency="police", kind="warrant", detail="Warrant issued"),
    )
    ctx.session.flush()
    before = chart(ctx, w.patient.nhs_number, clock.now() - timedelta(seconds=1))
    after = chart(ctx, w.patient.nhs_number, clock.now())
    assert before.sections["partner_information"] == []
    (info,) = after.sections["partner_information"]
    assert info.occurred_at == happened
    assert info.recorded_at == clock.now()


def test_an_entered_in_error_risk_event_stays_in_the_history_with_its_reason(ctx: Context, clock: FixedClock) -> None:
    w = world(ctx)
    event = risk.record_risk_event(
        ctx,
        w.patient.id,
        RiskEventIn(occurred_at=clock.now(), category="weapon", harm="none", source="gp", description="Knife seen"),
    )
    ctx.session.flush()
    recorded = clock.now()
    clock.advance(timedelta(days=1))
    risk.enter_risk_event_in_error(ctx, w.patient.id, event.fact_id, "Recorded on the wrong person's notes")
    ctx.session.flush()

    (now_version,) = risk.risk_history(ctx, w.patient.id)
    assert now_version.entered_in_error
    assert now_version.amendment_reason == "Recorded on the wrong person's notes"
    assert now_version.description == "Knife seen"
    (then_version,) = risk.risk_history(ctx, w.patient.id, recorded)
    assert not then_version.entered_in_error
    assert [v.version for v in ctx.session.scalars(history(RiskEvent, event.fact_id))] == [1, 2]


def test_an_amendment_is_a_new_version_and_the_old_one_is_still_readable(ctx: Context, clock: FixedClock) -> None:
    w = world(ctx)
    event = risk.record_risk_event(
        ctx,
        w.patient.id,
        RiskEventIn(occurred_at=clock.now(), category="threats", harm="none", source="family", description="Threats"),
    )
    ctx.session.flush()
    first = clock.now()
    clock.advance(timedelta(hours=2))
    writes.amend(ctx, RiskEvent, event.fact_id, reason="Family clarified: a knife was shown", harm="minor")
    ctx.session.flush()
    assert writes.latest(ctx, RiskEvent, event.fact_id).harm == "minor"
    assert writes.latest(ctx, RiskEvent, event.fact_id, first).harm == "none"
    assert (
        ctx.session.scalar(select(RiskEvent).where(RiskEvent.fact_id == event.fact_id, RiskEvent.version == 1)).harm
        == "none"
    )  # type: ignore[union-attr]


# A property: for any sequence of versions recorded at increasing moments, ``known_at`` returns exactly what a
# naive model of "the latest version recorded by T" says, for any T.
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    gaps=st.lists(st.integers(min_value=0, max_value=5_000), min_size=1, max_size=6),
    probes=st.lists(st.integers(min_value=-10, max_value=40_000), min_size=1, max_size=8),
)
def test_known_at_matches_a_naive_model_for_any_moment(
    ctx: Context, clock: FixedClock, gaps: list[int], probes: list[int]
) -> None:
    start = datetime(2022, 1, 1, tzinfo=UTC)
    clock.set(start)
    w = world(ctx)
    event = risk.record_risk_event(
        ctx,
        w.patient.id,
        RiskEventIn(occurred_at=start, category="self_harm", harm="none", source="self", description="v1"),
    )
    ctx.session.flush()
    recorded = [(start, "v1")]
    for n, gap in enumerate(gaps[1:], start=2):
        clock.advance(timedelta(minutes=gap))
        writes.amend(ctx, RiskEvent, event.fact_id, reason=f"correction {n}", description=f"v{n}")
        ctx.session.flush()
        recorded.append((clock.now(), f"v{n}"))
    for probe in probes:
        at = start + timedelta(minutes=probe)
        expected = [text for when, text in recorded if when <= at][-1:] or [None]
        found = ctx.session.scalars(known_at(RiskEvent, at).where(RiskEvent.fact_id == event.fact_id)).all()
        assert ([f.description for f in found] or [None]) == expected
        assert len(found) <= 1
    ctx.session.rollback()
