"""The trust safety view (``/trust/safety``) for safety leads: is the safety net working across the trust?

Open findings by rule and team, overdue tasks, the alert burden, rules in monitor mode, and operational alerts (a
rule that failed is shown loudly, at the top: a failing rule is a hole in the net)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from safetynet.tasks import trust_safety
from safetynet.web import deps
from safetynet.web.auth import SignedIn, requires
from safetynet.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/trust")
def trust(request: Request, user: Annotated[SignedIn, requires("trust.read")]) -> Response:
    """The navigation's "Trust safety" entry."""
    return RedirectResponse("/trust/safety", status_code=303)


@router.get("/trust/safety")
def safety(request: Request, user: Annotated[SignedIn, requires("trust.read")]) -> Response:
    with deps.unit_of_work(request, user.actor("clinical governance: trust safety view")) as ctx:
        view = trust_safety.view(ctx)
    return render(request, "trust_safety.html", {"view": view, "next": "/trust/safety"})
