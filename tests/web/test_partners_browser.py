"""Browser tests of the partner channels: a GP practice and a police liaison officer, in Debian's Chromium through
Playwright against the real app under uvicorn, with axe-core on every page they see (no serious or critical
violations)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from safetynet.record.partners.models import PartnerInformation
from tests.web.channels_people import (
    ELSEWHERE,
    OTHER_FORCE_SHARE,
    OTHER_LETTER_BODY,
    POLICE_SHARE,
    PRACTICE_SHARE,
    REGISTERED,
    ChannelsWorld,
)
from tests.web.test_browser import serious_violations
from tests.web.world import PASSWORD

pytest_plugins = ("tests.web.channels_world",)  # the world, its app, client and browser page

pytestmark = pytest.mark.slow


def sign_in_at(page: Any, path: str, username: str) -> None:
    """Open a channel's page; sign in where it sends us, and come back to it."""
    page.goto(path)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


def test_a_practice_reads_its_letters_and_reports_no_contact_after_correcting_the_form(
    channels_page: Any, channels_world: ChannelsWorld
) -> None:
    page = channels_page
    found: dict[str, list[str]] = {}
    sign_in_at(page, "/partners", "gwen")
    page.get_by_role("heading", name="Your practice", level=1).wait_for()
    assert "Route back: call CMHT North the same day." in page.content()
    assert PRACTICE_SHARE in page.content()
    assert OTHER_LETTER_BODY not in page.content()
    assert "Robin Elsewhere" not in page.content()
    found["practice home"] = serious_violations(page)
    page.get_by_role("link", name="Report no contact or prescriptions not collected").click()
    page.get_by_role("heading", name="Report to the mental health team", level=1).wait_for()
    found["practice report"] = serious_violations(page)
    page.get_by_label("NHS number").fill(ELSEWHERE)  # another practice's patient: refused like an unknown number
    page.get_by_label("No contact: the patient has not been in touch or has not attended").check()
    page.get_by_label("Date you noticed it").fill("2021-03-31")
    page.get_by_label("What the team should know").fill("Not seen at the practice since January; letters unanswered")
    before = channels_world.count(PartnerInformation)
    page.get_by_role("button", name="Send to the team").click()
    summary = page.locator(".nhsuk-error-summary")
    summary.wait_for()
    assert "does not match a patient registered with your practice" in summary.inner_text()
    assert page.get_by_label("What the team should know").input_value().startswith("Not seen at the practice")
    found["practice report refused"] = serious_violations(page)
    assert channels_world.count(PartnerInformation) == before
    page.get_by_label("NHS number").fill(REGISTERED)
    page.get_by_role("button", name="Send to the team").click()
    page.get_by_text("Received: thank you").wait_for()
    assert re.search(r"PI-[0-9A-F]{4}-[0-9A-F]{4}", page.locator(".nhsuk-panel").inner_text())
    found["practice report received"] = serious_violations(page)
    assert channels_world.count(PartnerInformation) == before + 1
    assert {name: v for name, v in found.items() if v} == {}


def test_a_police_liaison_officer_sees_only_their_forces_shares_and_submits_intelligence(
    channels_page: Any, channels_world: ChannelsWorld
) -> None:
    page = channels_page
    found: dict[str, list[str]] = {}
    sign_in_at(page, "/partners", "morgan")
    page.get_by_role("heading", name="Police liaison", level=1).wait_for()
    assert POLICE_SHARE in page.content()
    assert OTHER_FORCE_SHARE not in page.content()
    assert PRACTICE_SHARE not in page.content()
    found["police home"] = serious_violations(page)
    page.get_by_role("link", name="Submit intelligence to the team").click()
    page.get_by_role("heading", name="Submit intelligence to the mental health team", level=1).wait_for()
    page.get_by_role("button", name="Send to the team").click()  # nothing filled in
    page.locator(".nhsuk-error-summary").wait_for()
    found["police form with errors"] = serious_violations(page)
    page.get_by_label("Full name").fill("Alex Twin")  # two people share this name and date of birth
    page.get_by_label("Date of birth").fill("1998-11-03")
    page.get_by_label("Incident").check()
    page.get_by_label("Date it happened").fill("2021-03-31")
    page.get_by_label("Time it happened (optional)").fill("22:10")
    page.get_by_label("Violence").check()
    page.get_by_label("What the team should know").fill("Called to a disturbance; he threatened a neighbour")
    for basis in (
        "Crime and Disorder Act 1998, section 115",
        "UK GDPR Article 6(1)(e): public task",
        "UK GDPR Article 9(2)(g): substantial public interest (safeguarding)",
    ):
        page.get_by_label(basis).check()
    before = channels_world.count(PartnerInformation)
    page.get_by_role("button", name="Send to the team").click()
    summary = page.locator(".nhsuk-error-summary")
    summary.wait_for()
    assert "could not match these details to exactly one person" in summary.inner_text()
    found["police submission not matched"] = serious_violations(page)
    assert channels_world.count(PartnerInformation) == before
    page.get_by_label("NHS number (if you have it)").fill(REGISTERED)
    page.get_by_label("Full name").fill("")
    page.get_by_label("Date of birth").fill("")
    page.get_by_role("button", name="Send to the team").click()
    page.get_by_text("Received: thank you").wait_for()
    found["police submission received"] = serious_violations(page)
    assert channels_world.count(PartnerInformation) == before + 1
    assert {name: v for name, v in found.items() if v} == {}
