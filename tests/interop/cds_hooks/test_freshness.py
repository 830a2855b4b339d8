"""patient-view stays right while it keeps people's histories between calls (``cds_hooks.histories``): a fact
recorded after the last call (even one that happened earlier, recorded late, and written without the safety net)
shows in the next call's cards; a correction does too; time passing opens findings although nothing new was read;
and asking again with nothing new recorded reads nothing again."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from safetynet.core.clock import FixedClock
from safetynet.core.context import Context
from safetynet.core.db import make_engine, unit_of_work
from safetynet.core.ids import SeededIds
from safetynet.interop.cds_hooks.histories import HISTORIES
from safetynet.record import writes
from safetynet.record.carers import service as carers
from safetynet.record.carers.models import FamilyConcern
from safetynet.record.carers.schemas import FamilyConcernIn
from safetynet.record.patients.models import Patient
from tests import personas
from tests.interop.cds_hooks.conftest import CASEY, PATIENT_VIEW, at, hook_request, valid

MakeClient = Callable[..., TestClient]
MOMENT = "2022-03-22T10:00"  # Casey disengaged: SN02 open, no family concern yet


def rules(client: TestClient, nhs_number: str = CASEY) -> list[str]:
    response = client.post(PATIENT_VIEW, json=hook_request("patient-view", nhs_number))
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = valid("response", response.json())["cards"]
    return sorted(c["source"]["topic"]["code"] for c in found)


def write(url: str, moment: str, work: Callable[[Context, str], object]) -> None:
    """Write about Casey straight into the record, as a bulk load would: committed, with no safety net run."""
    engine = make_engine(url)
    try:
        with unit_of_work(engine) as session:
            ctx = Context(session, personas.ALICE, FixedClock(at(moment)), SeededIds(f"fresh-{moment}"))
            casey = session.scalars(select(Patient).where(Patient.nhs_number == CASEY)).one()
            work(ctx, casey.id)
    finally:
        engine.dispose()


def concern(ctx: Context, patient_id: str) -> object:
    data = FamilyConcernIn(
        occurred_at=at("2022-03-01T09:00"),  # happened three weeks ago; recorded only now
        raised_by="Pat Fictional",
        channel="phone",
        text="His father says he has stopped eating and is talking to the television.",
    )
    return carers.record_concern(ctx, patient_id, data)


def test_a_fact_recorded_after_the_last_call_shows_in_the_next_calls_cards(
    make_client: MakeClient, stories: str
) -> None:
    client = make_client(MOMENT)
    assert rules(client) == ["SN02"]
    reads = HISTORIES.reads
    assert rules(client) == ["SN02"]
    assert HISTORIES.reads == reads  # nothing recorded since: the history kept is used
    write(stories, MOMENT, concern)
    assert rules(client) == ["SN01", "SN02"]  # the unanswered family concern, recorded late, is a card now
    assert HISTORIES.reads == reads + 1


def test_a_concern_entered_in_error_after_the_last_call_takes_its_card_away(
    make_client: MakeClient, stories: str
) -> None:
    client = make_client(MOMENT)
    write(stories, MOMENT, concern)
    assert rules(client) == ["SN01", "SN02"]

    def in_error(ctx: Context, patient_id: str) -> object:
        raised = ctx.session.scalars(select(FamilyConcern).where(FamilyConcern.patient_id == patient_id)).one()
        return writes.amend(ctx, FamilyConcern, raised.fact_id, reason="wrong person's record", entered_in_error=True)

    write(stories, MOMENT, in_error)
    assert rules(client) == ["SN02"]


def test_time_passing_opens_findings_with_nothing_new_to_read(make_client: MakeClient) -> None:
    assert rules(make_client("2022-03-10T10:00")) == []  # one missed appointment: not yet disengagement
    reads = HISTORIES.reads
    assert rules(make_client(MOMENT)) == ["SN02"]  # later, the same history: the rules ran as known then
    assert HISTORIES.reads == reads
