"""Security headers on every response, and a 500 page that gives away nothing.

``install(app)`` adds ``SecurityHeaders``, a plain ASGI middleware (it does not buffer bodies), and the handler for
unexpected errors. The headers:

- ``Content-Security-Policy``: everything from this origin only, no ``unsafe-inline``, no ``eval``, no frames, no
  plugins, forms posting only here. The one inline script, the NHS.UK template's one line that marks the page as
  having JavaScript, is allowed by its SHA-256 hash, read from the template itself (so an upgrade that changes it
  changes the hash). Our own script and styles are static files; the vendored NHS.UK stylesheet has its
  ``@font-face`` rules for ``assets.nhs.uk`` removed (``scripts/vendor-frontend.sh``), so ``font-src 'self'``.
  FastAPI's API documentation pages (``/docs``, ``/redoc``) load Swagger UI and ReDoc from a CDN and inline their
  set-up; they get a policy of their own allowing just that.
- ``Strict-Transport-Security`` (a year, subdomains): browsers honour it only over HTTPS, which production is.
- ``X-Frame-Options: DENY`` with ``frame-ancestors 'none'``; ``X-Content-Type-Options: nosniff``;
  ``Referrer-Policy: no-referrer`` (NHS numbers are in our paths); ``Cross-Origin-Opener-Policy: same-origin``; a
  ``Permissions-Policy`` switching off what the pages never use.
- ``Cache-Control: no-store`` on everything but static files: pages hold clinical data, and must not stay in a
  shared computer's cache after sign-out.

The error page says that something went wrong and gives a reference; the log line with the same reference carries
the exception and the route's pattern, never its path (NHS numbers) or the form (clinical text)."""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import secrets
from functools import cache
from importlib.resources import files

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("safetynet.web")

DOCS_PATHS = ("/docs", "/redoc")
STATIC_PREFIXES = ("/static/", "/assets/")
_INLINE_SCRIPT = re.compile(r"<script[^>]*>(.*?)</script>", re.DOTALL)


@cache
def inline_script_hashes() -> tuple[str, ...]:
    """CSP sources for the NHS.UK page template's inline script(s), hashed as the browser will see them."""
    template = files("nhsuk_frontend_jinja") / "templates" / "nhsuk" / "template.jinja"
    found = []
    for body in _INLINE_SCRIPT.findall(template.read_text(encoding="utf-8")):
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        found.append(f"'sha256-{digest}'")
    return tuple(found)


def content_security_policy() -> str:
    """The pages' policy: this origin only, the template's one inline script by its hash, nothing inline else."""
    scripts = " ".join(("'self'", *inline_script_hashes()))
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src {scripts}",
            "style-src 'self'",
            "img-src 'self'",
            "font-src 'self'",
            "connect-src 'self'",
            "manifest-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


# Swagger UI and ReDoc as FastAPI serves them: from jsDelivr, with an inline set-up script.
DOCS_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; font-src https://fonts.gstatic.com; "
    "worker-src blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


def headers_for(path: str) -> dict[str, str]:
    """Every security header for a response to ``path``."""
    headers = {
        "Content-Security-Policy": DOCS_POLICY if path in DOCS_PATHS else content_security_policy(),
        "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    }
    if not path.startswith(STATIC_PREFIXES):
        headers["Cache-Control"] = "no-store"
    return headers


class SecurityHeaders:
    """ASGI middleware: add the security headers to every HTTP response (a route's own values win)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        wanted = headers_for(scope["path"])

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in wanted.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, sending)


def _route_pattern(request: Request) -> str:
    route = request.scope.get("route")
    return str(getattr(route, "path", "an unmatched route"))


async def server_error(request: Request, exc: Exception) -> Response:
    """The 500 page: no stack trace, no exception text, no settings; a reference to find the log line."""
    reference = secrets.token_hex(4)
    log.error("error %s on %s %s", reference, request.method, _route_pattern(request), exc_info=exc)
    page = HTMLResponse(_ERROR_PAGE.replace("{reference}", reference), status_code=500)
    # This response is made outside the middleware stack (by Starlette's outermost error middleware).
    page.headers.update(headers_for(request.url.path))
    return page


# Plain HTML on purpose: the page must render even when templates or the database are what failed. It links our
# own stylesheets only, so it looks like the service and obeys the same policy.
_ERROR_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sorry, there is a problem with the service - Safetynet</title>
<link rel="stylesheet" href="/static/nhsuk/nhsuk-frontend.min.css">
<link rel="stylesheet" href="/static/safetynet/safetynet.css">
</head>
<body>
<div class="nhsuk-width-container">
<main class="nhsuk-main-wrapper" id="maincontent">
<h1>Sorry, there is a problem with the service</h1>
<p>Nothing you were doing was saved. Try again later.</p>
<p>If it keeps happening, tell the service desk, giving this reference: <strong>{reference}</strong>.</p>
<p><a href="/">Go to My work</a></p>
</main>
</div>
</body>
</html>
"""


def install(app: FastAPI) -> None:
    """The headers on every response, and the 500 page."""
    app.add_middleware(SecurityHeaders)
    app.add_exception_handler(Exception, server_error)
