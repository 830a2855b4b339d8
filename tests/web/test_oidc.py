"""OpenID Connect sign-in against an identity provider the test runs in-process on loopback: a small FastAPI app
serving discovery, JWKS, authorize and token over real HTTP (uvicorn in a thread), with an RSA signing key made
for the test. The provider checks PKCE and the client secret as a real one would; the tests then make it misbehave
(another key, another audience, a replayed nonce, an expired token) and check that nobody is signed in."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
import uvicorn
from authlib.common.security import generate_token
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from fastapi import Depends, FastAPI, Form, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.security import HTTPBasic, HTTPBasicCredentials
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from sqlalchemy import select

from safetynet.audit.models import AuditEvent
from safetynet.core.clock import FixedClock
from safetynet.core.db import make_engine
from safetynet.web import oidc
from safetynet.web.app import create_app
from safetynet.web.auth import SESSION_COOKIE
from safetynet.web.settings import WebSettings
from tests.web.conftest import _free_port, _Server
from tests.web.world import OTHER, World

CLIENT_ID = "safetynet-test"
BASIC = HTTPBasic()  # module level: the endpoints' annotations are resolved from the module's names
CLIENT_SECRET = "a client secret for the loopback provider"


@dataclass
class Provider:
    """The identity provider's state: who signs in next, and how it should misbehave."""

    clock: FixedClock
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, auto_kid=True))
    url: str = ""
    user: dict[str, Any] = field(default_factory=dict)
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    tamper: dict[str, Any] = field(default_factory=dict)  # claims to override; "key": sign with another key

    def app(self) -> FastAPI:
        made = FastAPI()

        @made.get("/.well-known/openid-configuration")
        def discovery() -> dict[str, Any]:
            return {
                "issuer": self.url,
                "authorization_endpoint": f"{self.url}/authorize",
                "token_endpoint": f"{self.url}/token",
                "jwks_uri": f"{self.url}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic"],
            }

        @made.get("/jwks")
        def jwks() -> dict[str, Any]:
            return KeySet([self.key]).as_dict(private=False)

        @made.get("/authorize")
        def authorize(request: Request) -> RedirectResponse:
            q = request.query_params
            if q.get("client_id") != CLIENT_ID or q.get("response_type") != "code":
                raise HTTPException(400, "unknown client")
            if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
                raise HTTPException(400, "PKCE required")
            code = generate_token(24)
            self.codes[code] = {
                "user": dict(self.user),
                "nonce": q.get("nonce"),
                "challenge": q["code_challenge"],
                "redirect_uri": q["redirect_uri"],
            }
            return RedirectResponse(f"{q['redirect_uri']}?{urlencode({'code': code, 'state': q['state']})}", 303)

        @made.post("/token")
        def token(
            credentials: Annotated[HTTPBasicCredentials, Depends(BASIC)],
            code: Annotated[str, Form()],
            redirect_uri: Annotated[str, Form()],
            code_verifier: Annotated[str, Form()],
            grant_type: Annotated[str, Form()],
        ) -> JSONResponse:
            if (credentials.username, credentials.password) != (CLIENT_ID, CLIENT_SECRET):
                return JSONResponse({"error": "invalid_client"}, 401)
            issued = self.codes.pop(code, None)  # a code is used once
            if grant_type != "authorization_code" or issued is None or issued["redirect_uri"] != redirect_uri:
                return JSONResponse({"error": "invalid_grant"}, 400)
            if create_s256_code_challenge(code_verifier) != issued["challenge"]:
                return JSONResponse({"error": "invalid_grant", "error_description": "PKCE"}, 400)
            now = int(self.clock.now().timestamp())
            claims = {
                "iss": self.url,
                "aud": CLIENT_ID,
                "iat": now,
                "exp": now + 300,
                "nonce": issued["nonce"],
                **issued["user"],
            } | {k: v for k, v in self.tamper.items() if k != "key"}
            signer = self.tamper.get("key", self.key)
            id_token = jwt.encode({"alg": "RS256", "kid": self.key.kid}, claims, signer)
            return JSONResponse({"access_token": generate_token(20), "token_type": "Bearer", "id_token": id_token})

        return made


