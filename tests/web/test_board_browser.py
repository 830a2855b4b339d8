# ruff: noqa: F811  (the fixtures imported from board_fixtures are, by design, the tests' parameters)
"""The team board and the trust safety view in Debian's Chromium (Playwright): a team manager opens the board from
the navigation, confirms a zone without JavaScript's help, and axe-core finds no serious or critical violation on
either page (nor on the zone form with its errors)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.board_fixtures import (  # noqa: F401
    board,
    board_app,
    board_live_url,
    board_page,
    board_world_built,
)
from tests.web.board_world import PASSWORD, PEOPLE, BoardWorld
from tests.web.test_browser import serious_violations

pytestmark = pytest.mark.slow


def sign_in(page: Any, username: str) -> None:
    page.goto("/sign-in")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


def test_a_team_manager_runs_the_huddle_from_the_board(board_page: Any, board: BoardWorld) -> None:
    page = board_page
    sign_in(page, "tara")
    page.get_by_role("link", name="Team board").first.click()
    page.get_by_role("heading", name="Team board: CMHT Board", level=1).wait_for()
    found = {"board": serious_violations(page)}
    nhs = PEOPLE["Drew Boardtest"]
    page.locator(f"#zone-{nhs}").get_by_role("link", name="Set zone for Drew Boardtest").click()
    page.get_by_role("heading", name="Set the zone for Drew Boardtest").wait_for()
    page.get_by_role("button", name="Confirm zone").click()  # nothing chosen: the errors
    page.locator(".nhsuk-error-summary").wait_for()
    assert page.title().startswith("Error:")
    found["zone form with errors"] = serious_violations(page)
    page.get_by_label("Amber: closer watch this week").check()
    page.get_by_label("Why").fill("New to the team; allocate at Friday's meeting")
    page.get_by_role("button", name="Confirm zone").click()
    row = page.locator(f"#zone-{nhs}")
    row.get_by_text("New to the team; allocate at Friday's meeting").wait_for()
    assert "Amber" in row.inner_text()
    page.get_by_role("link", name="Trust safety").first.click()
    page.get_by_role("heading", name="Trust safety", level=1).wait_for()
    assert "rule failure" in page.locator(".sn-operational-alerts").inner_text()
    found["trust safety"] = serious_violations(page)
    assert {name: v for name, v in found.items() if v} == {}


def test_a_safety_lead_sees_the_trust_view_and_a_key_worker_is_refused_the_board(
    board_page: Any, board: BoardWorld
) -> None:
    page = board_page
    sign_in(page, "kim")
    page.goto(f"/teams/{board.team_id}/board")
    page.get_by_role("heading", name="You do not have access to this").wait_for()
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, "sol")
    page.goto("/trust/safety")
    page.get_by_role("heading", name="Trust safety", level=1).wait_for()
    page.goto("/board")  # a safety lead is on no team: chooses one
    page.get_by_role("heading", name="Team boards", level=1).wait_for()
    assert serious_violations(page) == []
    page.get_by_role("link", name="CMHT Board").click()
    page.get_by_role("heading", name="Team board: CMHT Board", level=1).wait_for()
    assert serious_violations(page) == []
