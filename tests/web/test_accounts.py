"""Accounts and sessions in the access layer: argon2id hashes, sessions stored hashed, idle and absolute expiry,
sign-out, and CSRF tokens bound to the session."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from safetynet.access import accounts
from safetynet.access.models import Account, AccountSession
from safetynet.core.clock import FixedClock
from safetynet.core.context import Context
from safetynet.core.errors import ValidationFailed
from tests.factories import world

KEY = "test-secret-key"
IDLE = timedelta(minutes=30)
PASSWORD = "a long synthetic password"


def _account(ctx: Context) -> Account:
    w = world(ctx)
    return accounts.create(ctx, staff_id=w.key_worker.id, username="Jo.Smith", password=PASSWORD)


def test_a_password_is_stored_only_as_an_argon2id_hash_and_checks(ctx: Context) -> None:
    account = _account(ctx)
    assert account.username == "jo.smith"
    assert account.password_hash.startswith("$argon2id$")
    assert PASSWORD not in account.password_hash
    assert accounts.authenticate(ctx, "JO.SMITH", PASSWORD) is account
    assert accounts.authenticate(ctx, "jo.smith", PASSWORD + "x") is None
    assert accounts.authenticate(ctx, "nobody", PASSWORD) is None


def test_a_short_password_a_bad_username_and_a_second_account_are_all_refused_at_once(ctx: Context) -> None:
    account = _account(ctx)
    with pytest.raises(ValidationFailed) as refused:
        accounts.create(ctx, staff_id=account.staff_id, username="x y", password="short")
    fields = {p.field for p in refused.value.problems}
    assert fields == {"password", "username", "staff"}


def test_a_disabled_account_cannot_sign_in(ctx: Context) -> None:
    account = _account(ctx)
    account.disabled_at = ctx.clock.now()
    assert accounts.authenticate(ctx, "jo.smith", PASSWORD) is None


def test_the_session_token_is_stored_only_as_a_keyed_hash(ctx: Context) -> None:
    started = accounts.start_session(ctx, _account(ctx), key=KEY, lifetime=timedelta(hours=12))
    ctx.session.flush()
    stored = ctx.session.scalars(select(AccountSession.token_hash)).all()
    assert started.token not in stored
    assert accounts.token_hash(KEY, started.token) in stored
    assert accounts.resume(ctx, started.token, key="another key", idle=IDLE) is None


def test_a_session_ends_after_the_idle_time_and_its_row_is_deleted(ctx: Context, clock: FixedClock) -> None:
    started = accounts.start_session(ctx, _account(ctx), key=KEY, lifetime=timedelta(hours=12))
    clock.advance(timedelta(minutes=29))
    assert accounts.resume(ctx, started.token, key=KEY, idle=IDLE) is not None
    clock.advance(timedelta(minutes=29))  # touched at 29 minutes: still alive at 58
    assert accounts.resume(ctx, started.token, key=KEY, idle=IDLE) is not None
    clock.advance(timedelta(minutes=30))
    assert accounts.resume(ctx, started.token, key=KEY, idle=IDLE) is None
    ctx.session.flush()
    assert ctx.session.scalars(select(AccountSession)).all() == []


def test_a_busy_session_still_ends_at_its_absolute_lifetime(ctx: Context, clock: FixedClock) -> None:
    started = accounts.start_session(ctx, _account(ctx), key=KEY, lifetime=timedelta(hours=2))
    for _ in range(5):
        clock.advance(timedelta(minutes=20))
        assert accounts.resume(ctx, started.token, key=KEY, idle=IDLE) is not None
    clock.advance(timedelta(minutes=20))  # 2 h after sign-in
    assert accounts.resume(ctx, started.token, key=KEY, idle=IDLE) is None


def test_signing_out_deletes_the_session(ctx: Context) -> None:
    started = accounts.start_session(ctx, _account(ctx), key=KEY, lifetime=timedelta(hours=12))
    ctx.session.flush()
    assert accounts.end_session(ctx, started.token, key=KEY)
    assert accounts.resume(ctx, started.token, key=KEY, idle=IDLE) is None


def test_a_new_password_ends_every_session(ctx: Context) -> None:
    account = _account(ctx)
    started = accounts.start_session(ctx, account, key=KEY, lifetime=timedelta(hours=12))
    ctx.session.flush()
    accounts.set_password(ctx, account, "another long password")
    assert accounts.resume(ctx, started.token, key=KEY, idle=IDLE) is None
    assert accounts.authenticate(ctx, "jo.smith", "another long password") is account


def test_the_csrf_token_belongs_to_one_session_and_one_key() -> None:
    token = accounts.csrf_token(KEY, "session-a")
    assert accounts.csrf_matches(KEY, "session-a", token)
    assert not accounts.csrf_matches(KEY, "session-b", token)
    assert not accounts.csrf_matches("other key", "session-a", token)
    assert not accounts.csrf_matches(KEY, "session-a", None)
    assert not accounts.csrf_matches(KEY, "", accounts.csrf_token(KEY, ""))