@pytest.fixture(scope="module")
def provider(world: World) -> Iterator[Provider]:
    made = Provider(clock=world.clock)
    port = _free_port()
    made.url = f"http://127.0.0.1:{port}"
    server = _Server(uvicorn.Config(made.app(), host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the identity provider did not start"
        time.sleep(0.02)
    yield made
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def oidc_client(world: World, provider: Provider, clock_reset: None) -> Iterator[TestClient]:
    app = create_app(
        WebSettings(database_url=world.url, secret_key="oidc-tests", secure_cookies=False, clock=world.clock)
    )
    app.state.oidc = oidc.OidcConfig(
        issuer=provider.url,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        email_domain="nhs.example",
        subjects={"cis2-0001-lee": "lee"},
    )
    provider.tamper = {}
    provider.user = {"sub": "cis2-0002-chris", "email": "chris@nhs.example", "email_verified": True}
    with TestClient(app, follow_redirects=False) as made:
        yield made


def _through_provider(client: TestClient, start: str = f"/sign-in/oidc?next=/people/{OTHER}") -> httpx.Response:
    """The browser's round trip: to the provider (which signs the user straight in) and back to the callback."""
    to_provider = client.get(start)
    assert to_provider.status_code == 303
    asked = urlsplit(to_provider.headers["location"])
    query = parse_qs(asked.query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["scope"] == ["openid email profile"]
    back = httpx.get(to_provider.headers["location"])
    assert back.status_code == 303, back.text
    callback = urlsplit(back.headers["location"])
    return client.get(f"{callback.path}?{callback.query}")


def _last_audit(world: World) -> AuditEvent:
    engine = make_engine(world.url)
    with engine.connect() as connection:
        row = connection.execute(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).one()
    engine.dispose()
    return row  # type: ignore[return-value]


def test_a_clinician_signs_in_through_the_identity_provider_by_verified_email(
    oidc_client: TestClient, world: World, provider: Provider
) -> None:
    assert "Sign in with your organisation" in oidc_client.get("/sign-in").text
    answer = _through_provider(oidc_client)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/people/{OTHER}"
    assert SESSION_COOKIE in answer.headers["set-cookie"]
    page = oidc_client.get(f"/people/{OTHER}")
    assert page.status_code == 200
    assert "Chris Taylor (key worker)" in page.text
    engine = make_engine(world.url)
    with engine.connect() as connection:
        signed = connection.execute(
            select(AuditEvent.actor_name).where(
                AuditEvent.action == "sign_in", AuditEvent.detail == f"oidc {provider.url} subject 'cis2-0002-chris'"
            )
        ).all()
    engine.dispose()
    assert [row.actor_name for row in signed] == ["Chris Taylor"]


def test_a_listed_subject_signs_in_to_its_account(oidc_client: TestClient, provider: Provider) -> None:
    provider.user = {"sub": "cis2-0001-lee"}  # no email at all: the subject is listed
    assert _through_provider(oidc_client).status_code == 303
    assert "Dr Lee Consultant (consultant)" in oidc_client.get("/").text


@pytest.mark.parametrize(
    ("user", "why"),
    [
        ({"sub": "cis2-9", "email": "chris@nhs.example", "email_verified": False}, "an unverified email"),
        ({"sub": "cis2-9", "email": "chris@elsewhere.example", "email_verified": True}, "another domain"),
        ({"sub": "cis2-9", "email": "nobody@nhs.example", "email_verified": True}, "no such account"),
    ],
)
def test_an_identity_with_no_local_account_is_refused_and_audited(
    oidc_client: TestClient, provider: Provider, world: World, user: dict[str, Any], why: str
) -> None:
    provider.user = user
    answer = _through_provider(oidc_client)
    assert answer.status_code == 403, why
    assert "not linked to a Safetynet account" in answer.text
    assert SESSION_COOKIE not in answer.headers.get("set-cookie", "")
    event = _last_audit(world)
    assert (event.action, event.detail) == ("sign_in_failed", f"oidc {provider.url} subject 'cis2-9'")


@pytest.mark.parametrize(
    "tamper",
    [
        {"key": RSAKey.generate_key(2048)},  # signed by someone else
        {"aud": "another-client"},
        {"iss": "https://evil.example"},
        {"nonce": "replayed"},
        {"exp": 1},  # long expired
    ],
    ids=["another-key", "another-audience", "another-issuer", "wrong-nonce", "expired"],
)
def test_an_id_token_that_does_not_verify_signs_nobody_in(
    oidc_client: TestClient, provider: Provider, tamper: dict[str, Any]
) -> None:
    provider.tamper = tamper
    answer = _through_provider(oidc_client)
    assert answer.status_code == 401
    assert "could not be verified" in answer.text
    assert SESSION_COOKIE not in answer.headers.get("set-cookie", "")


def test_a_callback_that_did_not_start_here_or_took_too_long_is_refused(oidc_client: TestClient, world: World) -> None:
    forged = oidc_client.get("/sign-in/oidc/callback?code=anything&state=anything")
    assert forged.status_code == 400
    assert "did not start here" in forged.text
    to_provider = oidc_client.get("/sign-in/oidc")
    back = httpx.get(to_provider.headers["location"])
    callback = urlsplit(back.headers["location"])
    query = parse_qs(callback.query)
    wrong_state = oidc_client.get(f"{callback.path}?code={query['code'][0]}&state=not-the-state")
    assert wrong_state.status_code == 400
    to_provider = oidc_client.get("/sign-in/oidc")
    back = httpx.get(to_provider.headers["location"])
    world.clock.advance(oidc.STATE_LIFETIME + timedelta(seconds=1))
    late = urlsplit(back.headers["location"])
    answer = oidc_client.get(f"{late.path}?{late.query}")
    assert answer.status_code == 400
    assert "took too long" in answer.text


def test_without_a_provider_configured_the_routes_are_not_found_and_the_page_offers_passwords_only(
    client: TestClient,
) -> None:
    client.app.state.oidc = None  # type: ignore[attr-defined]
    assert client.get("/sign-in/oidc", headers={"accept": "text/html"}).status_code == 404
    assert "organisation's account" not in client.get("/sign-in").text


@pytest.fixture(scope="module")
def oidc_live(world: World, provider: Provider) -> Iterator[str]:
    """The app under uvicorn on loopback, with the provider configured."""
    app = create_app(
        WebSettings(database_url=world.url, secret_key="oidc-live", secure_cookies=False, clock=world.clock)
    )
    app.state.oidc = oidc.OidcConfig(
        issuer=provider.url, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, email_domain="nhs.example"
    )
    port = _free_port()
    server = _Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.mark.slow
def test_a_clinician_signs_in_with_their_organisations_account_in_the_browser(
    browser: Any, oidc_live: str, provider: Provider, world: World
) -> None:
    from tests.web.test_browser import serious_violations

    world.reset_clock()
    provider.tamper = {}
    provider.user = {"sub": "cis2-0002-chris", "email": "chris@nhs.example", "email_verified": True}
    context = browser.new_context(base_url=oidc_live, bypass_csp=True)  # axe-core is injected inline
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        page.goto(f"/sign-in?next=/people/{OTHER}")
        assert serious_violations(page) == []
        page.get_by_role("button", name="Sign in with your organisation's account").click()
        page.get_by_role("heading", name="Riley Example").first.wait_for()
        assert page.url == f"{oidc_live}/people/{OTHER}"
        assert "Chris Taylor (key worker)" in page.content()
    finally:
        context.close()
        world.reset_clock()
