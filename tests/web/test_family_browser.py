"""Browser tests of the family channel: a registered carer tells the team something and is shown its reference and
deadline; a carer without the person's consent sees nothing of the record. Debian's Chromium through Playwright
against the real app under uvicorn, with axe-core on every page (no serious or critical violations)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from safetynet.record.carers.models import FamilyConcern
from tests.web.channels_people import REGISTERED, ChannelsWorld
from tests.web.test_browser import serious_violations
from tests.web.test_partners_browser import sign_in_at

pytest_plugins = ("tests.web.channels_world",)  # the world, its app, client and browser page

pytestmark = pytest.mark.slow


def test_a_carer_tells_the_team_and_is_shown_the_reference_and_the_deadline(
    channels_page: Any, channels_world: ChannelsWorld
) -> None:
    page = channels_page
    found: dict[str, list[str]] = {}
    sign_in_at(page, "/family", "dee")
    page.get_by_role("heading", name="Tell the care team", level=1).wait_for()
    assert "Chris Taylor" in page.content()  # consented, no scope recorded: how to reach the team
    found["family home"] = serious_violations(page)
    before = channels_world.count(FamilyConcern)
    page.get_by_role("button", name="Send to the team").click()
    page.locator(".nhsuk-error-summary").wait_for()
    found["family form with errors"] = serious_violations(page)
    assert channels_world.count(FamilyConcern) == before
    page.get_by_label("What do you want the team to know?").fill(
        "He has been up all night again and is talking about the neighbours"
    )
    page.get_by_role("button", name="Send to the team").click()
    panel = page.locator("#received")
    panel.wait_for()
    assert re.search(r"FC-[0-9A-F]{4}-[0-9A-F]{4}", panel.inner_text())
    assert "Tuesday 06 April 2021" in page.content()
    found["family message received"] = serious_violations(page)
    assert channels_world.count(FamilyConcern) == before + 1
    assert {name: v for name, v in found.items() if v} == {}


def test_a_carer_without_consent_sees_nothing_of_the_record(channels_page: Any) -> None:
    page = channels_page
    sign_in_at(page, "/family", "sam")
    page.get_by_text("Nothing from their record is shared with you").wait_for()
    for private in ("Chris Taylor", "CMHT North", "Jordan Practice"):
        assert private not in page.content()
    assert serious_violations(page) == []
    page.goto(f"/people/{REGISTERED}")
    page.get_by_role("heading", name="You do not have access to this").wait_for()
    assert "Jordan Practice" not in page.content()
