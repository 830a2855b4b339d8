"""Fixtures for the team board and trust safety tests: their own world's database, the app on its fixed clock
through TestClient, and the app under uvicorn for the browser (the shared ``browser`` fixture drives it)."""

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
from tests.web import board_world
from tests.web.board_world import PASSWORD, BoardWorld
from tests.web.conftest import _free_port, _Server, csrf_from


@pytest.fixture(scope="session")
def board_world_built(databases: Databases) -> BoardWorld:
    from safetynet import migrations

    url = databases.new_url()
    migrations.upgrade(url)
    return board_world.build(url)


@pytest.fixture(scope="session")
def board_app(board_world_built: BoardWorld) -> FastAPI:
    settings = WebSettings(
        database_url=board_world_built.url,
        secret_key="board-tests-secret-key",
        secure_cookies=False,
        clock=board_world_built.clock,
    )
    return create_app(settings)


@pytest.fixture
def board(board_world_built: BoardWorld) -> Iterator[BoardWorld]:
    board_world_built.reset_clock()
    yield board_world_built
    board_world_built.reset_clock()


@pytest.fixture
def board_client(board_app: FastAPI, board: BoardWorld) -> Iterator[TestClient]:
    with TestClient(board_app, follow_redirects=False) as made:
        yield made


def signed_in(client: TestClient, username: str) -> TestClient:
    page = client.get("/sign-in")
    answer = client.post(
        "/sign-in",
        data={"username": username, "password": PASSWORD, "csrf_token": csrf_from(page.text), "next": "/"},
    )
    assert answer.status_code == 303, answer.text[:300]
    return client


@pytest.fixture(scope="session")
def board_live_url(board_app: FastAPI) -> Iterator[str]:
    port = _free_port()
    config = uvicorn.Config(board_app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = _Server(config)
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
def board_page(browser: Any, board_live_url: str, board: BoardWorld) -> Iterator[Any]:
    # axe-core is injected as an inline script, which the pages' Content-Security-Policy rightly refuses.
    context = browser.new_context(base_url=board_live_url, bypass_csp=True)
    context.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/])"), lambda route: route.abort())
    made = context.new_page()
    made.set_default_timeout(10_000)
    yield made
    context.close()
