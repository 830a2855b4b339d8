"""The family channel through the app (TestClient): a registered carer tells the team something and it becomes a
family concern with the SN01 deadline (end of the next working day, past a bank holiday weekend) and a reference; a
carer sees nothing of the record without the person's consent, and with it only what the consent covers; bad input
writes nothing; the accounts behind the channel are checked against their role."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from safetynet.audit.models import AuditEvent
from safetynet.core.clock import LONDON, FixedClock
from safetynet.core.context import Actor, Context, Role
from safetynet.core.db import make_engine, unit_of_work
from safetynet.core.errors import ValidationFailed
from safetynet.core.ids import SeededIds
from safetynet.record import channels, writes
from safetynet.record.carers import service as carers
from safetynet.record.carers.models import Carer, FamilyConcern
from safetynet.record.carers.schemas import CarerIn
from safetynet.record.org import service as org
from safetynet.record.org.schemas import StaffIn
from safetynet.tasks.models import Task
from tests.web.channels_people import ELSEWHERE, PRACTICE, REGISTERED, SAFETY_PLAN, SCOPED, ChannelsWorld
from tests.web.conftest import csrf_from, sign_in
from tests.web.world import PASSWORD

pytest_plugins = ("tests.web.channels_world",)  # the world, its app, client and browser page

WORRY = "He has not slept for three nights and says the neighbours are watching him"


def _tell(client: TestClient, text: str) -> Any:
    page = client.get("/family")
    assert page.status_code == 200
    return client.post("/family/concerns", data={"text": text, "csrf_token": csrf_from(page.text)})


def _concerns(world: ChannelsWorld, number: str) -> int:
    return world.count(FamilyConcern, FamilyConcern.patient_id == world.patient_ids[number])


def test_a_carer_tells_the_team_and_gets_a_reference_and_the_deadline_past_the_bank_holidays(
    channels_client: TestClient, channels_world: ChannelsWorld
) -> None:
    sign_in(channels_client, "dee")
    sent = _tell(channels_client, WORRY)
    assert sent.status_code == 303
    location = sent.headers["location"]
    found = re.fullmatch(r"/family\?reference=(FC-[0-9A-F]{4}-[0-9A-F]{4})#received", location)
    assert found, location
    page = channels_client.get(location.split("#")[0])
    assert found.group(1) in page.text
    # Recorded on Good Friday morning: Easter Monday is a bank holiday, so the end of Tuesday 6 April.
    assert "by the end of <strong>Tuesday 06 April 2021</strong>" in page.text
    (concern,) = channels_world.rows(
        FamilyConcern,
        FamilyConcern.patient_id == channels_world.patient_ids[REGISTERED],
        FamilyConcern.text == WORRY,
    )
    assert (concern.channel, concern.raised_by) == ("online", "Dee Placeholder (sister)")
    assert concern.carer_fact_id is not None
    assert concern.fact_id.replace("-", "").upper().startswith(found.group(1)[3:].replace("-", ""))
    (task,) = channels_world.rows(Task, Task.rule_id == "SN01", Task.finding_key == concern.fact_id)
    assert task.due_at.astimezone(LONDON) == datetime(2021, 4, 6, 23, 59, 59, tzinfo=LONDON)
    assert channels_world.count(
        AuditEvent,
        AuditEvent.action == "create",
        AuditEvent.entity == "family_concerns",
        AuditEvent.actor_name == "Dee Placeholder",
    )


def test_a_carer_with_consent_but_no_scope_sees_only_how_to_reach_the_team(channels_client: TestClient) -> None:
    sign_in(channels_client, "dee")
    page = channels_client.get("/family")
    assert "Chris Taylor" in page.text
    assert "CMHT North" in page.text
    assert "Crisis plan" not in page.text
    assert "Appointments" not in page.text


def test_a_carer_without_consent_sees_nothing_of_the_record_but_can_still_tell_the_team(
    channels_client: TestClient, channels_world: ChannelsWorld
) -> None:
    sign_in(channels_client, "sam")
    page = channels_client.get("/family")
    assert page.status_code == 200
    assert "Nothing from their record is shared with you" in page.text
    for private in ("Chris Taylor", "CMHT North", "Jordan Practice", "Dee Placeholder"):
        assert private not in page.text, private
    assert not channels_world.count(
        AuditEvent, AuditEvent.entity == "family_view", AuditEvent.actor_name == "Sam Noconsent"
    )
    before = _concerns(channels_world, REGISTERED)
    assert _tell(channels_client, "He asked me to tell you he has run out of tablets").status_code == 303
    assert _concerns(channels_world, REGISTERED) == before + 1
    assert channels_client.get(f"/people/{REGISTERED}").status_code == 403


def test_a_carer_sees_only_what_the_consent_covers(channels_client: TestClient, channels_world: ChannelsWorld) -> None:
    sign_in(channels_client, "val")
    page = channels_client.get("/family")
    assert SAFETY_PLAN in page.text
    assert "07 Apr 2021 09:00 (home visit)" in page.text
    assert "Key worker" not in page.text  # not in "the crisis plan and appointments"
    assert channels_world.count(
        AuditEvent,
        AuditEvent.entity == "family_view",
        AuditEvent.patient_id == channels_world.patient_ids[SCOPED],
        AuditEvent.actor_name == "Val Scoped",
    )


def test_an_empty_or_too_long_message_shows_the_error_summary_and_writes_nothing(
    channels_client: TestClient, channels_world: ChannelsWorld
) -> None:
    sign_in(channels_client, "dee")
    before = channels_world.count(FamilyConcern)
    empty = _tell(channels_client, "   ")
    assert empty.status_code == 400
    assert "There is a problem" in empty.text
    assert 'href="#text"' in empty.text
    assert "Error: Tell the care team" in empty.text
    long = _tell(channels_client, "x" * 4001)
    assert long.status_code == 400
    assert "x" * 4001 in long.text  # kept
    assert channels_world.count(FamilyConcern) == before


def test_a_family_member_cannot_use_other_channels_or_open_records(channels_client: TestClient) -> None:
    sign_in(channels_client, "val")
    assert channels_client.get("/partners").status_code == 403
    assert channels_client.get(f"/people/{SCOPED}").status_code == 403
    assert channels_client.get("/").status_code == 403
    channels_client.cookies.clear()
    sign_in(channels_client, "chris")
    assert channels_client.get("/family").status_code == 403


def test_accounts_for_partners_and_families_must_fit_their_role(channels_world: ChannelsWorld) -> None:
    engine = make_engine(channels_world.url)
    problems: dict[str, list[str]] = {}
    cases = {
        "gp without a practice": (Role.GP_PARTNER, {}),
        "gp with a bad code": (Role.GP_PARTNER, {"organisation": "not an ods code"}),
        "police without a force": (Role.POLICE_LIAISON, {}),
        "family without a person": (Role.FAMILY_MEMBER, {}),
        "family not a carer": (Role.FAMILY_MEMBER, {"cares_for": REGISTERED, "carer_name": "Nobody Registered"}),
        "clinician with a practice": (Role.KEY_WORKER, {"organisation": PRACTICE}),
    }
    for index, (case, (role, link)) in enumerate(cases.items()):
        with unit_of_work(engine) as session:
            ctx = Context(session, Actor("Test", Role.SYSTEM), FixedClock(datetime(2021, 4, 2, tzinfo=LONDON)))
            staff = org.create_staff(ctx, StaffIn(name=f"Account Case {index}", role=role))
            session.flush([staff])
            with pytest.raises(ValidationFailed) as refused:
                channels.create_account(
                    ctx, staff=staff, username=f"case{index}", password="a long enough password", **link
                )
            session.rollback()
        problems[case] = [p.field for p in refused.value.problems]
    engine.dispose()
    assert problems == {
        "gp without a practice": ["organisation"],
        "gp with a bad code": ["organisation"],
        "police without a force": ["organisation"],
        "family without a person": ["cares_for"],
        "family not a carer": ["carer"],
        "clinician with a practice": ["organisation"],
    }


def test_when_consent_is_withdrawn_or_the_carer_record_was_a_mistake_the_carer_loses_access_at_once(
    channels_client: TestClient, channels_world: ChannelsWorld
) -> None:
    engine = make_engine(channels_world.url)
    person = channels_world.patient_ids[ELSEWHERE]
    at = datetime(2021, 4, 2, 9, 0, tzinfo=LONDON)
    with unit_of_work(engine) as session:
        ctx = Context(session, Actor("Chris Taylor", Role.KEY_WORKER), FixedClock(at), SeededIds("withdrawn"))
        carer = carers.register_carer(
            ctx, person, CarerIn(occurred_at=at, name="Kim Withdrawn", relationship="friend", consent_to_share=True)
        )
        staff = org.create_staff(ctx, StaffIn(name="Kim Withdrawn", role=Role.FAMILY_MEMBER))
        session.flush()
        channels.create_account(ctx, staff=staff, username="kim", password=PASSWORD, cares_for=ELSEWHERE)
    sign_in(channels_client, "kim")
    assert "Chris Taylor" in channels_client.get("/family").text
    with unit_of_work(engine) as session:
        ctx = Context(session, Actor("Chris Taylor", Role.KEY_WORKER), FixedClock(at), SeededIds("withdrawn-2"))
        writes.amend(ctx, Carer, carer.fact_id, reason="Consent withdrawn by the person", consent_to_share=False)
    page = channels_client.get("/family")
    assert "Nothing from their record is shared with you" in page.text
    assert "Chris Taylor" not in page.text
    with unit_of_work(engine) as session:
        ctx = Context(session, Actor("Chris Taylor", Role.KEY_WORKER), FixedClock(at), SeededIds("withdrawn-3"))
        writes.enter_in_error(ctx, Carer, carer.fact_id, reason="Not a registered carer: recorded by mistake")
    engine.dispose()
    before = channels_world.count(FamilyConcern)
    refused = _tell(channels_client, "Can someone call me back?")
    assert refused.status_code == 403
    assert "you are not a registered carer of this person" in refused.text
    assert channels_world.count(FamilyConcern) == before
    assert channels_world.count(
        AuditEvent, AuditEvent.action == "family_submit_refused", AuditEvent.actor_name == "Kim Withdrawn"
    )


def test_the_clinician_sees_how_a_carers_consent_scope_was_read(channels_client: TestClient) -> None:
    sign_in(channels_client, "chris")
    page = channels_client.get(f"/people/{SCOPED}")
    assert page.status_code == 200
    assert "read as sharing the crisis plan and appointments" in page.text
