"""The partner and family channels' fixtures: the world (``channels_people.build``), its app, a TestClient and a
browser page on the real app under uvicorn. Tests load this module with ``pytest_plugins``."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from safetynet.web.app import create_app
from safetynet.web.settings import WebSettings
from tests.conftest import Databases
from tests.web.channels_people import ChannelsWorld, build
from tests.web.conftest import _free_port, _Server


@pytest.fixture(scope="session")
def channels_world(databases: Databases) -> ChannelsWorld:
    from safetynet import migrations

    url = databases.new_url()
    migrations.upgrade(url)
    return build(url)


@pytest.fixture(scope="session")
def channels_app(channels_world: ChannelsWorld) -> FastAPI:
    settings = WebSettings(
        database_url=channels_world.url,
        secret_key="channels-tests-secret-key",
        secure_cookies=False,  # plain HTTP on loopback in tests only
        clock=channels_world.clock,
    )
    return create_app(settings)


@pytest.fixture
def channels_client(channels_app: FastAPI, channels_world: ChannelsWorld) -> Iterator[TestClient]:
    channels_world.reset_clock()
    with TestClient(channels_app, follow_redirects=False) as made:
        yield made
    channels_world.reset_clock()


@pytest.fixture(scope="session")
def channels_url(channels_app: FastAPI) -> Iterator[str]:
    """The real app on this world, under uvicorn on a free loopback port."""
    port = _free_port()
    server = _Server(uvicorn.Config(channels_app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def channels_page(browser: Any, channels_url: str, channels_world: ChannelsWorld) -> Iterator[Any]:
    channels_world.reset_clock()
    # bypass_csp: the page's Content-Security-Policy would (rightly) refuse the axe-core script the tests inject.
    context = browser.new_context(base_url=channels_url, bypass_csp=True)
    context.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/])"), lambda route: route.abort())  # loopback only
    made = context.new_page()
    made.set_default_timeout(10_000)
    yield made
    context.close()
    channels_world.reset_clock()
