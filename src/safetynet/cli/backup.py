"""``safetynet backup`` and ``safetynet restore``: a consistent copy of the database, and back into an empty one."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from safetynet.cli.common import err, out
from safetynet.core.backup import BackupError
from safetynet.core.backup import backup as make_backup
from safetynet.core.backup import restore as do_restore
from safetynet.core.db import database_url, make_engine

BROKEN = 4  # as `safetynet audit verify`: the restored copy's audit chain does not verify


def backup(
    out_path: Annotated[Path, typer.Option("--out", help="The backup file to write (it must not exist).")],
) -> None:
    """Back up the database: SQLite's online backup API, or pg_dump (custom format) for PostgreSQL."""
    try:
        info = make_backup(database_url(), out_path)
    except BackupError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    out.print(f"Backed up the {info.kind} database to {info.path} ({info.size:,} bytes; {info.tool}).")


def restore(
    file: Annotated[Path, typer.Argument(help="A backup made by `safetynet backup`.")],
    verify: Annotated[
        bool, typer.Option("--verify/--no-verify", help="Verify the restored copy's audit chain (default: yes).")
    ] = True,
) -> None:
    """Restore a backup into the database named by SAFETYNET_DATABASE_URL, which must be empty; then verify its
    audit chain."""
    from safetynet.audit import chain

    url = database_url()
    try:
        tool = do_restore(file, url)
    except BackupError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    out.print(f"Restored {file} ({tool}).")
    if not verify:
        return
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            result = chain.verify(connection)
    finally:
        engine.dispose()
    if not result.ok:
        err.print(f"[bold red]The restored audit chain does NOT verify: {result.problem_count} problem(s).[/bold red]")
        for problem in result.problems[:20]:
            err.print(f"  - {problem.kind}: {problem.message}")
        raise typer.Exit(BROKEN)
    out.print(
        f"The restored audit chain verifies: {result.events} events, head {result.head_seq}:{result.head_hash}",
        soft_wrap=True,
    )


def register(app: typer.Typer) -> None:
    app.command("backup")(backup)
    app.command("restore")(restore)
