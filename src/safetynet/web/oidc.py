"""OpenID Connect sign-in (authorisation code flow with PKCE) for NHS-style identity providers such as NHS CIS2.

``/sign-in/oidc`` sends the browser to the provider; ``/sign-in/oidc/callback`` takes the code back, exchanges it
at the token endpoint, verifies the ID token and signs the member of staff in to their local account, exactly as a
password sign-in does (a server-side session, audited; their role is their staff record's).

- Authlib builds the authorisation request and the PKCE challenge; its JOSE library, joserfc, verifies the ID
  token: signature against the provider's published keys (JWKS), ``iss`` the configured issuer, ``aud`` our client
  id, ``exp`` and ``iat`` against the injected clock, and the ``nonce`` we sent.
- The ``state``, ``nonce`` and PKCE verifier travel in a cookie signed with the app's secret key, for ten minutes,
  on the callback's path only: no server state, and a callback that did not start here is refused.
- Mapping the ID token to an account: the subject (``sub``) listed in ``SAFETYNET_OIDC_SUBJECTS_FILE`` (``subject
  username`` lines), or else a verified ``email`` at ``SAFETYNET_OIDC_EMAIL_DOMAIN`` whose local part is the
  username. Nothing else signs anyone in: a provider's account with no local account is refused and audited.
- Configured by the environment: ``SAFETYNET_OIDC_ISSUER``, ``SAFETYNET_OIDC_CLIENT_ID``,
  ``SAFETYNET_OIDC_CLIENT_SECRET_FILE`` (the secret in a file, never on a command line), and optionally
  ``SAFETYNET_OIDC_REDIRECT_URL`` (the callback's URL as registered with the provider). Without an issuer the
  routes answer 404 and the sign-in page offers passwords only."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import httpx
from authlib.common.security import generate_token  # type: ignore[import-untyped]
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri  # type: ignore[import-untyped]
from authlib.oauth2.rfc7636 import create_s256_code_challenge  # type: ignore[import-untyped]
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from starlette.concurrency import run_in_threadpool

from safetynet.access import accounts
from safetynet.audit import service as audit
from safetynet.core.context import SYSTEM_ACTOR, Actor, Context, Role
from safetynet.core.db import unit_of_work as db_unit_of_work
from safetynet.core.errors import NotFound
from safetynet.record.org import service as org
from safetynet.web import auth, deps

router = APIRouter(include_in_schema=False)
log = logging.getLogger("safetynet.web")

STATE_COOKIE = "safetynet_oidc"
CALLBACK = "/sign-in/oidc/callback"
STATE_LIFETIME = timedelta(minutes=10)
ALGORITHMS = ("RS256", "PS256", "ES256")  # asymmetric only: the client secret must never verify a token
LEEWAY_SECONDS = 60


@dataclass(frozen=True)
class OidcConfig:
    """One identity provider."""

    issuer: str
    client_id: str
    client_secret: str
    redirect_url: str | None = None  # the callback's full URL; from the request when not set
    email_domain: str | None = None
    subjects: dict[str, str] = field(default_factory=dict)  # subject -> username
    scope: str = "openid email profile"


def _subjects(path: str | None) -> dict[str, str]:
    found: dict[str, str] = {}
    if path:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                line = line.strip()
                if line and not line.startswith("#"):
                    subject, _, username = line.rpartition(" ")
                    if subject and username:
                        found[subject.strip()] = username
    return found


def from_environment() -> OidcConfig | None:
    """The provider named by the environment, or None (OIDC sign-in off)."""
    issuer = os.environ.get("SAFETYNET_OIDC_ISSUER")
    if not issuer:
        return None
    secret_file = os.environ.get("SAFETYNET_OIDC_CLIENT_SECRET_FILE")
    secret = ""
    if secret_file:
        with open(secret_file, encoding="utf-8") as handle:
            secret = handle.read().strip()
    return OidcConfig(
        issuer=issuer.rstrip("/"),
        client_id=os.environ.get("SAFETYNET_OIDC_CLIENT_ID", ""),
        client_secret=secret,
        redirect_url=os.environ.get("SAFETYNET_OIDC_REDIRECT_URL") or None,
        email_domain=(os.environ.get("SAFETYNET_OIDC_EMAIL_DOMAIN") or "").lower() or None,
        subjects=_subjects(os.environ.get("SAFETYNET_OIDC_SUBJECTS_FILE")),
    )


_UNSET = object()


def config(request: Request) -> OidcConfig | None:
    """The app's provider: ``app.state.oidc`` (tests set it), else read once from the environment."""
    found = getattr(request.app.state, "oidc", _UNSET)
    if found is _UNSET:
        found = from_environment()
        request.app.state.oidc = found
    return found  # type: ignore[return-value]


