"""The application factory: ``create_app()`` for ``safetynet serve`` and for tests (which pass their own settings)."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from safetynet.core.db import make_engine
from safetynet.web import auth, oidc, scheduler, security
from safetynet.web.cds_hooks import router as cds_hooks_router
from safetynet.web.fhir import router as fhir_router
from safetynet.web.pages import access as access_page
from safetynet.web.pages import board as board_page
from safetynet.web.pages import chronology as chronology_page
from safetynet.web.pages import discharge as discharge_page
from safetynet.web.pages import family as family_page
from safetynet.web.pages import indicators as indicators_page
from safetynet.web.pages import my_work, people, sign_in, tasks
from safetynet.web.pages import national as national_page
from safetynet.web.pages import partners as partners_page
from safetynet.web.pages import recording as recording_page
from safetynet.web.pages import review as review_page
from safetynet.web.pages import trust_safety as trust_safety_page
from safetynet.web.settings import WebSettings

STATIC = Path(__file__).parent / "static"


def routers() -> list[APIRouter]:
    """Every area's router. Each area adds one import and one entry here (pages, FHIR, CDS Hooks, ...)."""
    return [
        cds_hooks_router,
        fhir_router,
        sign_in.router,
        oidc.router,
        my_work.router,
        people.router,
        tasks.router,
        access_page.router,
        review_page.router,
        chronology_page.router,
        discharge_page.router,
        partners_page.router,
        family_page.router,
        board_page.router,
        trust_safety_page.router,
        indicators_page.router,
        national_page.router,
        recording_page.router,
    ]


def create_app(settings: WebSettings | None = None, api_clients: tuple[tuple[str, str], ...] = ()) -> FastAPI:
    """The app. ``api_clients`` (name, token) pairs let tests register record systems without a file."""
    settings = settings or WebSettings()
    engine = make_engine(settings.database_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # What is alive once the app has started (the libraries' ~250,000 objects) lives as long as the server: kept
        # out of the collector's full passes, which otherwise stopped every request for ~150 ms every dozen or so
        # requests (the web benchmark's p95). Given back to the collector when the app stops.
        gc.collect()
        gc.freeze()
        ticking = None
        if settings.scheduler_seconds:
            ticking = asyncio.create_task(
                scheduler.run_forever(engine, settings.database_url, settings.clock, settings.scheduler_seconds)
            )
        yield
        if ticking is not None:
            ticking.cancel()
            with suppress(asyncio.CancelledError):
                await ticking
        engine.dispose()
        gc.unfreeze()

    app = FastAPI(
        title="Safetynet",
        summary="A clinical safety net for NHS community mental health services",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.api_clients = api_clients
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    # The NHS.UK template asks for /assets/images/favicon.* : serve the package's assets there.
    app.mount("/assets", StaticFiles(directory=STATIC / "nhsuk" / "assets"), name="assets")
    auth.install(app)  # sign-in redirects, 401, 403 and 404 pages for every router
    security.install(app)  # security headers on every response; the 500 page
    for router in routers():
        app.include_router(router)
    return app
