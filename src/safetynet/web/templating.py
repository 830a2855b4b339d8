"""Templates: Jinja2 with the NHS.UK frontend macros (``nhsuk-frontend-jinja``), and the filters pages share.

Our templates live in ``web/templates``; the design system's are found through ``PackageLoader``. Every page
extends ``layout.html`` (the NHS.UK template with Safetynet's header, navigation and scripts). ``render`` adds what
every page needs: the signed-in user, the CSRF token for forms, and which navigation item is current."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import ChainableUndefined, ChoiceLoader, Environment, FileSystemLoader, PackageLoader, select_autoescape

from safetynet.access.decide import permitted
from safetynet.core.clock import LONDON
from safetynet.record.channels import consented_in_words

TEMPLATES = Path(__file__).parent / "templates"

# The header's navigation: (label, href, action). Areas add theirs here when their page lands; each user sees only
# the entries their role may open (a key worker is not offered the team board).
NAVIGATION = (
    ("My work", "/", "work.view"),
    ("Team board", "/board", "board.read"),
    ("Trust safety", "/trust/safety", "trust.read"),
    ("Indicators", "/trust/indicators", "trust.read"),
    ("National", "/national", "national.read"),
)


def nhs_number(value: str | None) -> str:
    """An NHS number as people read it: 3-3-4 digits (999 000 0018)."""
    if not value:
        return ""
    digits = "".join(ch for ch in value if ch.isdigit())
    return f"{digits[:3]} {digits[3:6]} {digits[6:]}" if len(digits) == 10 else value


def london(value: datetime | str | None, fmt: str = "%d %b %Y %H:%M") -> str:
    """A moment (or its ISO text, as task evidence keeps it) in Europe/London time (stored UTC, shown local)."""
    if not value:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone(LONDON).strftime(fmt)


def day(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(LONDON).date()
    return value.strftime("%d %b %Y")


def words(value: str | None) -> str:
    """A stored code as words: ``violence_to_others`` -> ``violence to others``."""
    return "" if value is None else str(value).replace("_", " ")


def environment() -> Environment:
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(TEMPLATES), PackageLoader("nhsuk_frontend_jinja")]),
        autoescape=select_autoescape(("html", "jinja")),
        undefined=ChainableUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(nhs_number=nhs_number, london=london, day=day, words=words, consented=consented_in_words)
    return env


templates = Jinja2Templates(env=environment())


def _within(path: str, href: str) -> bool:
    """A page under an entry's address is under that entry (``/trust/indicators/DNA01``), and a team's board
    (``/teams/{id}/board...``) is under "Team board"."""
    if href != "/" and path.startswith(href + "/"):
        return True
    return href == "/board" and path.startswith("/teams/") and "/board" in path


def render(request: Request, name: str, context: dict[str, Any] | None = None, status: int = 200) -> HTMLResponse:
    """Render a page or a fragment with what every template expects: ``user`` (or None), ``csrf_token``, ``nav``."""
    from safetynet.web import auth

    user = getattr(request.state, "signed_in", None)
    values: dict[str, Any] = {
        "user": user,
        "csrf_token": user.csrf if user else "",
        "nav": [
            {"text": text, "href": href, "current": request.url.path == href or _within(request.url.path, href)}
            for text, href, action in NAVIGATION
            if user is None or permitted(user.role, action)
        ],
        "path": request.url.path,
        "csrf_field": auth.CSRF_FIELD,
        "home": auth.home_for(user.role if user else None),
    }
    values.update(context or {})
    response: HTMLResponse = templates.TemplateResponse(request, name, values, status_code=status)
    return response


def csv_download(text: str, filename: str) -> Response:
    """CSV for a spreadsheet, offered as a file to save (the name made safe for every browser and file system)."""
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in filename)
    return Response(
        text, media_type="text/csv; charset=utf-8", headers={"Content-Disposition": f'attachment; filename="{safe}"'}
    )
