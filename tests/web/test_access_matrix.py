"""The access matrix: every route of the app (``web.auth.route_table``) against every persona, each request made
for real through the app, each answer checked against what ``access.decide`` says for that persona.

- A route must declare its action, or be one of the few that are public; a new page route without one fails here.
- ``service`` and ``session`` actions: the role decides. ``person`` actions: the route's person (``OTHER``, on CMHT
  North's caseload, Chris Taylor their key worker) and the persona's relationships to them decide.
- ``shared`` and ``tell`` actions: the role is checked by ``requires``, so a persona whose role may not take the
  action is refused; the handler then checks the partner's organisation, the share or the person with the same
  ``decide`` (the channels' own tests cover that), so a persona whose role may is only required not to be sent to
  sign in.
- The HTTP APIs (FHIR, CDS Hooks) take a record system's bearer token: a signed-in session opens none of them.

Allowed requests send empty forms (and the real CSRF token): forms validate before any write, so the matrix changes
nothing but sessions; each request gets a fresh session, so signing out does not end the next row's."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from safetynet.access.decide import ACTIONS, Decision, Resource, Scope, decide, permitted
from safetynet.core.context import Context
from safetynet.web import auth
from safetynet.web.app import create_app
from safetynet.web.auth import RouteRow
from safetynet.web.settings import WebSettings
from tests.conftest import Databases
from tests.web import access_world
from tests.web.access_world import SECRET, AccessWorld, Persona
from tests.web.world import OTHER

PUBLIC_PAGES = {("GET", "/sign-in"), ("POST", "/sign-in")}
API_MODULES = ("safetynet.web.fhir", "safetynet.web.cds_hooks")
SIGN_IN_MODULES = ("safetynet.web.oidc",)  # OpenID Connect sign-in: public, the same for everyone


@pytest.fixture(scope="module")
def matrix_world(databases: Databases) -> AccessWorld:
    from safetynet import migrations

    url = databases.new_url()
    migrations.upgrade(url)
    return access_world.build(url)


@pytest.fixture(scope="module")
def matrix_app(matrix_world: AccessWorld) -> FastAPI:
    settings = WebSettings(
        database_url=matrix_world.url, secret_key=SECRET, secure_cookies=False, clock=matrix_world.clock
    )
    return create_app(settings)


@pytest.fixture
def client(matrix_app: FastAPI, matrix_world: AccessWorld) -> Iterator[TestClient]:
    matrix_world.web.reset_clock()
    with TestClient(matrix_app, follow_redirects=False) as made:
        yield made


def _url(row: RouteRow, world: AccessWorld) -> str:
    values = {
        "nhs_number": OTHER,
        "task_id": world.web.task_ids[OTHER],
        "concern_id": world.web.concern_ids[OTHER],
    }
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: values.get(m.group(1), "x"), row.path)


def _expected(row: RouteRow, persona: Persona) -> Decision:
    assert row.action is not None
    assert persona.actor is not None
    spec = ACTIONS[row.action]
    names_person = "{nhs_number}" in row.path or "{task_id}" in row.path
    if spec.scope is Scope.PERSON:
        resource = Resource.person("the person") if names_person else Resource()
    elif spec.scope in (Scope.SHARED, Scope.TELL):
        # ``requires`` decides only the role; the handler decides the share or the person (its own tests).
        if permitted(persona.actor.role, row.action):
            return Decision(True, "the role may take this action; the handler checks the rest")
        resource = Resource.person("")
    else:
        resource = Resource.service()
    return decide(persona.actor, row.action, resource, persona.relationships)


def _ask(client: TestClient, world: AccessWorld, row: RouteRow, persona: Persona) -> tuple[int, str]:
    client.cookies.clear()
    data = {}
    if persona.username is not None:
        csrf = world.sign_in(client, persona.username)
        data = {"csrf_token": csrf}
    answer = client.request(row.method, _url(row, world), data=data if row.method != "GET" else None)
    return answer.status_code, answer.text


def test_every_page_route_declares_an_action_from_the_catalogue_or_is_public(matrix_app: FastAPI) -> None:
    undeclared = [
        (r.method, r.path)
        for r in auth.route_table(matrix_app)
        if r.module.startswith("safetynet.web.pages") and r.action is None and (r.method, r.path) not in PUBLIC_PAGES
    ]
    assert undeclared == []
    unknown = [
        r
        for r in auth.route_table(matrix_app)
        if r.module not in API_MODULES + SIGN_IN_MODULES and not r.module.startswith("safetynet.web.pages")
    ]
    assert unknown == [], "a route outside the pages, sign-in and the HTTP APIs: give it an action and add it here"


def test_every_route_against_every_persona_answers_as_decide_says(
    client: TestClient, matrix_world: AccessWorld, matrix_app: FastAPI
) -> None:
    wrong: list[str] = []
    rows = auth.route_table(matrix_app)
    personas = matrix_world.personas
    assert {p.label for p in personas} >= {
        "key worker with a relationship",
        "key worker without a relationship",
        "signed in with no access at all",
        "not signed in",
    }
    asked = 0
    for row in rows:
        anonymous_status, _ = _ask(client, matrix_world, row, personas[-1])
        for persona in personas:
            status, text = _ask(client, matrix_world, row, persona)
            asked += 1
            where = f"{row.method} {row.path} as {persona.label}: {status}"
            if status >= 500:
                wrong.append(f"{where} (server error)")
            elif row.module in API_MODULES:
                if status != anonymous_status or status not in (401, 200):
                    wrong.append(f"{where}, but anonymously {anonymous_status}: a session must open no API")
            elif row.module in SIGN_IN_MODULES:
                if status != anonymous_status:
                    wrong.append(f"{where}, but anonymously {anonymous_status}: sign-in is the same for everyone")
            elif row.action is None:
                if (row.method, row.path) not in PUBLIC_PAGES:
                    wrong.append(f"{where}: the route declares no action")
            elif persona.username is None:
                expected_status = 303 if row.method == "GET" else 401
                if status != expected_status:
                    wrong.append(f"{where}, expected {expected_status} (sign in first)")
            else:
                decision = _expected(row, persona)
                handler_decides = ACTIONS[row.action].scope in (Scope.SHARED, Scope.TELL)
                if decision.allowed and handler_decides and status == 401:
                    wrong.append(f"{where}: signed in, the role may take it, yet told to sign in")
                elif decision.allowed and not handler_decides and status in (401, 403):
                    wrong.append(f"{where}, but decide allows it: {decision.reason}")
                elif not decision.allowed and handler_decides:
                    if status != 403:
                        wrong.append(f"{where}, expected 403: {decision.reason}")
                elif not decision.allowed and (status != 403 or "You do not have access to this" not in text):
                    wrong.append(f"{where}, expected the 403 refusal page: {decision.reason}")
    assert wrong == []
    assert asked == len(rows) * len(personas)


def test_a_refused_clinician_is_told_why_and_offered_break_glass_others_are_not(
    client: TestClient, matrix_world: AccessWorld
) -> None:
    matrix_world.sign_in(client, "sam")
    refused = client.get(f"/people/{OTHER}")
    assert refused.status_code == 403
    assert "not on your team&#39;s caseload" in refused.text or "not on your team's caseload" in refused.text
    assert f"/people/{OTHER}/break-glass?next=" in refused.text
    assert "Riley Example" not in refused.text
    client.cookies.clear()
    matrix_world.sign_in(client, "ada")
    refused = client.get(f"/people/{OTHER}")
    assert refused.status_code == 403
    assert "break-glass" not in refused.text  # an administrator has no clinical access, not even by break-glass
    client.cookies.clear()
    csrf = matrix_world.sign_in(client, "sam")
    task = client.post(f"/tasks/{matrix_world.web.task_ids[OTHER]}/dismiss", data={"csrf_token": csrf})
    assert task.status_code == 403  # break-glass would not open dismissing a task, so it is not offered
    assert "break-glass" not in task.text


def test_a_person_or_task_that_does_not_exist_is_not_found_whoever_asks(
    client: TestClient, matrix_world: AccessWorld
) -> None:
    matrix_world.sign_in(client, "chris")
    assert client.get("/people/9990000026", headers={"accept": "text/html"}).status_code == 404
    assert client.get("/people/not-a-number", headers={"accept": "text/html"}).status_code == 404
    csrf = matrix_world.sign_in(client, "chris")
    assert client.post("/tasks/no-such-task/acknowledge", data={"csrf_token": csrf}).status_code == 404


def test_the_channels_hook_decides_a_person_from_the_form_the_same_way(matrix_world: AccessWorld) -> None:
    """``check_person``: what a ``tell`` or ``shared`` handler calls with the person it was given."""
    from safetynet.core.db import make_engine, unit_of_work
    from safetynet.record.patients import service as patients

    engine = make_engine(matrix_world.url)
    with unit_of_work(engine) as session:
        for persona in matrix_world.personas[:2]:  # Chris (a relationship), Sam (none)
            assert persona.actor is not None
            user = auth.SignedIn(
                "a",
                persona.username or "",
                persona.actor.staff_id or "",
                persona.actor.name,
                persona.actor.role,
                None,
                "t",
                "c",
            )
            ctx = Context(session, user.actor("channel"), matrix_world.clock)
            patient_id = patients.get(ctx, OTHER).id
            if persona.username == "chris":
                assert auth.check_person(ctx, user, "person.view", patient_id).allowed
            else:
                with pytest.raises(auth.Refused, match="not on your team's caseload"):
                    auth.check_person(ctx, user, "person.view", patient_id)
        session.rollback()
    engine.dispose()
