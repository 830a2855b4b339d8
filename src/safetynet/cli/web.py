"""``safetynet serve``: the web app under uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer

from safetynet.cli.common import out


def serve(
    host: Annotated[
        str, typer.Option(help="The address to listen on (loopback unless you mean otherwise).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="The port to listen on.", min=1, max=65535)] = 8000,
    scheduler: Annotated[
        bool,
        typer.Option(
            "--scheduler/--no-scheduler",
            help="Escalate overdue tasks every few minutes and recompute the indicators nightly (default), or not "
            "(when another process runs the jobs).",
        ),
    ] = True,
    every: Annotated[int, typer.Option("--every", min=10, help="Seconds between the scheduler's ticks.")] = 300,
) -> None:
    """Serve the web app (sign in with an account from `safetynet accounts`). Stop it with Ctrl-C."""
    import uvicorn

    from safetynet.web.app import create_app
    from safetynet.web.settings import WebSettings

    # Cookies are always Secure here; browsers accept them from http://127.0.0.1 and localhost.
    settings = WebSettings(scheduler_seconds=every if scheduler else None)
    out.print(f"Safetynet on http://{host}:{port}/ (Ctrl-C to stop)")
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info", proxy_headers=True)