class SignInFailed(Exception):
    """The provider's answer could not sign anyone in; the message is for the person at the screen."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


# The state cookie: base64url(JSON) "." HMAC-SHA256 under the app's secret key.
def _sign(key: str, values: dict[str, str]) -> str:
    payload = base64.urlsafe_b64encode(json.dumps(values, separators=(",", ":")).encode()).decode().rstrip("=")
    mac = hmac.new(key.encode(), f"oidc:{payload}".encode(), hashlib.sha256).hexdigest()
    return f"{payload}.{mac}"


def _unsign(key: str, cookie: str | None) -> dict[str, str] | None:
    if not cookie or "." not in cookie:
        return None
    payload, _, mac = cookie.rpartition(".")
    expected = hmac.new(key.encode(), f"oidc:{payload}".encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(mac, expected):
        return None
    values: dict[str, str] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return values


async def _metadata(client: httpx.AsyncClient, cfg: OidcConfig) -> dict[str, Any]:
    answer = await client.get(f"{cfg.issuer}/.well-known/openid-configuration")
    answer.raise_for_status()
    metadata: dict[str, Any] = answer.json()
    if metadata.get("issuer", "").rstrip("/") != cfg.issuer:  # OpenID Connect Discovery 1.0, section 4.3
        raise SignInFailed("The identity provider's configuration names another issuer.", 502)
    return metadata


def _redirect_url(request: Request, cfg: OidcConfig) -> str:
    return cfg.redirect_url or str(request.url_for("oidc_callback"))


@router.get("/sign-in/oidc")
async def oidc_start(request: Request, next: str = "/") -> Response:
    """Send the browser to the provider, with a fresh state, nonce and PKCE challenge."""
    cfg = config(request)
    if cfg is None:
        raise NotFound("OpenID Connect sign-in is not set up")
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            metadata = await _metadata(client, cfg)
    except (httpx.HTTPError, ValueError, SignInFailed):
        return _failed(request, "The identity provider could not be reached. Sign in with your password.", 502, next)
    state, nonce, verifier = generate_token(32), generate_token(32), generate_token(64)
    where = prepare_grant_uri(
        metadata["authorization_endpoint"],
        client_id=cfg.client_id,
        response_type="code",
        redirect_uri=_redirect_url(request, cfg),
        scope=cfg.scope,
        state=state,
        nonce=nonce,
        code_challenge=create_s256_code_challenge(verifier),
        code_challenge_method="S256",
    )
    started = deps.clock(request).now().isoformat()
    values = {"state": state, "nonce": nonce, "verifier": verifier, "next": auth.safe_next(next), "at": started}
    page = RedirectResponse(where, status_code=303)
    page.set_cookie(
        STATE_COOKIE,
        _sign(auth.key(request), values),
        max_age=int(STATE_LIFETIME.total_seconds()),
        httponly=True,
        secure=deps.settings(request).secure_cookies,
        samesite="lax",  # the provider's redirect back is a top-level GET, which Lax cookies go with
        path=CALLBACK,
    )
    return page


@router.get(CALLBACK, name="oidc_callback")
async def oidc_callback(request: Request, code: str = "", state: str = "", error: str = "") -> Response:
    """Exchange the code, verify the ID token, find the account, start the session."""
    cfg = config(request)
    if cfg is None:
        raise NotFound("OpenID Connect sign-in is not set up")
    started = _unsign(auth.key(request), request.cookies.get(STATE_COOKIE))
    next_path = started["next"] if started else "/"
    try:
        if error:
            raise SignInFailed("The identity provider did not sign you in.", 401)
        now = deps.clock(request).now()
        if started is None or not code or not hmac.compare_digest(started["state"], state):
            raise SignInFailed("The sign-in did not start here, or was interrupted. Try again.")
        if now - datetime.fromisoformat(started["at"]) > STATE_LIFETIME:
            raise SignInFailed("The sign-in took too long. Try again.")
        claims = await _claims(request, cfg, code, started, now)
        token = await run_in_threadpool(_start_session, request, cfg, claims)
    except SignInFailed as failed:
        return _failed(request, str(failed), failed.status, next_path)
    page = RedirectResponse(auth.safe_next(next_path), status_code=303)
    page.set_cookie(
        auth.SESSION_COOKIE,
        token,
        httponly=True,
        secure=deps.settings(request).secure_cookies,
        samesite="lax",
        path="/",
    )
    page.delete_cookie(STATE_COOKIE, path=CALLBACK)
    return page


async def _claims(
    request: Request, cfg: OidcConfig, code: str, started: dict[str, str], now: datetime
) -> dict[str, Any]:
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            metadata = await _metadata(client, cfg)
            answer = await client.post(
                metadata["token_endpoint"],
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": _redirect_url(request, cfg),
                    "code_verifier": started["verifier"],
                },
                auth=(cfg.client_id, cfg.client_secret),  # client_secret_basic
                headers={"Accept": "application/json"},
            )
            if answer.status_code != 200:
                log.warning("OpenID Connect token request refused: %s", answer.status_code)
                raise SignInFailed("The identity provider refused the sign-in. Try again.", 401)
            id_token = answer.json().get("id_token")
            keys = (await client.get(metadata["jwks_uri"])).raise_for_status().json()
    except (httpx.HTTPError, ValueError, KeyError) as exc:
        raise SignInFailed("The identity provider could not be reached. Sign in with your password.", 502) from exc
    if not isinstance(id_token, str):
        raise SignInFailed("The identity provider sent no ID token.", 401)
    try:
        verified = jwt.decode(id_token, KeySet.import_key_set(keys), algorithms=list(ALGORITHMS))
        jwt.JWTClaimsRegistry(
            now=int(now.timestamp()),
            leeway=LEEWAY_SECONDS,
            iss={"essential": True, "value": cfg.issuer},
            aud={"essential": True, "value": cfg.client_id},
            sub={"essential": True},
            exp={"essential": True},
            iat={"essential": True},
            nonce={"essential": True, "value": started["nonce"]},
        ).validate(verified.claims)
    except (JoseError, ValueError) as exc:
        log.warning("OpenID Connect ID token refused: %s", exc)  # the reason only: never the token
        raise SignInFailed("The identity provider's answer could not be verified.", 401) from exc
    return verified.claims


def username_for(cfg: OidcConfig, claims: dict[str, Any]) -> str | None:
    """The local username an ID token's claims map to: its subject's, listed; or a verified email's local part at
    the configured domain. None when neither applies."""
    subject = str(claims.get("sub", ""))
    if subject in cfg.subjects:
        return cfg.subjects[subject]
    email = str(claims.get("email", "")).strip().lower()
    if cfg.email_domain and claims.get("email_verified") is True and email.count("@") == 1:
        local, domain = email.split("@")
        if domain == cfg.email_domain:
            return local
    return None


def _start_session(request: Request, cfg: OidcConfig, claims: dict[str, Any]) -> str:
    """A session for the mapped account, audited as a sign-in (or a refusal, audited as a failed one)."""
    subject = str(claims.get("sub", ""))[:200]
    with db_unit_of_work(deps.engine(request)) as session:
        ctx = Context(session, replace(SYSTEM_ACTOR, purpose="sign-in with OpenID Connect"), deps.clock(request))
        previous = request.cookies.get(auth.SESSION_COOKIE)
        if previous:  # a new sign-in ends the browser's old session, as a password sign-in does
            accounts.end_session(ctx, previous, key=auth.key(request))
        username = username_for(cfg, claims)
        account = accounts.find(ctx, username) if username else None
        staff = org.get_staff(ctx, account.staff_id) if account else None
        if account is None or staff is None or account.disabled_at is not None or not staff.active:
            audit.record(
                ctx, action="sign_in_failed", entity="accounts", detail=f"oidc {cfg.issuer} subject {subject!r}"
            )
            ok = False
        else:
            ok = True
            account.last_signed_in_at = ctx.clock.now()
            started = accounts.start_session(ctx, account, key=auth.key(request), lifetime=auth.lifetime(request))
            actor = Actor(name=staff.name, role=Role(staff.role), staff_id=staff.id, purpose="sign-in")
            audit.record(
                ctx.as_actor(actor),
                action="sign_in",
                entity="accounts",
                entity_id=account.id,
                detail=f"oidc {cfg.issuer} subject {subject!r}",
            )
    if not ok:
        raise SignInFailed(
            "Your organisation's account is not linked to a Safetynet account. Ask your administrator.", 403
        )
    return started.token


def _failed(request: Request, message: str, status: int, next_path: str) -> Response:
    from safetynet.web.pages import sign_in

    page = sign_in.form_page(request, errors={"username": message}, next_path=next_path, status=status)
    page.delete_cookie(STATE_COOKIE, path=CALLBACK)
    return page
