"""Zoning suggests, with reasons; only a clinician sets a zone (R18)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from safetynet.core.clock import LONDON, FixedClock
from safetynet.core.context import Actor, Context, Role
from safetynet.core.errors import ValidationFailed
from safetynet.record.zoning import service as zoning
from safetynet.record.zoning.models import Zone
from safetynet.record.zoning.schemas import ZoneAssignmentIn
from safetynet.rules import engine
from safetynet.rules.facts import load_history
from safetynet.rules.zoning import suggest
from safetynet.scenarios import format as fmt
from safetynet.scenarios import loader

CONCERN = [
    {"at": "2024-01-08", "type": "episode_start", "team": "CMHT North", "pathway": "cmht"},
    {"at": "2024-01-08", "type": "keyworker_assigned", "team": "CMHT North", "staff": "Jo Smith"},
    {"at": "2024-01-09", "type": "contact", "team": "CMHT North", "outcome": "attended", "mode": "home_visit"},
    {"at": "2024-01-10T10:00", "type": "family_concern", "from": "Pat", "channel": "phone", "text": "Worried"},
]


def _zone_at(session: Session, at: datetime) -> tuple[Zone, list[str]]:
    scenario = fmt.parse(
        {
            "id": "zone",
            "title": "zone",
            "events": CONCERN,
            "patient": {"nhs_number": "9990000018", "name": "Sam Example", "born": "1990-01-01"},
        }
    )
    loaded = loader.load(session, scenario)
    session.flush()
    facts = load_history(session, loaded.patient_id).as_known_at(at)
    return suggest(facts, engine.evaluate(facts).findings)


def test_an_open_finding_not_yet_due_suggests_amber_with_the_finding_as_the_reason(session: Session) -> None:
    zone, reasons = _zone_at(session, datetime(2024, 1, 10, 12, tzinfo=LONDON))
    assert zone is Zone.AMBER
    assert reasons[0].startswith("SN01:")


def test_an_overdue_family_concern_suggests_red(session: Session) -> None:
    zone, reasons = _zone_at(session, datetime(2024, 1, 12, 9, tzinfo=LONDON))
    assert zone is Zone.RED
    assert "SN01 overdue" in reasons[0]


def test_nothing_open_suggests_green() -> None:
    from safetynet.rules.facts import Directory, PersonFacts

    facts = PersonFacts("p", "9990000018", datetime(2024, 1, 1, tzinfo=LONDON), Directory({}), {})
    assert suggest(facts, []) == (Zone.GREEN, ["no open findings"])


def test_only_a_clinician_sets_a_zone_and_the_suggestion_is_kept_beside_it(session: Session) -> None:
    scenario = fmt.parse(
        {
            "id": "zone",
            "title": "zone",
            "events": CONCERN,
            "patient": {"nhs_number": "9990000018", "name": "Sam Example", "born": "1990-01-01"},
        }
    )
    loaded = loader.load(session, scenario)
    clock = FixedClock(datetime(2024, 1, 12, 9, tzinfo=LONDON))
    data = ZoneAssignmentIn(
        occurred_at=clock.now(),
        zone=Zone.AMBER,
        rationale="Sister called back; plan agreed",
        suggested_zone=Zone.RED,
        suggested_reasons=["SN01 overdue"],
    )
    with pytest.raises(ValidationFailed, match="never by the system"):
        zoning.set_zone(Context(session, Actor("Safety net", Role.SYSTEM), clock), loaded.patient_id, data)
    jo = Actor("Jo Smith", Role.KEY_WORKER, staff_id=None)
    with pytest.raises(ValidationFailed):
        zoning.set_zone(Context(session, jo, clock), loaded.patient_id, data)
    from safetynet.record.org import service as org

    staff = org.find_staff(Context(session, jo, clock), "Jo Smith")
    assert staff is not None
    ctx = Context(session, Actor("Jo Smith", Role.KEY_WORKER, staff_id=staff.id), clock)
    zoning.set_zone(ctx, loaded.patient_id, data)
    session.flush()
    current = zoning.current_zone(ctx, loaded.patient_id)
    assert current is not None
    assert (current.zone, current.suggested_zone) == ("amber", "red")
    assert zoning.current_zone(ctx, loaded.patient_id, clock.now() - timedelta(days=1)) is None
