"""The guided discharge in a real browser (Debian's Chromium through Playwright): a team manager tries a discharge
for non-attendance and is blocked with the reason; axe-core finds no serious or critical violations on the steps."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from safetynet.core.db import make_engine
from safetynet.record.episodes.models import Episode
from safetynet.record.patients.models import Patient
from tests.web.gates_people import BLOCKED, BROWSER_DISCHARGE, GatesWorld
from tests.web.test_browser import serious_violations, sign_in

pytest_plugins = ("tests.web.gates_world",)  # the world, its app, client and browser page

pytestmark = pytest.mark.slow


def _episode_versions(world: GatesWorld) -> int:
    engine = make_engine(world.url)
    with engine.connect() as connection:
        pid = connection.execute(select(Patient.id).where(Patient.nhs_number == BLOCKED)).scalar_one()
        rows = connection.execute(select(Episode.id).where(Episode.patient_id == pid)).all()
    engine.dispose()
    return len(rows)


def test_a_team_manager_tries_a_discharge_for_non_attendance_and_is_blocked_with_the_reason(
    gates_page: Any, gates_world: GatesWorld
) -> None:
    page = gates_page
    before = _episode_versions(gates_world)
    sign_in(page, "pam")
    page.goto(f"/people/{BLOCKED}")
    page.get_by_role("link", name="Discharge, through the safety gates").click()
    page.get_by_role("heading", name="Discharge", level=1).wait_for()
    violations = {"step 1": serious_violations(page)}
    page.get_by_role("button", name="Check the discharge").click()  # nothing chosen: the error summary
    page.locator(".nhsuk-error-summary").wait_for()
    assert page.title().startswith("Error:")
    violations["step 1 with errors"] = serious_violations(page)
    page.get_by_label("From EIP (end the episode)").check()
    page.get_by_label("Not attending appointments").check()
    page.get_by_label("To the GP").check()
    page.get_by_role("button", name="Check the discharge").click()
    gates = page.locator("#gates")
    gates.wait_for()
    assert "Blocked" in gates.inner_text()
    sn03 = page.locator("#gate-SN03").inner_text()
    assert "Discharge for non-attendance" in sn03
    assert "non-attendance is never a reason to discharge" in sn03
    assert "Follow the disengagement steps instead" in sn03
    assert page.get_by_role("button", name="Discharge and book the follow-up").count() == 0
    assert page.get_by_label("Not attending appointments").is_checked()  # the choices are kept
    violations["blocked"] = serious_violations(page)
    page.locator("#gate-SN16").get_by_role("link", name="Draft the GP handover letter").click()
    page.get_by_role("heading", name="GP handover letter", level=1).wait_for()
    assert "Pushed his father over" in page.get_by_label("1. Violence history").input_value()
    violations["GP letter"] = serious_violations(page)
    assert _episode_versions(gates_world) == before  # blocked: nothing written
    assert {name: v for name, v in violations.items() if v} == {}


def test_a_team_manager_sends_the_gp_letter_overrides_with_a_rationale_and_discharges_with_a_follow_up(
    gates_page: Any,
) -> None:
    page = gates_page
    sign_in(page, "pam")
    page.goto(f"/people/{BROWSER_DISCHARGE}/discharge")
    page.get_by_label("From EIP (end the episode)").check()
    page.get_by_label("Not attending appointments").check()
    page.get_by_label("To the GP").check()
    page.get_by_role("button", name="Check the discharge").click()
    page.locator("#gate-SN16").get_by_role("link", name="Draft the GP handover letter").click()
    page.get_by_label("6. Fast route back to the team").fill("Phone EIP directly; accepted without reassessment.")
    page.get_by_role("button", name="Send the letter to the GP").click()
    page.get_by_text("GP handover letter sent, with all six sections.").wait_for()
    assert page.locator("#gate-SN16").count() == 0
    page.get_by_label("Your rationale for overriding SN03").fill(
        "Clear capacitous refusal of the service; GP and father told of relapse signs"
    )
    page.get_by_role("button", name="Check again with my override").click()
    page.get_by_text("Overridden by a team manager").wait_for()
    violations = {"allowed with warnings": serious_violations(page)}
    page.get_by_label("Follow-up contact").fill("2022-03-31T10:00")
    page.get_by_label("Home visit").check()
    page.get_by_role("button", name="Discharge and book the follow-up").click()
    page.get_by_role("heading", name="Discharge recorded").wait_for()
    assert "31 Mar 2022 10:00" in page.locator("#discharge-recorded").inner_text()
    violations["recorded"] = serious_violations(page)
    assert {name: v for name, v in violations.items() if v} == {}
