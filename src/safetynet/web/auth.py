"""Who is signed in, and may they do this: ONE dependency, ``requires(action)``, guards every page route.

    @router.get("/people/{nhs_number}")
    def person(nhs_number: str, request: Request, user: Annotated[SignedIn, requires("person.view")]) -> Response:

``requires`` finds the session from its cookie (``access.accounts.resume``: idle and absolute expiry), checks the
CSRF token on every unsafe request (a hidden ``csrf_token`` form field, or the ``X-CSRF-Token`` header HTMX sends),
and asks ``access.decide`` whether the signed-in member of staff may take the action:

- ``service`` and ``session`` actions: the role decides (``decide`` with no person);
- ``person`` actions: the person is the route's ``nhs_number`` path parameter, or the person whose task
  ``task_id`` is; ``record.relationships.check`` loads the actor's relationships to them (caseload, key worker,
  a live break-glass grant) and calls ``decide``. The decision rides on ``SignedIn.access``, and an access by
  break-glass or for oversight says so in the purpose of every audit event the route writes (``SignedIn.actor``);
- ``shared`` and ``tell`` actions (partner and family channels): the role is checked here; the handler knows the
  share or the person being told about, and calls ``check_person`` (or ``refuse_unless``), the same decision.

Refusals:

- not signed in: a page request is redirected to ``/sign-in?next=...``; an HTMX or API request gets 401 (HTMX is
  told to go to the sign-in page with ``HX-Redirect``);
- signed in but refused: 403, a page giving the decision's reason; a clinician refused a person's record for want
  of a relationship is offered break-glass (``web.pages.access``), and the refusal is audited;
- a form without its CSRF token: 403, nothing written;
- a person or task that does not exist: 404."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, NamedTuple
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool

from safetynet.access import accounts
from safetynet.access.decide import (
    ACTIONS,
    BREAK_GLASS_ACTIONS,
    TASK_ACTIONS,
    Basis,
    Decision,
    Resource,
    Scope,
    decide,
    permitted,
)
from safetynet.audit import service as audit
from safetynet.audit.models import AuditEvent
from safetynet.core.context import SYSTEM_ACTOR, Actor, Context, Role
from safetynet.core.db import unit_of_work as db_unit_of_work
from safetynet.core.errors import NotFound, ValidationFailed
from safetynet.record import relationships
from safetynet.record.org import service as org
from safetynet.record.patients import service as patients
from safetynet.tasks import service as tasks
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
    access: Decision | None = None  # the decision on this request's person (``person`` actions only)

    def actor(self, purpose: str = "direct care") -> Actor:
        """The actor for this request's unit of work. Access by break-glass or for oversight is named in the purpose,
        so every audit event the route writes (each read of the record) carries its basis and grant."""
        if self.access is not None and self.access.basis is Basis.BREAK_GLASS:
            purpose = f"{purpose} [break-glass grant {self.access.break_glass_grant}]"
        elif self.access is not None and self.access.basis is Basis.OVERSIGHT:
            purpose = f"{purpose} [safety lead oversight]"
        return Actor(name=self.name, role=self.role, staff_id=self.staff_id, purpose=purpose)

    @property
    def role_name(self) -> str:
        return self.role.value.replace("_", " ")


class NotSignedIn(Exception):
    pass


class Refused(Exception):
    """Signed in, but not allowed: refused by ``decide``, or a form without its CSRF token. ``break_glass`` is the
    NHS number of a person whose record the clinician may open by breaking the glass (the page offers it)."""

    def __init__(self, title: str, message: str, *, break_glass: str | None = None) -> None:
        super().__init__(message)
        self.title = title
        self.message = message
        self.break_glass = break_glass


NO_ACCESS = "You do not have access to this"


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
    """The dependency every page route declares: signed in, CSRF on unsafe methods, and ``decide`` allows ``action``
    (on the route's person, for a ``person`` action)."""
    if action not in ACTIONS:
        raise KeyError(f"no action {action!r} in access.decide.ACTIONS")
    scope = ACTIONS[action].scope

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
        if scope is Scope.PERSON and ("nhs_number" in request.path_params or "task_id" in request.path_params):
            decision = await run_in_threadpool(_decide_on_person, request, user, action)
            user = replace(user, access=decision)
            request.state.signed_in = user  # templates and later dependencies see the decision too
            return user
        if scope in (Scope.SHARED, Scope.TELL):
            # The role is checked here; the handler then checks the share or the person told about (``check_person``).
            if not permitted(user.role, action):
                refuse_unless(user, action, decide(user.actor(), action, Resource.person("")))
            return user
        # Session and service actions: the role decides. A person action on a route naming no person is refused
        # (fail closed): put the person in the path.
        refuse_unless(user, action, decide(user.actor(), action, Resource.service()))
        return user

    dependency.action = action  # type: ignore[attr-defined]  # the route table test reads it
    return Depends(dependency)


def _decide_on_person(request: Request, user: SignedIn, action: str) -> Decision:
    """Resolve the route's person (by NHS number, or the task's person), decide, and audit a refusal."""
    params = request.path_params
    with db_unit_of_work(deps.engine(request)) as session:
        ctx = Context(session, user.actor(f"access check: {action}"), deps.clock(request))
        nhs_number = params.get("nhs_number")
        if nhs_number is not None:
            try:
                patient = patients.find(ctx, nhs_number)
            except ValidationFailed:
                patient = None
            if patient is None:
                raise NotFound(f"no person with NHS number {nhs_number}")
            patient_id = patient.id
        else:
            task = tasks.get(ctx, params["task_id"])
            patient_id = task.patient_id
            nhs_number = None
        decision = relationships.check(ctx, action, patient_id)
        if not decision.allowed and action in TASK_ACTIONS and tasks.held_by(ctx, patient_id):
            decision = relationships.check(ctx, action, patient_id, task_holder=True)
        if not decision.allowed:
            audit.record(
                ctx,
                action="access_refused",
                entity="access",
                patient_id=patient_id,
                detail=f"{action}: {decision.reason}",
            )
    if not decision.allowed:
        offer = nhs_number if action in BREAK_GLASS_ACTIONS and permitted(user.role, "break_glass.open") else None
        raise Refused(NO_ACCESS, _refusal(user, action, decision), break_glass=offer)
    return decision


def _refusal(user: SignedIn, action: str, decision: Decision) -> str:
    reason = decision.reason[0].upper() + decision.reason[1:]
    if reason[:3] in ("A a", "A e", "A i", "A o", "A u"):  # decide says "a administrator"
        reason = "An" + reason[1:]
    return f"{reason}. Your role is {user.role_name}; this needed {action}."


def refuse_unless(user: SignedIn, action: str, decision: Decision) -> Decision:
    """The decision if allowed; otherwise the 403 refusal page with its reason."""
    if not decision.allowed:
        raise Refused(NO_ACCESS, _refusal(user, action, decision))
    return decision


def check_person(
    ctx: Context, user: SignedIn, action: str, patient_id: str, *, organisation: str | None = None
) -> Decision:
    """The hook for ``shared`` and ``tell`` handlers (partner and family channels, whose person comes in the form):
    ``decide`` with the actor's relationships to this person, refused with the page if not allowed. ``ctx`` must act
    as ``user`` (``deps.unit_of_work(request, user.actor(...))``)."""
    return refuse_unless(user, action, relationships.check(ctx, action, patient_id, organisation=organisation))


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


# Where each role starts: partners and families have their own channels and no My work.
HOMES = {
    Role.GP_PARTNER: "/partners",
    Role.POLICE_LIAISON: "/partners",
    Role.FAMILY_MEMBER: "/family",
    Role.NATIONAL_ANALYST: "/national",
}


def home_for(role: Role | None) -> str:
    """The page a role starts on (after sign-in, and the header's and refusal page's home link)."""
    return HOMES.get(role, "/") if role is not None else "/"


def landing(next_path: str | None, role: Role | None) -> str:
    """Where to go after signing in: the page asked for, or the role's home when none was (``next`` is ``/``)."""
    target = safe_next(next_path)
    return home_for(role) if target == "/" else target


def safe_next(value: str | None) -> str:
    """Only a path on this site (no scheme, no host, no ``//``): a sign-in must never redirect elsewhere."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


# Sign-in lockout: this many wrong attempts for one username within the window (since its last successful sign-in)
# lock it for the window after the last of them. Counted from the audit trail, so it holds across restarts and
# servers, and applies alike to usernames that do not exist (a lock must not tell an attacker which do).
LOCKOUT_FAILURES = 5
LOCKOUT_WINDOW = timedelta(minutes=15)
# Per-address limit on wrong sign-ins, whatever the username (password spraying): in memory, per server process.
RATE_LIMIT_FAILURES = 50
RATE_LIMIT_WINDOW = timedelta(minutes=15)


def failed_sign_in_detail(username: str) -> str:
    """The audit detail of a failed sign-in: the username as it is looked up (lockout counts by it)."""
    return f"username {accounts.normalise_username(username)[:100]!r}"


def locked_until(ctx: Context, username: str) -> datetime | None:
    """When this username's lockout ends, or None if it is not locked (``LOCKOUT_FAILURES`` wrong attempts within
    ``LOCKOUT_WINDOW`` and since the account last signed in)."""
    now = ctx.clock.now()
    since = now - LOCKOUT_WINDOW
    account = accounts.find(ctx, username)
    if account is not None:
        # Only a sign-in within the window matters, so only the window is read (on the index of ``at``): unbounded,
        # an account's first sign-in read the trust's whole audit trail (millions of events) looking for its last.
        last_ok = ctx.session.scalar(
            select(func.max(AuditEvent.at)).where(
                AuditEvent.at >= since,
                AuditEvent.action == "sign_in",
                AuditEvent.entity == "accounts",
                AuditEvent.entity_id == account.id,
            )
        )
        if last_ok is not None and last_ok >= since:
            since = last_ok
    failures = list(
        ctx.session.scalars(
            select(AuditEvent.at)
            .where(
                AuditEvent.at > since,
                AuditEvent.at <= now,
                AuditEvent.action == "sign_in_failed",
                AuditEvent.detail == failed_sign_in_detail(username),
            )
            .order_by(AuditEvent.at.desc())
            .limit(LOCKOUT_FAILURES)
        )
    )
    if len(failures) < LOCKOUT_FAILURES:
        return None
    return failures[0] + LOCKOUT_WINDOW


class FailureLimiter:
    """Wrong sign-ins per client address in a sliding window, in memory (thread-safe; forgets idle addresses)."""

    def __init__(self, limit: int = RATE_LIMIT_FAILURES, window: timedelta = RATE_LIMIT_WINDOW) -> None:
        self.limit = limit
        self.window = window
        self._seen: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()

    def _prune(self, address: str, now: datetime) -> deque[datetime]:
        times = self._seen.setdefault(address, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def blocked(self, address: str, now: datetime) -> bool:
        with self._lock:
            blocked = len(self._prune(address, now)) >= self.limit
            if not self._seen[address]:
                del self._seen[address]
            return blocked

    def failed(self, address: str, now: datetime) -> None:
        with self._lock:
            self._prune(address, now).append(now)
            if len(self._seen) > 10_000:  # a sweep now and then keeps memory bounded
                for other in [a for a, t in self._seen.items() if not t or t[-1] <= now - self.window]:
                    del self._seen[other]


def client_address(request: Request) -> str:
    """The caller's address (behind a reverse proxy, run uvicorn with ``--proxy-headers``, docs/security.md)."""
    return request.client.host if request.client else "unknown"


def sign_in_limiter(request: Request) -> FailureLimiter:
    limiter: FailureLimiter = request.app.state.sign_in_limiter
    return limiter


def install(app: FastAPI) -> None:
    """The refusals' responses, for every router; the sign-in rate limiter."""
    from safetynet.web.templating import render

    app.state.sign_in_limiter = FailureLimiter()

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
        values = {"title": exc.title, "message": exc.message}
        template = "refused.html"
        if exc.break_glass:  # a clinician without a relationship: offer break-glass, back to this page after
            template = "access/refused_person.html"
            here = request.url.path if request.method == "GET" else f"/people/{exc.break_glass}"
            values |= {"nhs_number": exc.break_glass, "next": here}
        page = render(request, template, values, status=403)
        if request.headers.get("HX-Request"):
            # HTMX swaps nothing on a 4xx; send the whole page so the user sees why (hx-target body).
            page.headers.update({"HX-Retarget": "body", "HX-Reswap": "innerHTML"})
        return page

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
