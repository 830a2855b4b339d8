"""Fixtures for the team board and trust safety tests: their own world's database, the app on its fixed clock
through TestClient, and the app under uvicorn for the browser (the shared ``browser`` fixture drives it)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from safetynet.web.app import create_app
from safetynet.web.settings import WebSettings
from tests.conftest import Databases
from tests.web import board_world
from tests.web.board_world import PASSWORD, BoardWorld
from tests.web.conftest import browser_page, csrf_from, serving


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
    with serving(board_app) as url:
        yield url


@pytest.fixture
def board_page(browser: Any, board_live_url: str, board: BoardWorld) -> Iterator[Any]:
    with browser_page(browser, board_live_url) as made:
        yield made
