"""``safetynet serve``: the web app under uvicorn, in one process or several."""

from __future__ import annotations

import os
import secrets
import threading
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
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            max=64,
            help="Server processes (one per core uses the machine: Python runs one request's code at a time in each).",
        ),
    ] = 1,
) -> None:
    """Serve the web app (sign in with an account from `safetynet accounts`). Stop it with Ctrl-C."""
    import uvicorn

    from safetynet.web.app import create_app
    from safetynet.web.server import HTTP_PROTOCOL
    from safetynet.web.settings import WebSettings

    out.print(f"Safetynet on http://{host}:{port}/ with {workers} worker(s) (Ctrl-C to stop)")
    # Cookies are always Secure here; browsers accept them from http://127.0.0.1 and localhost.
    if workers == 1:
        settings = WebSettings(scheduler_seconds=every if scheduler else None)
        uvicorn.run(
            create_app(settings), host=host, port=port, log_level="info", proxy_headers=True, http=HTTP_PROTOCOL
        )
        return
    # Several processes must sign sessions and CSRF tokens with one key, or a form served by one worker would be
    # refused by the next: without a configured key, one is made here for this run (sessions end when it stops).
    if not (os.environ.get("SAFETYNET_SECRET_KEY") or os.environ.get("SAFETYNET_SECRET_KEY_FILE")):
        os.environ["SAFETYNET_SECRET_KEY"] = secrets.token_urlsafe(32)
    if scheduler:  # one scheduler for the whole server, in this supervising process, rather than one per worker
        _start_scheduler(every)
    uvicorn.run(
        "safetynet.web.app:create_app",
        factory=True,
        workers=workers,
        http=HTTP_PROTOCOL,
        host=host,
        port=port,
        log_level="info",
        proxy_headers=True,
    )


def _start_scheduler(every: int) -> None:
    import asyncio

    from safetynet.core.clock import SystemClock
    from safetynet.core.db import database_url, make_engine
    from safetynet.web import scheduler

    url = database_url()
    engine = make_engine(url)
    ticking = scheduler.run_forever(engine, url, SystemClock(), every)
    threading.Thread(target=asyncio.run, args=(ticking,), name="safetynet-scheduler", daemon=True).start()
