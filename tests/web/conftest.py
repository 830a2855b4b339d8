"""Web test fixtures: the world (a migrated database with the scenario's people, staff and accounts), the app on a
fixed clock through TestClient, and the real app under uvicorn on a loopback port driven by Debian's Chromium."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from safetynet.web.app import create_app
from safetynet.web.settings import WebSettings
from tests.conftest import Databases
from tests.web import world as world_module
from tests.web.world import PASSWORD, World

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SESSION_MINUTES = 30


@pytest.fixture(scope="session")
def world(databases: Databases) -> World:
    return world_module.build(_new(databases))


def _new(databases: Databases) -> str:
    from safetynet import migrations

    url = databases.new_url()
    migrations.upgrade(url)
    return url


@pytest.fixture(scope="session")
def app(world: World) -> FastAPI:
    settings = WebSettings(
        database_url=world.url,
        secret_key="web-tests-secret-key",
        session_minutes=SESSION_MINUTES,
        secure_cookies=False,  # plain HTTP on loopback in tests only
        clock=world.clock,
    )
    return create_app(settings)


@pytest.fixture
def clock_reset(world: World) -> Iterator[None]:
    world.reset_clock()
    yield
    world.reset_clock()


@pytest.fixture
def client(app: FastAPI, clock_reset: None) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as made:
        yield made


def csrf_from(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([0-9a-f]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> Any:
    page = client.get("/sign-in")
    return client.post(
        "/sign-in", data={"username": username, "password": password, "csrf_token": csrf_from(page.text), "next": "/"}
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # a thread cannot take signals
        pass


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """An app under uvicorn on a free loopback port, in a background thread, for as long as the block runs."""
    port = _free_port()
    server = _Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_url(app: FastAPI) -> Iterator[str]:
    """The real app under uvicorn on a free loopback port, in a background thread."""
    with serving(app) as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@contextmanager
def browser_page(browser: Any, base_url: str) -> Iterator[Any]:
    """A fresh browser context and page on ``base_url``.

    bypass_csp: the axe-core check injects its script inline, which the pages' CSP refuses (test_headers.py checks
    the CSP in a context without it). Only loopback: the NHS.UK stylesheet asks https://assets.nhs.uk for its fonts,
    which cannot be reached here (and a test must not wait on the internet); the pages fall back to the system font.
    """
    context = browser.new_context(base_url=base_url, bypass_csp=True)
    context.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/])"), lambda route: route.abort())
    made = context.new_page()
    made.set_default_timeout(10_000)
    try:
        yield made
    finally:
        context.close()


@pytest.fixture
def page(browser: Any, live_url: str, clock_reset: None) -> Iterator[Any]:
    with browser_page(browser, live_url) as made:
        yield made
