"""Local accounts, passwords and server-side sessions. Services take a ``Context`` and never commit.

- Passwords are hashed with argon2id (argon2-cffi's defaults, RFC 9106's low-memory profile) and rehashed when the
  parameters change. A sign-in for an unknown username still costs one hash, so timing does not reveal usernames.
- A session is a random 256-bit token in a cookie; the database keeps only its HMAC under the server's secret key
  (a restart with a new random key ends every session). It ends after ``idle`` without a request, at its absolute
  end whatever the use, or when the user signs out (the row is deleted).
- The CSRF token of a session is derived from its token (HMAC), so it changes with every sign-in and needs no
  storage."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select

from safetynet.access.models import Account, AccountSession
from safetynet.core.context import Context
from safetynet.core.errors import Problem, ValidationFailed

HASHER = PasswordHasher()  # argon2id
MIN_PASSWORD = 12  # NCSC: length over complexity
MAX_PASSWORD = 256
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}$")
TOUCH_EVERY = timedelta(seconds=60)  # how stale last_seen_at may be before a request writes it again
_DUMMY_HASH = HASHER.hash("not a real password: spends the time of a real check")


@dataclass(frozen=True, slots=True)
class Started:
    """A new session: the token goes in the cookie and is never stored."""

    token: str
    session: AccountSession


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def check_password(password: str) -> list[Problem]:
    problems = []
    if len(password) < MIN_PASSWORD:
        problems.append(Problem("password", f"a password must be at least {MIN_PASSWORD} characters long"))
    if len(password) > MAX_PASSWORD:
        problems.append(Problem("password", f"a password must be at most {MAX_PASSWORD} characters long"))
    return problems


def normalise_username(username: str) -> str:
    return username.strip().lower()


def create(
    ctx: Context,
    *,
    staff_id: str,
    username: str,
    password: str,
    organisation: str | None = None,
    carer_patient_id: str | None = None,
    carer_fact_id: str | None = None,
) -> Account:
    """An account for a member of staff (one each). Every problem is reported at once; nothing is written.

    ``organisation`` and the carer link are for partners and families (``record.channels.create_account`` checks
    them against the role)."""
    name = normalise_username(username)
    problems = check_password(password)
    if not USERNAME.match(name):
        problems.append(
            Problem("username", "a username is 2 to 63 letters, digits, dots, dashes or underscores, in lower case")
        )
    elif find(ctx, name) is not None:
        problems.append(Problem("username", f"the username {name!r} is taken"))
    if ctx.session.scalars(select(Account).where(Account.staff_id == staff_id)).first() is not None:
        problems.append(Problem("staff", "this member of staff already has an account"))
    if problems:
        raise ValidationFailed(problems)
    now = ctx.clock.now()
    account = Account(
        id=ctx.ids.new_id(),
        username=name,
        staff_id=staff_id,
        password_hash=hash_password(password),
        created_at=now,
        password_changed_at=now,
        organisation=organisation,
        carer_patient_id=carer_patient_id,
        carer_fact_id=carer_fact_id,
    )
    ctx.session.add(account)
    return account


def set_password(ctx: Context, account: Account, password: str) -> None:
    """A new password; every session of the account ends."""
    problems = check_password(password)
    if problems:
        raise ValidationFailed(problems)
    account.password_hash = hash_password(password)
    account.password_changed_at = ctx.clock.now()
    end_all_sessions(ctx, account.id)


def find(ctx: Context, username: str) -> Account | None:
    return ctx.session.scalars(select(Account).where(Account.username == normalise_username(username))).first()


def for_staff(ctx: Context, staff_id: str) -> Account | None:
    return ctx.session.scalars(select(Account).where(Account.staff_id == staff_id)).first()


def authenticate(ctx: Context, username: str, password: str) -> Account | None:
    """The account if the password is right and the account is enabled; None otherwise (never says which)."""
    account = find(ctx, username)
    if account is None or len(password) > MAX_PASSWORD:
        _verify(_DUMMY_HASH, password[:MAX_PASSWORD])
        return None
    if not _verify(account.password_hash, password) or account.disabled_at is not None:
        return None
    if HASHER.check_needs_rehash(account.password_hash):
        account.password_hash = hash_password(password)
    account.last_signed_in_at = ctx.clock.now()
    return account


def _verify(stored: str, password: str) -> bool:
    try:
        return HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def token_hash(key: str, token: str) -> str:
    return hmac.new(key.encode(), f"session:{token}".encode(), hashlib.sha256).hexdigest()


def start_session(ctx: Context, account: Account, *, key: str, lifetime: timedelta) -> Started:
    token = secrets.token_urlsafe(32)
    now = ctx.clock.now()
    session = AccountSession(
        id=ctx.ids.new_id(),
        token_hash=token_hash(key, token),
        account_id=account.id,
        created_at=now,
        last_seen_at=now,
        expires_at=now + lifetime,
    )
    ctx.session.add(session)
    return Started(token, session)


def resume(ctx: Context, token: str, *, key: str, idle: timedelta) -> tuple[AccountSession, Account] | None:
    """The live session for this token and its account, touched; None (and the session deleted) if it has ended."""
    if not token:
        return None
    found = ctx.session.execute(
        select(AccountSession, Account)
        .join(Account, Account.id == AccountSession.account_id)
        .where(AccountSession.token_hash == token_hash(key, token))
    ).first()
    if found is None:
        return None
    session, account = found._tuple()
    now = ctx.clock.now()
    if now >= session.expires_at or now >= session.last_seen_at + idle or account.disabled_at is not None:
        ctx.session.delete(session)
        return None
    if now - session.last_seen_at >= TOUCH_EVERY:
        session.last_seen_at = now
    return session, account


def end_session(ctx: Context, token: str, *, key: str) -> bool:
    """Sign out: delete the session. True if there was one."""
    result = ctx.session.execute(delete(AccountSession).where(AccountSession.token_hash == token_hash(key, token)))
    return bool(getattr(result, "rowcount", 0))


def end_all_sessions(ctx: Context, account_id: str) -> None:
    ctx.session.execute(delete(AccountSession).where(AccountSession.account_id == account_id))


def purge_expired(ctx: Context, *, idle: timedelta) -> None:
    now = ctx.clock.now()
    ctx.session.execute(
        delete(AccountSession).where((AccountSession.expires_at <= now) | (AccountSession.last_seen_at <= now - idle))
    )


def csrf_token(key: str, token: str) -> str:
    """The CSRF token that goes with a session (or a sign-in form's nonce): derived, never stored."""
    return hmac.new(key.encode(), f"csrf:{token}".encode(), hashlib.sha256).hexdigest()


def csrf_matches(key: str, token: str, given: str | None) -> bool:
    return bool(token) and given is not None and hmac.compare_digest(csrf_token(key, token), given)
