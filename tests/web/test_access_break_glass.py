"""Break-glass in the web app: a clinician with no relationship is refused and offered break-glass; the form
refuses a missing reason (error summary, fields kept, nothing written); a grant opens reading for its time only, and
every read under it says so in the audit trail; the safety lead's review queue and the person's access log.
Through TestClient, and the journey in Chromium with axe-core on each page."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from safetynet.access.grants import BreakGlassGrant, BreakGlassReview
from safetynet.audit.models import AuditEvent
from safetynet.core.db import make_engine
from safetynet.web.app import create_app
from safetynet.web.settings import WebSettings
from tests.conftest import Databases
from tests.web import access_world
from tests.web.access_world import SECRET, AccessWorld
from tests.web.conftest import _free_port, _Server
from tests.web.test_browser import serious_violations
from tests.web.world import OTHER, PASSWORD, RESPONDER

REASON = "Seen in the emergency department at 02:00 in crisis; CMHT North is closed overnight"


@pytest.fixture(scope="module")
def glass_world(databases: Databases) -> AccessWorld:
    from safetynet import migrations

    url = databases.new_url()
    migrations.upgrade(url)
    return access_world.build(url)


@pytest.fixture(scope="module")
def glass_app(glass_world: AccessWorld) -> FastAPI:
    return create_app(
        WebSettings(database_url=glass_world.url, secret_key=SECRET, secure_cookies=False, clock=glass_world.clock)
    )


@pytest.fixture
def client(glass_app: FastAPI, glass_world: AccessWorld) -> Iterator[TestClient]:
    glass_world.web.reset_clock()
    with TestClient(glass_app, follow_redirects=False) as made:
        yield made
    glass_world.web.reset_clock()


def _rows(world: AccessWorld, model: Any, *where: Any) -> list[Any]:
    engine = make_engine(world.url)
    with engine.connect() as connection:
        found = list(connection.execute(select(model).where(*where)).all())
    engine.dispose()
    return found


def _count(world: AccessWorld, model: Any, *where: Any) -> int:
    engine = make_engine(world.url)
    with engine.connect() as connection:
        found = connection.execute(select(func.count()).select_from(model).where(*where)).scalar_one()
    engine.dispose()
    return int(found)


def test_break_glass_opens_the_record_for_its_time_and_every_read_says_so(
    client: TestClient, glass_world: AccessWorld
) -> None:
    csrf = glass_world.sign_in(client, "sam")
    refused = client.get(f"/people/{RESPONDER}")
    assert refused.status_code == 403
    assert "Break the glass to open this record" in refused.text
    form = client.get(f"/people/{RESPONDER}/break-glass", params={"next": f"/people/{RESPONDER}"})
    assert form.status_code == 200
    assert "Jordan Placeholder" not in form.text  # nothing of the record before the glass is broken
    before = _count(glass_world, BreakGlassGrant)
    short = client.post(
        f"/people/{RESPONDER}/break-glass",
        data={"csrf_token": csrf, "reason": "emergency", "minutes": "60", "next": f"/people/{RESPONDER}"},
    )
    assert short.status_code == 422
    assert "There is a problem" in short.text
    assert 'href="#reason"' in short.text
    assert ">emergency</textarea>" in short.text  # kept
    assert _count(glass_world, BreakGlassGrant) == before  # nothing written
    opened = client.post(
        f"/people/{RESPONDER}/break-glass",
        data={"csrf_token": csrf, "reason": REASON, "minutes": "30", "next": f"/people/{RESPONDER}"},
    )
    assert opened.status_code == 303
    assert opened.headers["location"] == f"/people/{RESPONDER}"
    grant = _rows(glass_world, BreakGlassGrant, BreakGlassGrant.reason == REASON)[0]
    assert grant.expires_at - grant.started_at == timedelta(minutes=30)
    page = client.get(f"/people/{RESPONDER}")
    assert page.status_code == 200
    assert "Jordan Placeholder" in page.text
    reads = _rows(
        glass_world,
        AuditEvent,
        AuditEvent.actor_name == "Sam Southward",
        AuditEvent.action == "read",
        AuditEvent.purpose.contains(f"break-glass grant {grant.id}"),
    )
    assert reads, "reads under break-glass must name the grant"
    assert _count(glass_world, AuditEvent, AuditEvent.action == "break_glass", AuditEvent.entity_id == grant.id) == 1
    # Break-glass opens reading and recording, not closing the safety net's work.
    task = client.post(f"/tasks/{glass_world.web.task_ids[RESPONDER]}/dismiss", data={"csrf_token": csrf})
    assert task.status_code == 403
    glass_world.clock.advance(timedelta(minutes=31))
    glass_world.sign_in(client, "sam")  # the idle session has ended too
    assert client.get(f"/people/{RESPONDER}").status_code == 403  # expired
    refusals = _count(
        glass_world, AuditEvent, AuditEvent.action == "access_refused", AuditEvent.actor_name == "Sam Southward"
    )
    assert refusals >= 3


def test_the_safety_lead_reviews_break_glass_and_reads_the_access_log(
    client: TestClient, glass_world: AccessWorld
) -> None:
    csrf = glass_world.sign_in(client, "sam")
    assert client.get("/access/break-glass").status_code == 403  # a key worker does not review
    assert client.get(f"/people/{OTHER}/access-log").status_code == 403
    client.post(
        f"/people/{OTHER}/break-glass",
        data={"csrf_token": csrf, "reason": REASON + " (second)", "minutes": "60", "next": ""},
    )
    assert client.get(f"/people/{OTHER}").status_code == 200
    (grant,) = _rows(glass_world, BreakGlassGrant, BreakGlassGrant.reason == REASON + " (second)")
    client.cookies.clear()
    csrf = glass_world.sign_in(client, "dana")
    queue = client.get("/access/break-glass")
    assert queue.status_code == 200
    card = queue.text[queue.text.index(f'id="grant-{grant.id}"') :]
    assert "Sam Southward (key worker)" in card
    assert "999 000 0018" in card
    assert re.search(r"[1-9]\d* reads?,", card)
    empty = client.post(f"/access/break-glass/{grant.id}/review", data={"csrf_token": csrf, "note": ""})
    assert empty.status_code == 422
    assert f'href="#grant-{grant.id}-outcome"' in empty.text
    assert _count(glass_world, BreakGlassReview, BreakGlassReview.grant_id == grant.id) == 0
    done = client.post(
        f"/access/break-glass/{grant.id}/review",
        data={"csrf_token": csrf, "outcome": "appropriate", "note": "Confirmed with the ED liaison team"},
    )
    assert done.status_code == 303
    assert f'id="grant-{grant.id}"' not in client.get("/access/break-glass").text
    again = client.post(
        f"/access/break-glass/{grant.id}/review",
        data={"csrf_token": csrf, "outcome": "inappropriate", "note": "A second review"},
    )
    assert again.status_code == 422
    assert "already been reviewed" in again.text
    log = client.get(f"/people/{OTHER}/access-log")
    assert log.status_code == 200
    assert "Sam Southward" in log.text
    assert "break glass" in log.text
    assert REASON in log.text
    again_log = client.get(f"/people/{OTHER}/access-log")
    assert "access log review by the safety lead" in again_log.text  # opening the log is itself recorded


@pytest.fixture(scope="module")
def glass_url(glass_app: FastAPI) -> Iterator[str]:
    port = _free_port()
    server = _Server(uvicorn.Config(glass_app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.mark.slow
def test_a_clinician_breaks_the_glass_in_the_browser_and_the_safety_lead_reviews_it(
    browser: Any, glass_url: str, glass_world: AccessWorld
) -> None:
    glass_world.web.reset_clock()
    glass_world.clock.advance(timedelta(hours=9))  # after any grant the other tests opened (a shift at most)
    context = browser.new_context(base_url=glass_url, bypass_csp=True)  # axe-core is injected inline
    context.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/])"), lambda route: route.abort())
    page = context.new_page()
    page.set_default_timeout(10_000)
    found: dict[str, list[str]] = {}
    reason = "Brought to the place of safety by police at night; their own team cannot be reached"
    try:
        _browser_sign_in(page, "sam")
        page.goto(f"/people/{RESPONDER}")
        page.get_by_role("heading", name="You do not have access to this").wait_for()
        found["refused, with break-glass"] = serious_violations(page)
        page.get_by_role("button", name="Break the glass to open this record").click()
        page.get_by_role("heading", name="Break the glass").wait_for()
        page.get_by_role("button", name="Break the glass and open the record").click()  # no reason
        page.locator(".nhsuk-error-summary").wait_for()
        found["break-glass form with errors"] = serious_violations(page)
        page.get_by_label("Why do you need this record now?").fill(reason)
        page.get_by_label("4 hours").check()
        page.get_by_role("button", name="Break the glass and open the record").click()
        page.get_by_text("Jordan Placeholder").first.wait_for()
        assert page.url.endswith(f"/people/{RESPONDER}")
        page.get_by_role("button", name="Sign out").click()
        _browser_sign_in(page, "dana")
        page.goto("/access/break-glass")
        card = page.locator(".nhsuk-card", has_text=reason)
        card.wait_for()
        found["review queue"] = serious_violations(page)
        card.get_by_label("Appropriate", exact=True).check()
        card.get_by_label("What did the review find?").fill("Police confirmed; appropriate")
        card.get_by_role("button", name="Record review").click()
        page.get_by_text("Review recorded.").wait_for()
        assert page.locator(".nhsuk-card", has_text=reason).count() == 0
        page.goto(f"/people/{RESPONDER}/access-log")
        page.get_by_role("heading", name="Access log").wait_for()
        assert reason in page.content()
        found["access log"] = serious_violations(page)
    finally:
        context.close()
        glass_world.web.reset_clock()
    assert {name: v for name, v in found.items() if v} == {}


def _browser_sign_in(page: Any, username: str) -> None:
    page.goto("/sign-in")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
