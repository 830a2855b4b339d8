"""Security headers on every response (``web.security``), pages that need no inline script or style, and a 500
page that gives away nothing; in a real browser, no page breaks its Content Security Policy."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from safetynet.web import security
from safetynet.web.app import create_app
from safetynet.web.settings import WebSettings
from tests.web.conftest import sign_in
from tests.web.world import OTHER, PASSWORD, World

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.DOTALL)


def _assert_secure(headers: Any, *, page: bool = True) -> None:
    csp = headers["content-security-policy"]
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert "default-src 'self'" in csp
    assert "font-src 'self'" in csp
    assert headers["strict-transport-security"].startswith("max-age=31536000")
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    if page:
        assert headers["cache-control"] == "no-store"


def test_every_kind_of_response_carries_the_security_headers(client: TestClient) -> None:
    _assert_secure(client.get("/sign-in").headers)
    _assert_secure(client.get("/").headers)  # the redirect to sign in
    sign_in(client, "chris")
    for path in ("/", f"/people/{OTHER}"):
        answer = client.get(path)
        assert answer.status_code == 200
        _assert_secure(answer.headers)
    _assert_secure(client.get("/people/9990000026", headers={"accept": "text/html"}).headers)  # 404
    _assert_secure(client.get("/fhir/Patient").headers)  # an API refusing: 401
    static = client.get("/static/nhsuk/nhsuk-frontend.min.css")
    _assert_secure(static.headers, page=False)
    assert "no-store" not in static.headers.get("cache-control", "")


def test_a_refusal_carries_them_too(client: TestClient) -> None:
    sign_in(client, "ada")
    refused = client.get(f"/people/{OTHER}")
    assert refused.status_code == 403
    _assert_secure(refused.headers)


def test_pages_have_no_inline_script_or_style_but_the_templates_one_hashed_line(client: TestClient) -> None:
    sign_in(client, "chris")
    hashes = security.inline_script_hashes()
    assert len(hashes) == 1
    for path in ("/", f"/people/{OTHER}", f"/people/{OTHER}/chronology"):
        html = client.get(path).text
        assert " style=" not in html
        assert "<style" not in html
        inline = INLINE_SCRIPT.findall(html)
        assert len(inline) == 1
        assert "js-enabled" in inline[0]
        assert hashes[0] in client.get(path).headers["content-security-policy"]
        assert re.search(r"\son[a-z]+=", html) is None  # no event handler attributes


def test_the_stylesheet_asks_nothing_of_another_site() -> None:
    from safetynet.web.app import STATIC

    css = (STATIC / "nhsuk" / "nhsuk-frontend.min.css").read_text(encoding="utf-8")
    assert "@font-face" not in css
    assert re.search(r"url\((?!['\"]?/|['\"]?data:)['\"]?[a-z]+:", css) is None


@pytest.fixture
def failing_app(world: World) -> FastAPI:
    app = create_app(WebSettings(database_url=world.url, secret_key="s3cret-key-never-shown", clock=world.clock))

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("database password is hunter2 and NHS number 9990000018")

    return app


def test_an_unexpected_error_shows_a_plain_page_with_a_reference_and_no_detail(
    failing_app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        caplog.at_level(logging.ERROR, logger="safetynet.web"),
        TestClient(failing_app, raise_server_exceptions=False) as made,
    ):
        answer = made.get("/boom")
    assert answer.status_code == 500
    assert "Sorry, there is a problem with the service" in answer.text
    for secret in ("hunter2", "9990000018", "Traceback", "RuntimeError", "s3cret-key-never-shown"):
        assert secret not in answer.text
    _assert_secure(answer.headers)
    reference = re.search(r"<strong>([0-9a-f]{8})</strong>", answer.text)
    assert reference is not None
    logged = [r for r in caplog.records if reference.group(1) in r.getMessage()]
    assert logged
    assert "/boom" in logged[0].getMessage()


@pytest.mark.slow
def test_no_page_breaks_the_content_security_policy_in_a_real_browser(
    browser: Any, live_url: str, world: World
) -> None:
    """Chromium reports every CSP violation on the console and as a ``securitypolicyviolation`` event."""
    context = browser.new_context(base_url=live_url)
    context.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/])"), lambda route: route.abort())
    page = context.new_page()
    page.set_default_timeout(10_000)
    messages: list[str] = []
    page.on("console", lambda m: messages.append(m.text) if "Content Security Policy" in m.text else None)
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e =>"
        " console.error('Content Security Policy violation: ' + e.violatedDirective + ' ' + e.blockedURI))"
    )
    try:
        page.goto("/sign-in")
        page.get_by_label("Username").fill("chris")
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        with page.expect_navigation():
            page.get_by_role("button", name="Sign in").click()
        page.get_by_role("heading", name="My work", level=1).wait_for()
        assert page.evaluate("document.body.classList.contains('js-enabled')")  # the hashed inline script ran
        card = page.locator(f"#task-{world.task_ids[OTHER]}")
        card.get_by_text("Acknowledge, snooze or dismiss").click()
        card.get_by_role("button", name="Acknowledge").click()  # HTMX swaps the card back with its errors
        page.locator(f"#task-{world.task_ids[OTHER]} .nhsuk-error-summary").wait_for()
        for path in (f"/people/{OTHER}", f"/people/{OTHER}/chronology", "/people/9990000026"):
            page.goto(path)
            page.wait_for_load_state("load")
        page.get_by_role("button", name="Sign out").click()
        page.get_by_label("Username").fill("dana")  # the safety lead's pages
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        with page.expect_navigation():
            page.get_by_role("button", name="Sign in").click()
        for path in ("/trust/safety", "/board", "/access/break-glass", f"/people/{OTHER}/access-log"):
            page.goto(path)
            page.wait_for_load_state("load")
        found = list(messages)
        # The listener hears a violation when there is one: an inline script added now must be refused and reported.
        page.evaluate(
            "() => { const s = document.createElement('script'); s.textContent = '1'; document.head.append(s) }"
        )
        page.wait_for_timeout(200)
        assert any("script-src" in m for m in messages[len(found) :])
    finally:
        context.close()
        world.reset_clock()
    assert found == []
