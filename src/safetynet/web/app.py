"""The application factory: ``create_app()`` for ``safetynet serve`` and for tests (which pass their own settings)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from safetynet.core.db import make_engine
from safetynet.web.settings import WebSettings

STATIC = Path(__file__).parent / "static"

# Each area of the web tier adds its router here (pages, FHIR, CDS Hooks, ...).
ROUTERS: list[APIRouter] = []


def create_app(settings: WebSettings | None = None) -> FastAPI:
    settings = settings or WebSettings()
    engine = make_engine(settings.database_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        engine.dispose()

    app = FastAPI(
        title="Safetynet",
        summary="A clinical safety net for NHS community mental health services",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    # The NHS.UK template asks for /assets/images/favicon.* : serve the package's assets there.
    app.mount("/assets", StaticFiles(directory=STATIC / "nhsuk" / "assets"), name="assets")
    for router in ROUTERS:
        app.include_router(router)
    return app
