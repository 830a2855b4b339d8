"""Who is signed in, and may they do this: ONE dependency, ``requires(action)``, guards every page route.

    @router.get("/people/{nhs_number}")
    def person(nhs_number: str, request: Request, user: Annotated[SignedIn, requires("person.view")]) -> Response:

``requires`` finds the session from its cookie (``access.accounts.resume``: idle and absolute expiry), checks the
CSRF token on every unsafe request (a hidden ``csrf_token`` form field, or the ``X-CSRF-Token`` header HTMX sends),
and checks the signed-in role against the action catalogue in ``access.decide``. Refusals:

- not signed in: a page request is redirected to ``/sign-in?next=...``; an HTMX or API request gets 401 (HTMX is
  told to go to the sign-in page with ``HX-Redirect``);
- signed in without the role: 403, a page saying so;
- a form without its CSRF token: 403, nothing written.

The security work (issue 7) replaces the role check with ``decide(actor, action, resource)`` here, in one place."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any, NamedTuple
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from safetynet.access import accounts
from safetynet.access.decide import ACTIONS, permitted
from safetynet.core.context import SYSTEM_ACTOR, Actor, Context, Role
from safetynet.core.db import unit_of_work as db_unit_of_work
from safetynet.core.errors import NotFound
from safetynet.record.org import service as org
from safetynet.web import deps

SESSION_COOKIE = "safetynet_session"
SIGN_IN_COOKIE = "safetynet_sign_in"  # the sign-in form's nonce (its CSRF token is derived from it)
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True, slots=True)
class SignedIn:
    """The member of staff behind this request's session; their role is their staff record's, read each request."""

    account_id: str
    username: str
    staff_id: str
    name: str
    role: Role
    team_id: str | None
    token: str
    csrf: str

    def actor(self, purpose: str = "direct care") -> Actor:
        return Actor(name=self.name, role=self.role, staff_id=self.staff_id, purpose=purpose)

    @property
    def role_name(self) -> str:
        return self.role.value.replace("_", " ")


class NotSignedIn(Exception):
    pass


class Refused(Exception):
    """Signed in, but not allowed: the wrong role, or a form without its CSRF token."""

    def __init__(self, title: str, message: str) -> None:
        super().__init__(message)
        self.title = title
        self.message = message


def idle(request: Request) -> timedelta:
    return timedelta(minutes=deps.settings(request).session_minutes)


def lifetime(request: Request) -> timedelta:
    return timedelta(hours=deps.settings(request).session_hours)


def key(request: Request) -> str:
    return deps.settings(request).secret_key


def signed_in(request: Request) -> SignedIn | None:
    """The session's user, or None. Looked up once per request (and the session touched, or ended if expired)."""
    if hasattr(request.state, "signed_in"):
        found: SignedIn | None = request.state.signed_in
        return found
    user = None
    token = request.cookies.get(SESSION_COOKIE, "")
    if token:
        with db_unit_of_work(deps.engine(request)) as session:
            ctx = Context(session, replace(SYSTEM_ACTOR, purpose="session check"), deps.clock(request))
            live = accounts.resume(ctx, token, key=key(request), idle=idle(request))
            if live is not None:
                _, account = live
                staff = org.get_staff(ctx, account.staff_id)
                if staff.active and staff.role in Role.__members__.values():
                    user = SignedIn(
                        account_id=account.id,
                        username=account.username,
                        staff_id=staff.id,
                        name=staff.name,
                        role=Role(staff.role),
                        team_id=staff.team_id,
                        token=token,
                        csrf=accounts.csrf_token(key(request), token),
                    )
    request.state.signed_in = user
    return user


