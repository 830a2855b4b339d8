"""What every command module shares: consoles, output formats, the acting user and the unit of work.

Each command group lives in its own module (``cli/<area>.py``) and is registered in ``cli/__init__.py``."""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.console import Console

from safetynet.core.clock import SystemClock, parse_moment
from safetynet.core.context import Actor, Context, Role
from safetynet.core.db import make_engine
from safetynet.core.db import unit_of_work as db_unit_of_work
from safetynet.core.errors import NotFound, SafetynetError, ValidationFailed

out = Console()
err = Console(stderr=True)


class Format(StrEnum):
    TEXT = "text"
    JSON = "json"


FormatOption = Annotated[Format, typer.Option("--format", help="text for people, json for programs.")]
PurposeOption = Annotated[str, typer.Option("--purpose", help="Why you are looking: recorded in the audit trail.")]


def actor(purpose: str) -> Actor:
    """The person at the command line: an administrator, named by their operating-system account."""
    return Actor(name=f"command line ({getpass.getuser()})", role=Role.ADMINISTRATOR, purpose=purpose)


@contextmanager
def unit_of_work(purpose: str) -> Iterator[Context]:
    """One command, one unit of work: commits once at the end (after the safety net has answered every write), or
    not at all. Refused input and missing things become a clear message and a non-zero exit."""
    from safetynet import migrations

    engine = make_engine()
    if migrations.current(engine) is None:
        engine.dispose()
        err.print("[red]The database has no schema yet: run `safetynet db upgrade` first.[/red]")
        raise typer.Exit(1)
    try:
        with db_unit_of_work(engine) as session:
            ctx = Context(session, actor(purpose), SystemClock())
            yield ctx
            reevaluate(ctx)
    except ValidationFailed as exc:
        err.print(f"[red]Refused: {len(exc.problems)} problem(s); nothing was written.[/red]")
        for problem in exc.problems:
            err.print(f"  - {problem}")
        raise typer.Exit(2) from None
    except (NotFound, SafetynetError) as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    finally:
        engine.dispose()


def reevaluate(ctx: Context) -> None:
    """Incremental evaluation before the unit of work commits; failures are loud (they are operational alerts)."""
    from safetynet.tasks.runner import reconcile_touched

    result = reconcile_touched(ctx)
    if result.failures:
        err.print(f"[bold red]{len(result.failures)} rule evaluation(s) FAILED; see operational alerts.[/bold red]")


def moment(value: str | None) -> datetime | None:
    """A date or datetime from the command line (London time unless it says otherwise)."""
    if value is None:
        return None
    try:
        return parse_moment(value)
    except ValueError:
        err.print(f"[red]{value!r} is not a date or datetime (use 2024-02-20 or 2024-02-20T14:30).[/red]")
        raise typer.Exit(2) from None


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
