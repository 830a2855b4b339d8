"""CDS Hooks 2.0 at ``/cds-services``: discovery, the two services and their feedback (``docs/cds-hooks.md``).

Record systems call with a bearer token (``api_auth.api_actor``). A request the specification does not allow is a
400 with a message saying what is wrong (never FastAPI's 422); an unknown service or card is a 404; each call is
one unit of work. The services themselves are in ``safetynet.interop.cds_hooks``."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.routing import APIRoute
from sqlalchemy.exc import IntegrityError

from safetynet.core.context import Actor, Context
from safetynet.core.errors import NotFound
from safetynet.interop.cds_hooks import services
from safetynet.interop.cds_hooks.cards import Urls
from safetynet.interop.cds_hooks.rulebook import rulebook_html
from safetynet.interop.cds_hooks.schemas import (
    CdsResponse,
    Discovery,
    FeedbackRequest,
    HookRequest,
    PatientViewContext,
)
from safetynet.interop.cds_hooks.settings import CdsSettings
from safetynet.web import deps
from safetynet.web.api_auth import api_actor

T = TypeVar("T")


def _problems(errors: Any) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e.get('loc', ()) if p != 'body') or 'body'}: {e.get('msg', 'invalid')}"
        for e in errors
    )


class CdsRoute(APIRoute):
    """Malformed requests are 400 with a clear message, as CDS clients expect (FastAPI would say 422)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await original(request)
            except RequestValidationError as exc:
                return JSONResponse({"detail": f"malformed request: {_problems(exc.errors())}"}, status_code=400)

        return handler


router = APIRouter(prefix="/cds-services", tags=["CDS Hooks"], route_class=CdsRoute)
ApiActor = Annotated[Actor, Depends(api_actor)]


def cds_settings(request: Request) -> CdsSettings:
    """The app's CDS settings: set on ``app.state.cds_settings`` (tests), else read from the environment once."""
    made: CdsSettings | None = getattr(request.app.state, "cds_settings", None)
    if made is None:
        made = CdsSettings()
        request.app.state.cds_settings = made
    return made


def urls(request: Request, settings: CdsSettings) -> Urls:
    base = str(request.base_url).rstrip("/")
    return Urls(app=settings.app_url or base, rulebook=settings.rulebook_url or f"{base}/cds-services/rulebook")


def _once(request: Request, actor: Actor, work: Callable[[Context], T]) -> T:
    """One unit of work; retried once if a concurrent call for the same person opened the same task first."""
    try:
        with deps.unit_of_work(request, actor) as ctx:
            return work(ctx)
    except IntegrityError:
        with deps.unit_of_work(request, actor) as ctx:
            return work(ctx)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"detail": message}, status_code=status)


@router.get("", summary="CDS Hooks discovery: the services and their prefetch templates")
def discovery(_actor: ApiActor) -> Discovery:
    return services.discovery()


@router.get("/rulebook", response_class=HTMLResponse, summary="The rulebook cards' sources link to (public)")
def rulebook() -> HTMLResponse:
    return HTMLResponse(rulebook_html())


@router.post(
    "/{service_id}",
    summary="Call a CDS service (patient-view or encounter-discharge)",
    responses={
        200: {"model": CdsResponse},
        400: {"description": "Malformed request"},
        404: {"description": "No such service"},
    },
)
def call(service_id: str, body: HookRequest, request: Request, actor: ApiActor) -> Response:
    settings = cds_settings(request)
    where = urls(request, settings)
    try:
        context = services.hook_context(service_id, body)

        def work(ctx: Context) -> CdsResponse:
            if isinstance(context, PatientViewContext):
                return services.patient_view(ctx, body, context, where, settings.max_cards)
            return services.encounter_discharge(ctx, body, context, where)

        answer = _once(request, actor, work)
    except services.BadRequest as exc:
        return _error(400, str(exc))
    except NotFound as exc:
        return _error(404, str(exc))
    return JSONResponse(answer.dump())


@router.post(
    "/{service_id}/feedback",
    summary="Feedback on cards: accepted, or overridden with a reason",
    responses={400: {"description": "Malformed feedback"}, 404: {"description": "Unknown service or card"}},
)
def feedback(service_id: str, body: FeedbackRequest, request: Request, actor: ApiActor) -> Response:
    try:
        recorded = _once(request, actor, lambda ctx: services.record_feedback(ctx, service_id, body))
    except services.BadRequest as exc:
        return _error(400, str(exc))
    except NotFound as exc:
        return _error(404, str(exc))
    return JSONResponse({"recorded": recorded})
