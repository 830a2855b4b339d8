"""Backing up and restoring the database: SQLite's online backup API, PostgreSQL's pg_dump and pg_restore.

- SQLite: ``sqlite3.Connection.backup`` copies a consistent snapshot while the database is in use (write-ahead log
  included); restoring copies it back the same way into an empty database file.
- PostgreSQL: ``pg_dump --format=custom`` (one consistent snapshot) and ``pg_restore --single-transaction`` into an
  empty database. Both tools must be installed and at least as new as the server (pg_dump refuses a newer server);
  that is checked first, with a clear message. The password goes to the tools in the environment, never on their
  command line.

A restore goes only into an empty database, so it can never overwrite a live record. ``fingerprint`` digests every
table's rows, so a restored copy can be compared with its original; the command line also verifies the restored
copy's audit chain.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, MetaData, inspect, select, text
from sqlalchemy.engine import make_url

from safetynet.core.errors import SafetynetError

PG_MAGIC = b"PGDMP"
SQLITE_MAGIC = b"SQLite format 3\x00"


class BackupError(SafetynetError):
    """A backup or restore that cannot be done safely; nothing was changed."""


@dataclass(frozen=True, slots=True)
class BackupInfo:
    kind: str  # sqlite | postgresql
    path: Path
    size: int
    tool: str  # what made it


def backup(url: str, out: Path) -> BackupInfo:
    """Write a consistent copy of the database at ``url`` to ``out`` (which must not exist)."""
    if out.exists():
        raise BackupError(f"{out} already exists: choose a new file")
    kind = make_url(url).get_backend_name()
    out.parent.mkdir(parents=True, exist_ok=True)
    if kind == "sqlite":
        source = _sqlite_path(url)
        if not source.exists():
            raise BackupError(f"no database at {source}")
        with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as src, sqlite3.connect(out) as dst:
            src.backup(dst)
        tool = f"SQLite {sqlite3.sqlite_version} online backup"
    elif kind == "postgresql":
        tool = _check_pg_tool("pg_dump", url)
        _run_pg(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={out}"], url)
    else:
        raise BackupError(f"cannot back up a {kind} database")
    return BackupInfo(kind, out, out.stat().st_size, tool)


def restore(path: Path, url: str) -> str:
    """Restore a backup into the EMPTY database at ``url``; returns the tool that did it."""
    if not path.is_file():
        raise BackupError(f"no backup at {path}")
    head = path.read_bytes()[:16]
    kind = make_url(url).get_backend_name()
    if kind == "sqlite":
        if not head.startswith(SQLITE_MAGIC):
            raise BackupError(f"{path} is not an SQLite backup")
        target = _sqlite_path(url)
        if target.exists() and _sqlite_tables(target):
            raise BackupError(f"{target} already holds tables: restore only into a new, empty database")
        target.parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as src, sqlite3.connect(target) as dst:
            src.backup(dst)
        return f"SQLite {sqlite3.sqlite_version} online backup"
    if kind == "postgresql":
        if not head.startswith(PG_MAGIC):
            raise BackupError(f"{path} is not a pg_dump custom-format backup")
        tool = _check_pg_tool("pg_restore", url)
        if _pg_tables(url):
            raise BackupError("the target database already holds tables: restore only into a new, empty database")
        _run_pg(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"], url, path)
        return tool
    raise BackupError(f"cannot restore into a {kind} database")


def fingerprint(engine: Engine) -> dict[str, tuple[int, str]]:
    """Every table's row count and a SHA-256 of its rows in primary-key order: equal for a faithful copy."""
    metadata = MetaData()
    metadata.reflect(engine)
    found = {}
    with engine.connect() as connection:
        for name, table in sorted(metadata.tables.items()):
            order = list(table.primary_key.columns) or list(table.columns)
            digest = hashlib.sha256()
            count = 0
            for row in connection.execute(select(table).order_by(*order)):
                digest.update(repr(tuple(row)).encode())
                count += 1
            found[name] = (count, digest.hexdigest())
    return found


# --- helpers ----------------------------------------------------------------------------------------------------


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    return Path(database)


def _sqlite_tables(path: Path) -> list[str]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        return [r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]


def _pg_tables(url: str) -> list[str]:
    from safetynet.core.db import make_engine

    engine = make_engine(url)
    try:
        return inspect(engine).get_table_names()
    finally:
        engine.dispose()


def _server_major(url: str) -> int:
    from safetynet.core.db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text("SHOW server_version_num")).scalar_one()) // 10000
    finally:
        engine.dispose()


def _check_pg_tool(tool: str, url: str) -> str:
    """The tool's version line, if it is installed and can work with the server; BackupError otherwise."""
    if shutil.which(tool) is None:
        raise BackupError(f"{tool} is not installed (Debian: apt-get install postgresql-client)")
    version = subprocess.run([tool, "--version"], capture_output=True, text=True, check=True).stdout.strip()  # noqa: S603
    found = re.search(r"(\d+)(?:\.\d+)?", version)
    if not found:
        raise BackupError(f"cannot read the version of {tool}: {version!r}")
    major, server = int(found.group(1)), _server_major(url)
    if major < server:
        raise BackupError(f"{tool} {major} is older than the PostgreSQL {server} server: install {tool} {server}")
    return version


def _run_pg(command: list[str], url: str, path: Path | None = None) -> None:
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    args = [
        *command,
        f"--host={parsed.host or 'localhost'}",
        f"--port={parsed.port or 5432}",
        f"--username={parsed.username or 'postgres'}",
        f"--dbname={parsed.database}",
    ]
    if path is not None:
        args.append(str(path))
    done = subprocess.run(args, capture_output=True, text=True, env=env, check=False)  # noqa: S603 (no shell)
    if done.returncode != 0:
        raise BackupError(f"{command[0]} failed: {done.stderr.strip() or done.stdout.strip()}")
