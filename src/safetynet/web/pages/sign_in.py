"""Signing in and out. The only page routes that need no session (sign-in's own CSRF token comes from a nonce
cookie set with the form, so a sign-in cannot be forged from another site either)."""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from safetynet.access import accounts
from safetynet.audit import service as audit
from safetynet.core.clock import LONDON
from safetynet.core.context import SYSTEM_ACTOR, Actor, Context, Role
from safetynet.core.db import unit_of_work as db_unit_of_work
from safetynet.record.org import service as org
from safetynet.web import auth, deps, oidc
from safetynet.web.auth import SignedIn, requires
from safetynet.web.templating import render

router = APIRouter(include_in_schema=False)

SIGNED_OUT = "You have signed out."
TOO_MANY = "Too many wrong sign-ins from this computer. Wait 15 minutes and try again"
EXPIRED = "Your session ended. Sign in again to carry on."


def _form(
    request: Request,
    *,
    errors: dict[str, str] | None = None,
    username: str = "",
    next_path: str = "/",
    notice: str | None = None,
    status: int = 200,
) -> Response:
    nonce = secrets.token_urlsafe(24)
    page = render(
        request,
        "sign_in.html",
        {
            "errors": errors or {},
            "username": username,
            "next": auth.safe_next(next_path),
            "notice": notice,
            "form_token": accounts.csrf_token(auth.key(request), nonce),
            "oidc": oidc.config(request) is not None,
        },
        status=status,
    )
    page.set_cookie(
        auth.SIGN_IN_COOKIE,
        nonce,
        httponly=True,
        secure=deps.settings(request).secure_cookies,
        samesite="lax",
        path="/sign-in",
    )
    return page


def form_page(request: Request, *, errors: dict[str, str], next_path: str = "/", status: int = 400) -> Response:
    """The sign-in page with these problems (for OpenID Connect sign-in's refusals)."""
    return _form(request, errors=errors, next_path=next_path, status=status)


@router.get("/sign-in")
def sign_in_page(request: Request, next: str = "/", signed_out: bool = False) -> Response:
    user = auth.signed_in(request)
    if user is not None:
        return RedirectResponse(auth.landing(next, user.role), status_code=303)
    had_session = bool(request.cookies.get(auth.SESSION_COOKIE))
    notice = SIGNED_OUT if signed_out else (EXPIRED if had_session else None)
    page = _form(request, next_path=next, notice=notice)
    if had_session:
        page.delete_cookie(auth.SESSION_COOKIE, path="/")
    return page


@router.post("/sign-in")
async def sign_in(
    request: Request,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    nonce = request.cookies.get(auth.SIGN_IN_COOKIE, "")
    if not accounts.csrf_matches(auth.key(request), nonce, csrf_token):
        return _form(
            request,
            errors={"username": "The sign-in form had expired: enter your username and password again"},
            username=username,
            next_path=next,
            status=400,
        )
    errors = {}
    if not username.strip():
        errors["username"] = "Enter your username"
    if not password:
        errors["password"] = "Enter your password"  # noqa: S105 (a message, not a password)
    if errors:
        return _form(request, errors=errors, username=username, next_path=next, status=400)
    limiter, address, now = auth.sign_in_limiter(request), auth.client_address(request), deps.clock(request).now()
    if limiter.blocked(address, now):
        return _form(request, errors={"username": TOO_MANY}, username=username, next_path=next, status=429)
    token, locked, role = await run_in_threadpool(_authenticate, request, username, password)
    if locked is not None:
        until = locked.astimezone(LONDON).strftime("%H:%M")
        message = f"Too many wrong attempts: sign-in for this username is locked until {until}. Try again then"
        return _form(request, errors={"username": message}, username=username, next_path=next, status=429)
    if token is None:
        limiter.failed(address, now)
        return _form(
            request,
            errors={"username": "The username or password is not right"},
            username=username,
            next_path=next,
            status=401,
        )
    page = RedirectResponse(auth.landing(next, role), status_code=303)
    page.set_cookie(
        auth.SESSION_COOKIE,
        token,
        httponly=True,
        secure=deps.settings(request).secure_cookies,
        samesite="lax",
        path="/",
    )
    page.delete_cookie(auth.SIGN_IN_COOKIE, path="/sign-in")
    return page


def _authenticate(request: Request, username: str, password: str) -> tuple[str | None, datetime | None, Role | None]:
    """A new session's token (or None), when a lockout ends if the username is locked, and the role signed in as.
    Every outcome is audited: ``sign_in``, ``sign_in_failed``, ``account_locked`` (the attempt that locks),
    ``sign_in_locked``."""
    with db_unit_of_work(deps.engine(request)) as session:
        ctx = Context(session, replace(SYSTEM_ACTOR, purpose="sign-in"), deps.clock(request))
        previous = request.cookies.get(auth.SESSION_COOKIE)
        if previous:
            accounts.end_session(ctx, previous, key=auth.key(request))
        detail = auth.failed_sign_in_detail(username)
        locked = auth.locked_until(ctx, username)
        if locked is not None:  # the password is not even checked while locked
            audit.record(ctx, action="sign_in_locked", entity="accounts", detail=detail)
            return None, locked, None
        account = accounts.authenticate(ctx, username, password)
        if account is None:
            audit.record(ctx, action="sign_in_failed", entity="accounts", detail=detail)
            session.flush()
            locked = auth.locked_until(ctx, username)
            if locked is not None:
                audit.record(
                    ctx, action="account_locked", entity="accounts", detail=f"{detail} until {locked.isoformat()}"
                )
            return None, locked, None
        staff = org.get_staff(ctx, account.staff_id)
        started = accounts.start_session(ctx, account, key=auth.key(request), lifetime=auth.lifetime(request))
        actor = Actor(name=staff.name, role=Role(staff.role), staff_id=staff.id, purpose="sign-in")
        audit.record(ctx.as_actor(actor), action="sign_in", entity="accounts", entity_id=account.id)
        return started.token, None, actor.role


@router.post("/sign-out")
def sign_out(request: Request, user: Annotated[SignedIn, requires("session.end")]) -> Response:
    with deps.unit_of_work(request, user.actor("sign-out")) as ctx:
        accounts.end_session(ctx, user.token, key=auth.key(request))
        audit.record(ctx, action="sign_out", entity="accounts", entity_id=user.account_id)
    page = RedirectResponse("/sign-in?signed_out=true", status_code=303)
    page.delete_cookie(auth.SESSION_COOKIE, path="/")
    return page
