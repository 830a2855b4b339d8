"""Request dependencies: the engine, the clock and one unit of work per request.

A request that writes commits once, after the safety net has reconciled everyone it wrote about (as the command
line does); a request that fails writes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import Request
from sqlalchemy import Engine

from safetynet.core.clock import Clock
from safetynet.core.context import Actor, Context
from safetynet.core.db import unit_of_work as db_unit_of_work
from safetynet.tasks.runner import reconcile_touched
from safetynet.web.settings import WebSettings


def settings(request: Request) -> WebSettings:
    made: WebSettings = request.app.state.settings
    return made


def engine(request: Request) -> Engine:
    made: Engine = request.app.state.engine
    return made


def clock(request: Request) -> Clock:
    return settings(request).clock


@contextmanager
def unit_of_work(request: Request, actor: Actor) -> Iterator[Context]:
    """One request, one unit of work, acting as ``actor``: commits at the end, after incremental evaluation."""
    with db_unit_of_work(engine(request)) as session:
        ctx = Context(session, actor, clock(request))
        yield ctx
        reconcile_touched(ctx)
