"""The chronology in a real browser (Debian's Chromium through Playwright): "as known at" a past moment hides a fact
recorded later, and says so; axe-core finds no serious or critical violations."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.gates_people import CHRONO
from tests.web.test_browser import serious_violations, sign_in

pytest_plugins = ("tests.web.gates_world",)  # the world, its app, client and browser page

pytestmark = pytest.mark.slow

POLICE = "threatened his neighbour with a bottle"


def test_the_chronology_as_known_at_a_past_moment_hides_the_police_information_recorded_later(
    gates_page: Any,
) -> None:
    page = gates_page
    sign_in(page, "chris")
    page.goto(f"/people/{CHRONO}")
    page.get_by_role("link", name="Chronology", exact=True).click()
    page.get_by_role("heading", name="Chronology", level=1).wait_for()
    table = page.locator("table.sn-chronology")
    assert POLICE in table.inner_text()
    violations = {"now": serious_violations(page)}
    # Sunday night's police incident reached the team at 08:30 on Easter Monday: at 08:00 nobody knew of it.
    page.get_by_label("As known at").fill("2021-04-05T08:00")
    page.get_by_role("button", name="Show the chronology").click()
    banner = page.locator("#as-known-at")
    banner.wait_for()
    assert "You are viewing the record as it was known at 05 Apr 2021 08:00" in banner.inner_text()
    text = page.locator("table.sn-chronology").inner_text()
    assert POLICE not in text
    assert "Concern from Dee Placeholder (sister)" in text  # recorded on 1 April: known by then
    assert "known_at=2021-04-05T08%3A00" in page.url  # the view has its own address
    violations["as known at"] = serious_violations(page)
    page.get_by_label("As known at").fill("2021-04-05T08:30")
    page.get_by_role("button", name="Show the chronology").click()
    page.get_by_text("You are viewing the record as it was known at 05 Apr 2021 08:30").wait_for()
    assert POLICE in page.locator("table.sn-chronology").inner_text()
    page.get_by_role("link", name="View the record as known now").click()
    page.locator("table.sn-chronology").wait_for()
    assert page.locator("#as-known-at").count() == 0
    page.goto(f"/people/{CHRONO}/chronology?known_at=2030-01-01T00:00&filtered=1")
    page.locator(".nhsuk-error-summary").wait_for()
    violations["bad moment"] = serious_violations(page)
    assert {name: v for name, v in violations.items() if v} == {}
