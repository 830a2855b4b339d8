"""Every page route declares the one action it needs (``web.auth.requires``); only sign-in is public. The
security work generates its access matrix from the same route table (``web.auth.route_table``)."""

from __future__ import annotations

from safetynet.access.decide import ACTIONS, CLINICAL, permitted
from safetynet.core.context import Role
from safetynet.web import auth
from safetynet.web.app import create_app
from safetynet.web.settings import WebSettings

PUBLIC = {("GET", "/sign-in"), ("POST", "/sign-in")}


def test_every_page_route_declares_one_action_from_the_table_and_only_sign_in_is_public() -> None:
    app = create_app(WebSettings(database_url="sqlite://", secret_key="k"))
    pages = [(r.method, r.path, r.action) for r in auth.route_table(app) if r.module.startswith("safetynet.web.pages")]
    assert {("GET", "/"), ("GET", "/people/{nhs_number}"), ("POST", "/tasks/{task_id}/dismiss")} <= {
        (m, p) for m, p, _ in pages
    }
    for method, path, action in pages:
        if (method, path) in PUBLIC:
            assert action is None
        else:
            assert action in ACTIONS, f"{method} {path} declares no action"


def test_a_route_cannot_declare_an_action_missing_from_the_table() -> None:
    try:
        auth.requires("person.delete")
    except KeyError:
        return
    raise AssertionError("an unknown action was accepted")


def test_the_system_role_and_administrators_have_no_clinical_access() -> None:
    for action in ("work.view", "person.view", "task.dismiss", "family_concern.respond"):
        assert not permitted(Role.SYSTEM, action)
        assert not permitted(Role.ADMINISTRATOR, action)
        assert all(permitted(role, action) for role in CLINICAL)
    assert permitted(Role.ADMINISTRATOR, "session.end")
