"""The learning-review pack in the app, for safety leads (``/people/{nhs_number}/review``): choose the period and
whether to withhold third parties' details, see the missed-opportunity summary, and open the pack itself as HTML or
download it as PDF. The pack is the one ``learning.pack`` builds for ``safetynet review-pack``: the same HTML.

The pack document is self-contained (its styles travel inside it, so that the PDF and a saved copy look the same),
so it is served with a Content-Security-Policy of its own: no scripts at all, nothing fetched, inline styles only,
sandboxed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from safetynet.learning import pack
from safetynet.learning.pdf import PdfUnavailable
from safetynet.record.patients import service as patients
from safetynet.web import deps
from safetynet.web.auth import SignedIn, requires
from safetynet.web.templating import render

router = APIRouter(prefix="/people", include_in_schema=False)

PURPOSE = "learning review"
# The pack document's own policy: it carries its styles inline and has no scripts, links out or forms.
PACK_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; "
    "form-action 'none'; base-uri 'none'; sandbox"
)


@dataclass(frozen=True, slots=True)
class Period:
    """The review's period as asked for, with a message per field that is wrong."""

    start: date | None
    end: date | None
    errors: dict[str, str]

    @property
    def query(self) -> str:
        return f"from={self.start}&to={self.end}"


def period(start: str | None, end: str | None) -> Period:
    """The period from the form's text: both days given, real dates, the first not after the last."""
    errors: dict[str, str] = {}
    days: dict[str, date | None] = {"from": None, "to": None}
    for field, text, label in (("from", start, "first"), ("to", end, "last")):
        if not text:
            errors[field] = f"Enter the {label} day of the review period"
            continue
        try:
            days[field] = date.fromisoformat(text)
        except ValueError:
            errors[field] = f"The {label} day of the review period must be a real date, like 2023-06-13"
    first, last = days["from"], days["to"]
    if first and last and last < first:
        errors["to"] = "The last day of the review period must be on or after the first day"
    return Period(first, last, errors)


FromQuery = Annotated[str | None, Query(alias="from")]
ToQuery = Annotated[str | None, Query(alias="to")]


@router.get("/{nhs_number}/review")
def review(
    nhs_number: str,
    request: Request,
    user: Annotated[SignedIn, requires("review.read")],
    start: FromQuery = None,
    end: ToQuery = None,
    redact: bool = False,
) -> Response:
    """The form; with a period, the summary of missed opportunities and links to the pack."""
    asked = start is not None or end is not None
    chosen = period(start, end) if asked else Period(None, None, {})
    made = None
    with deps.unit_of_work(request, user.actor(PURPOSE)) as ctx:
        person = patients.get(ctx, nhs_number)  # a 404 page for someone who is not in the record
        name = patients.details(ctx, person.id).name
        if asked and not chosen.errors:
            made = pack.build(ctx, nhs_number, start=chosen.start, end=chosen.end, redact_third_parties=redact)
    return render(
        request,
        "review/review.html",
        {
            "nhs_number": nhs_number,
            "name": name,
            "pack": made,
            "period": chosen,
            "start": start or "",
            "end": end or "",
            "redact": redact,
            "errors": chosen.errors,
            "query": f"{chosen.query}&redact={'true' if redact else 'false'}",
        },
        status=400 if chosen.errors else 200,
    )


def _pack(
    request: Request, user: SignedIn, nhs_number: str, start: str | None, end: str | None, redact: bool
) -> pack.Pack | Response:
    chosen = period(start, end)
    if chosen.errors:
        return HTMLResponse(" ".join(chosen.errors.values()), status_code=400)
    with deps.unit_of_work(request, user.actor(PURPOSE)) as ctx:
        return pack.build(ctx, nhs_number, start=chosen.start, end=chosen.end, redact_third_parties=redact)


@router.get("/{nhs_number}/review/pack.html")
def pack_html(
    nhs_number: str,
    request: Request,
    user: Annotated[SignedIn, requires("review.read")],
    start: FromQuery = None,
    end: ToQuery = None,
    redact: bool = False,
) -> Response:
    """The pack document, exactly the HTML the PDF is made from."""
    made = _pack(request, user, nhs_number, start, end, redact)
    if isinstance(made, Response):
        return made
    return HTMLResponse(pack.html(made), headers={"Content-Security-Policy": PACK_POLICY})


@router.get("/{nhs_number}/review/pack.pdf")
def pack_pdf(
    nhs_number: str,
    request: Request,
    user: Annotated[SignedIn, requires("review.read")],
    start: FromQuery = None,
    end: ToQuery = None,
    redact: bool = False,
) -> Response:
    """The pack as a PDF download."""
    made = _pack(request, user, nhs_number, start, end, redact)
    if isinstance(made, Response):
        return made
    name = f"review-pack-{nhs_number}-{start}-{end}{'-redacted' if redact else ''}.pdf"
    try:
        document = pack.pdf(made)
    except PdfUnavailable as exc:  # the server has no Chromium: say so; the HTML pack still works
        return HTMLResponse(str(exc), status_code=503)
    return Response(
        document, media_type="application/pdf", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )
