"""Browser tests: the real app under uvicorn on loopback, driven by Debian's Chromium through Playwright."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from safetynet.core.db import make_engine
from safetynet.record.carers.models import FamilyConcernResponse
from safetynet.tasks.models import Task
from tests.web.conftest import SESSION_MINUTES
from tests.web.world import OTHER, PASSWORD, RESPONDER, World

pytestmark = pytest.mark.slow

AXE = Path(__file__).parent / "vendor" / "axe.min.js"


def sign_in(page: Any, username: str, password: str = PASSWORD) -> None:
    page.goto("/sign-in")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


def serious_violations(page: Any) -> list[str]:
    """axe-core on the page as it is now: the serious and critical violations, described."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def _responses(world: World) -> int:
    engine = make_engine(world.url)
    with engine.connect() as connection:
        count = connection.execute(select(func.count()).select_from(FamilyConcernResponse)).scalar_one()
    engine.dispose()
    return int(count)


def _task_closed(world: World, task_id: str) -> bool:
    engine = make_engine(world.url)
    with engine.connect() as connection:
        closed = connection.execute(select(Task.closed_at).where(Task.id == task_id)).scalar_one()
    engine.dispose()
    return closed is not None


def test_a_key_worker_answers_a_family_concern_from_my_work_and_the_task_closes(page: Any, world: World) -> None:
    sign_in(page, "chris")
    card = page.locator(f"#task-{world.task_ids[RESPONDER]}")
    card.get_by_text("Family concern unanswered").wait_for()
    assert "Dee Placeholder (sister)" in card.inner_text()
    card.get_by_role("link", name="Record a response to the concern").click()
    assert page.url.endswith(f"/people/{RESPONDER}#concern-{world.concern_ids[RESPONDER]}")
    concern = page.locator(f"#concern-{world.concern_ids[RESPONDER]}")
    concern.get_by_label("Record the response to Dee Placeholder (sister)").fill(
        "Called his sister back: he has not slept; duty doctor visiting today and the crisis team informed"
    )
    concern.get_by_role("button", name="Record response").click()
    page.locator(f"#concern-{world.concern_ids[RESPONDER]}").get_by_text("Response recorded.").wait_for()
    assert "Responded" in page.locator(f"#concern-{world.concern_ids[RESPONDER]}").inner_text()
    assert page.locator(f"#person-tasks #task-{world.task_ids[RESPONDER]}").count() == 0  # swapped out of band
    assert _task_closed(world, world.task_ids[RESPONDER])
    page.get_by_role("link", name="My work").first.click()
    page.get_by_role("heading", name="My work", level=1).wait_for()
    assert page.locator(f"#task-{world.task_ids[RESPONDER]}").count() == 0
    assert page.locator(f"#task-{world.task_ids[OTHER]}").count() == 1


def test_a_wrong_password_is_refused_with_the_error_summary(page: Any) -> None:
    sign_in(page, "chris", "not the password at all")
    summary = page.locator(".nhsuk-error-summary")
    summary.wait_for()
    assert "The username or password is not right" in summary.inner_text()
    assert page.get_by_label("Username").input_value() == "chris"
    assert page.title().startswith("Error:")


def test_a_form_sent_without_its_csrf_token_is_refused_and_nothing_is_written(page: Any, world: World) -> None:
    sign_in(page, "chris")
    page.goto(f"/people/{OTHER}")
    before = _responses(world)
    # The same POST the form makes, with the browser's session cookie but without the token.
    refused = page.request.post(
        f"/people/{OTHER}/family-concerns/{world.concern_ids[OTHER]}/response",
        form={"text": "A forged response from another site"},
    )
    assert refused.status == 403
    assert "This form could not be accepted" in refused.text()
    assert _responses(world) == before
    assert not _task_closed(world, world.task_ids[OTHER])


def test_an_idle_session_ends_and_the_next_page_asks_to_sign_in_again(page: Any, world: World) -> None:
    sign_in(page, "chris")
    page.get_by_role("heading", name="My work", level=1).wait_for()
    world.clock.advance(timedelta(minutes=SESSION_MINUTES + 1))
    page.goto(f"/people/{OTHER}")
    page.get_by_role("heading", name="Sign in to Safetynet").wait_for()
    assert "Your session ended" in page.content()
    assert page.url.endswith(f"/sign-in?next=/people/{OTHER}")


def test_signing_out_returns_to_sign_in_and_the_pages_are_closed(page: Any) -> None:
    sign_in(page, "pat")
    page.get_by_role("button", name="Sign out").click()
    page.get_by_text("You have signed out.").wait_for()
    page.goto("/")
    assert page.url.endswith("/sign-in")


def test_a_signed_in_administrator_cannot_open_a_record(page: Any) -> None:
    sign_in(page, "ada")
    page.get_by_role("heading", name="You do not have access to this").wait_for()
    page.goto(f"/people/{OTHER}")
    assert "You do not have access to this" in page.content()
    assert "Riley Example" not in page.content()


def test_a_staff_member_with_no_account_cannot_sign_in(page: Any) -> None:
    sign_in(page, "mo.ahmed", "any password they might try")
    page.locator(".nhsuk-error-summary").wait_for()
    page.goto("/")
    assert page.url.endswith("/sign-in")


def test_every_page_has_no_serious_or_critical_accessibility_violations(page: Any, world: World) -> None:
    found: dict[str, list[str]] = {}
    page.goto("/sign-in")
    found["sign-in"] = serious_violations(page)
    sign_in(page, "chris", "wrong password for the error state")
    page.locator(".nhsuk-error-summary").wait_for()
    found["sign-in with errors"] = serious_violations(page)
    sign_in(page, "chris")
    page.get_by_role("heading", name="My work", level=1).wait_for()
    found["my work"] = serious_violations(page)
    card = page.locator(f"#task-{world.task_ids[OTHER]}")
    card.get_by_text("Acknowledge, snooze or dismiss").click()
    card.get_by_role("button", name="Acknowledge").click()  # no rationale: the card comes back with its errors
    page.locator(f"#task-{world.task_ids[OTHER]} .nhsuk-error-summary").wait_for()
    found["my work with a task error"] = serious_violations(page)
    page.goto(f"/people/{OTHER}")
    found["person"] = serious_violations(page)
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    without_js = page.request.post(  # the page a browser without JavaScript gets back: error summary, fields kept
        f"/tasks/{world.task_ids[OTHER]}/snooze", form={"rationale": "", "until": "", "csrf_token": token or ""}
    )
    assert without_js.status == 422
    page.set_content(without_js.text())
    page.locator(".nhsuk-error-summary").wait_for()
    found["task action refused, without JavaScript"] = serious_violations(page)
    page.goto("/people/9990000026")
    found["not found"] = serious_violations(page)
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, "ada")
    page.get_by_role("heading", name="You do not have access to this").wait_for()
    found["refused"] = serious_violations(page)
    assert {name: v for name, v in found.items() if v} == {}
