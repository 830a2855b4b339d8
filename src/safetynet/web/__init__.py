"""The web tier: a server-rendered FastAPI app (Jinja2, NHS.UK frontend, HTMX) and the HTTP APIs (FHIR, CDS Hooks).

``app.create_app`` builds it; each area adds its router to ``app.ROUTERS``. Requests run in one unit of work each
(``deps``), which the safety net answers before it commits, as the command line's do."""
