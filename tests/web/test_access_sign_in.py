"""Sign-in lockout and rate limiting: five wrong passwords for a username lock it for 15 minutes (the password is
not even checked meanwhile), a successful sign-in starts the count again, a username that does not exist locks the
same way, and too many wrong sign-ins from one address are refused whatever the username. Every step is audited."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from safetynet.audit.models import AuditEvent
from safetynet.core.db import make_engine
from safetynet.web import auth
from safetynet.web.app import create_app
from safetynet.web.settings import WebSettings
from tests.conftest import Databases
from tests.web import access_world
from tests.web.access_world import SECRET, AccessWorld
from tests.web.conftest import sign_in
from tests.web.world import PASSWORD

WRONG = "not the password at all"


@pytest.fixture(scope="module")
def lock_world(databases: Databases) -> AccessWorld:
    from safetynet import migrations

    url = databases.new_url()
    migrations.upgrade(url)
    return access_world.build(url)


@pytest.fixture
def lock_app(lock_world: AccessWorld) -> FastAPI:
    """A new app per test: a fresh per-address limiter."""
    return create_app(
        WebSettings(database_url=lock_world.url, secret_key=SECRET, secure_cookies=False, clock=lock_world.clock)
    )


@pytest.fixture
def client(lock_app: FastAPI, lock_world: AccessWorld) -> Iterator[TestClient]:
    lock_world.web.reset_clock()
    with TestClient(lock_app, follow_redirects=False) as made:
        yield made
    lock_world.web.reset_clock()


def _events(world: AccessWorld, action: str, username: str) -> int:
    engine = make_engine(world.url)
    with engine.connect() as connection:
        found = connection.execute(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == action, AuditEvent.detail.startswith(f"username {username!r}"))
        ).scalar_one()
    engine.dispose()
    return int(found)


def _attempt(client: TestClient, world: AccessWorld, username: str, password: str) -> Any:
    client.cookies.clear()
    world.clock.advance(timedelta(seconds=10))
    return sign_in(client, username, password)


def test_five_wrong_passwords_lock_the_username_for_15_minutes(client: TestClient, lock_world: AccessWorld) -> None:
    answers = [_attempt(client, lock_world, "lee", WRONG).status_code for _ in range(5)]
    assert answers == [401, 401, 401, 401, 429]  # the fifth says the username is now locked
    locked = _attempt(client, lock_world, "lee", PASSWORD)  # even the right password
    assert locked.status_code == 429
    assert "locked until" in locked.text
    assert "There is a problem" in locked.text
    assert auth.SESSION_COOKIE not in locked.headers.get("set-cookie", "")
    assert _events(lock_world, "sign_in_failed", "lee") == 5
    assert _events(lock_world, "account_locked", "lee") == 1
    assert _events(lock_world, "sign_in_locked", "lee") == 1
    lock_world.clock.advance(auth.LOCKOUT_WINDOW)
    assert _attempt(client, lock_world, "lee", PASSWORD).status_code == 303


def test_a_successful_sign_in_starts_the_count_again(client: TestClient, lock_world: AccessWorld) -> None:
    assert [_attempt(client, lock_world, "pat", WRONG).status_code for _ in range(4)] == [401] * 4
    assert _attempt(client, lock_world, "pat", PASSWORD).status_code == 303
    assert [_attempt(client, lock_world, "pat", WRONG).status_code for _ in range(4)] == [401] * 4
    assert _attempt(client, lock_world, "PAT", PASSWORD).status_code == 303  # usernames are not case-sensitive


def test_a_username_that_does_not_exist_locks_just_the_same(client: TestClient, lock_world: AccessWorld) -> None:
    answers = [_attempt(client, lock_world, "no.such.person", WRONG) for _ in range(6)]
    assert [a.status_code for a in answers] == [401, 401, 401, 401, 429, 429]
    assert "locked until" in answers[-1].text


def test_too_many_wrong_sign_ins_from_one_address_are_refused_whatever_the_username(
    client: TestClient, lock_world: AccessWorld, lock_app: FastAPI
) -> None:
    lock_app.state.sign_in_limiter = auth.FailureLimiter(limit=3, window=timedelta(minutes=15))
    for username in ("sam", "gina", "paul"):  # a spray: one guess each
        assert _attempt(client, lock_world, username, WRONG).status_code == 401
    refused = _attempt(client, lock_world, "dana", PASSWORD)
    assert refused.status_code == 429
    assert "Too many wrong sign-ins from this computer" in refused.text
    lock_world.clock.advance(timedelta(minutes=15))
    assert _attempt(client, lock_world, "dana", PASSWORD).status_code == 303


def test_the_limiter_forgets_attempts_outside_its_window() -> None:
    from datetime import UTC, datetime

    limiter = auth.FailureLimiter(limit=2, window=timedelta(minutes=1))
    start = datetime(2026, 1, 1, tzinfo=UTC)
    limiter.failed("10.0.0.1", start)
    limiter.failed("10.0.0.1", start + timedelta(seconds=30))
    assert limiter.blocked("10.0.0.1", start + timedelta(seconds=31))
    assert not limiter.blocked("10.0.0.2", start + timedelta(seconds=31))
    assert not limiter.blocked("10.0.0.1", start + timedelta(seconds=61))
