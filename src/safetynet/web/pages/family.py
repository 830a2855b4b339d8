"""The family channel (``/family``): a registered carer tells the team something, and sees no more of the record
than the person consented to share with them.

- ``GET /family``: the form, the carer's own concerns (reference, when received, whether the team has responded and
  by when it must), and, only if the person consented, what the consent covers (``record.channels.family_view``).
- ``POST /family/concerns``: the concern becomes a family concern (channel ``online``) that the safety net's SN01
  watches: a response is due by the end of the next working day. The carer is shown its reference and that deadline.

``requires("family.submit")`` checks the role; which person, the carer registration and the consent are checked
here through ``record.channels`` and ``access.decide``. Refusals are audited; bad input writes nothing."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from safetynet.record import channels
from safetynet.rules.calendar import end_of_next_working_day
from safetynet.web import deps
from safetynet.web.auth import SignedIn, requires
from safetynet.web.templating import render

router = APIRouter(prefix="/family", include_in_schema=False)

PURPOSE = "family channel"
REFERENCE = re.compile(r"^FC-[0-9A-F]{4}-[0-9A-F]{4}$")
MAX_TEXT = 4000


def _page(
    request: Request, user: SignedIn, *, form: dict[str, str], errors: dict[str, str], reference: str = "", status: int
) -> Response:
    with deps.unit_of_work(request, user.actor(PURPOSE)) as ctx:
        link = channels.link(ctx, user.account_id)
        sent = channels.sent_concerns(ctx, link)
        view = channels.family_view(ctx, link)
    concerns = [{"c": c, "due": end_of_next_working_day(c.received_at)} for c in sent]
    received = next((row for row, c in zip(concerns, sent, strict=True) if c.reference == reference), None)
    values: dict[str, Any] = {
        "form": form,
        "errors": errors,
        "concerns": concerns,
        "received": received,
        "view": view,
        "item_labels": channels.FAMILY_ITEM_LABELS,
        "max_text": MAX_TEXT,
        "nav": [{"text": "Tell the team", "href": "/family", "current": True}],
        "home": "/family",
    }
    return render(request, "family/home.html", values, status=status)


@router.get("")
def family_home(
    request: Request, user: Annotated[SignedIn, requires("family.submit")], reference: str = ""
) -> Response:
    """The carer's page: tell the team, their own concerns, and only what the person consented to share."""
    return _page(
        request,
        user,
        form={"text": ""},
        errors={},
        reference=reference if REFERENCE.match(reference) else "",
        status=200,
    )


@router.post("/concerns")
def tell_the_team(
    request: Request, user: Annotated[SignedIn, requires("family.submit")], text: Annotated[str, Form()] = ""
) -> Response:
    """A concern for the team: its reference and deadline on success; the error summary and nothing written if
    empty or too long; a refusal (audited) if the account is not a registered carer of the person."""
    errors: dict[str, str] = {}
    if not text.strip():
        errors["text"] = "Enter what you want to tell the team"
    elif len(text.strip()) > MAX_TEXT:
        errors["text"] = f"Enter at most {MAX_TEXT} characters, or phone the team"
    if errors:
        return _page(request, user, form={"text": text}, errors=errors, status=400)
    with deps.unit_of_work(request, user.actor(PURPOSE + ": telling the team")) as ctx:
        outcome = channels.family_concern(ctx, channels.link(ctx, user.account_id), text)
    if outcome.refused:
        message = f"We could not send this: {outcome.refused}. Phone the team instead."
        return _page(request, user, form={"text": text}, errors={"text": message}, status=403)
    return RedirectResponse(f"/family?reference={outcome.reference}#received", status_code=303)