async def _given_csrf(request: Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    form = await request.form()  # Starlette keeps the parsed form: the route's Form() parameters still see it
    value = form.get(CSRF_FIELD)
    return value if isinstance(value, str) else None


def requires(action: str) -> Any:
    """The dependency every page route declares: signed in, CSRF on unsafe methods, and allowed ``action``."""
    if action not in ACTIONS:
        raise KeyError(f"no action {action!r} in access.decide.ACTIONS")

    async def dependency(request: Request) -> SignedIn:
        user = await run_in_threadpool(signed_in, request)
        if user is None:
            raise NotSignedIn()
        if request.method in UNSAFE and not accounts.csrf_matches(key(request), user.token, await _given_csrf(request)):
            raise Refused(
                "This form could not be accepted",
                "The form was not sent from a current Safetynet page (its security token was missing or out of "
                "date). Nothing was saved. Go back, reload the page and try again.",
            )
        if not permitted(user.role, action):
            raise Refused(
                "You do not have access to this",
                f"Your role ({user.role_name}) does not allow this ({action}). "
                "If you need it for someone's care, ask your team manager.",
            )
        return user

    dependency.action = action  # type: ignore[attr-defined]  # the route table test reads it
    return Depends(dependency)


def action_of(dependency: Callable[..., Awaitable[SignedIn]]) -> str | None:
    """The action a ``requires`` dependency guards (None for any other dependency)."""
    return getattr(dependency, "action", None)


def wants_page(request: Request) -> bool:
    """A browser page load (redirect it) rather than HTMX or a program (tell it 401)."""
    if request.headers.get("HX-Request") or request.url.path.startswith("/api/"):
        return False
    return "text/html" in request.headers.get("accept", "text/html") or request.method not in UNSAFE


def sign_in_url(request: Request) -> str:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return "/sign-in" if here == "/" else f"/sign-in?next={quote(here, safe='/')}"


def safe_next(value: str | None) -> str:
    """Only a path on this site (no scheme, no host, no ``//``): a sign-in must never redirect elsewhere."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def install(app: FastAPI) -> None:
    """The refusals' responses, for every router."""
    from safetynet.web.templating import render

    @app.exception_handler(NotSignedIn)
    async def not_signed_in(request: Request, _exc: NotSignedIn) -> Response:
        if wants_page(request):
            return RedirectResponse(sign_in_url(request), status_code=303)
        return JSONResponse(
            {"detail": "Sign in first."},
            status_code=401,
            headers={"HX-Redirect": "/sign-in", "WWW-Authenticate": 'Cookie realm="Safetynet"'},
        )

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused) -> Response:
        if request.headers.get("HX-Request"):
            # HTMX swaps nothing on a 4xx; send the whole page so the user sees why (hx-target body).
            headers = {"HX-Retarget": "body", "HX-Reswap": "innerHTML"}
            page = render(request, "refused.html", {"title": exc.title, "message": exc.message}, status=403)
            page.headers.update(headers)
            return page
        return render(request, "refused.html", {"title": exc.title, "message": exc.message}, status=403)

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> Response:
        if "text/html" not in request.headers.get("accept", ""):  # an API caller: no page
            return JSONResponse({"detail": str(exc)}, status_code=404)
        return render(request, "not_found.html", {"message": str(exc)}, status=404)


class RouteRow(NamedTuple):
    method: str
    path: str
    action: str | None
    module: str  # where the endpoint is defined: pages are in safetynet.web.pages


def route_table(app: FastAPI) -> list[RouteRow]:
    """(method, path, action, module) for every API route of the app, in included routers too: the access matrix's rows.
    ``action`` is None for a route that declares no ``requires`` (public, or guarded another way, like FHIR)."""
    from fastapi.routing import APIRoute

    def walk(routes: list[Any]) -> list[APIRoute]:
        found: list[APIRoute] = []
        for route in routes:
            if isinstance(route, APIRoute):
                found.append(route)
            elif hasattr(route, "original_router"):  # FastAPI keeps included routers as they are
                found += walk(route.original_router.routes)
        return found

    table = []
    for route in walk(list(app.routes)):
        actions = [a for d in route.dependant.dependencies if d.call and (a := action_of(d.call))]
        for method in sorted(route.methods or ()):
            table.append(RouteRow(method, route.path, actions[0] if actions else None, route.endpoint.__module__))
    return table
