"""The database: one declarative base, a UTC datetime type, engines and the unit of work.

SQLite (a file under ``./var/``) is the embedded default; PostgreSQL is production. ``SAFETYNET_DATABASE_URL``
chooses. Services never commit: the unit of work around a command or request does, once.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

DEFAULT_DATABASE_URL = "sqlite:///var/safetynet.db"

# Stable constraint names, so Alembic migrations can name what they drop.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware in Python, UTC in the database, on SQLite (which has no zones) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()} given to the database")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def sqlite_text(moment: datetime) -> str:
    """An aware moment as UTCDateTime stores it on SQLite: UTC, ``YYYY-MM-DD HH:MM:SS.ffffff`` (text order is time
    order). For writers and readers that bypass SQLAlchemy's types on the hot path."""
    return moment.astimezone(UTC).isoformat(" ", "microseconds")[:26]


def database_url() -> str:
    return os.environ.get("SAFETYNET_DATABASE_URL", DEFAULT_DATABASE_URL)


SQLITE_BUSY_SECONDS = 30
# Memory-mapped reads, up to SQLite's usual ceiling (SQLITE_MAX_MMAP_SIZE; a larger value is cut to it). A person's
# rows lie scattered through each table (written as they happen), so reading a caseload, a board or the rules batch
# goes page by page at random; mapped, a page comes from the operating system's cache without a read call and a copy.
# On the 100,000-person trust this took a fifth off the team board's reading and a quarter off the batch's time in
# SQLite. Writes still go through the write-ahead log.
SQLITE_MMAP_BYTES = 2**31 - 2**16
# Each connection's page cache, in KiB (SQLite's default is 2 MiB). An audited read of a 600-person caseload inserts
# 600 events whose patient_id index entries land on 600 different pages; with the default cache they spilled and the
# insert took half as long again.
SQLITE_CACHE_KIB = 64 * 1024


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    url = url or database_url()
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    if url.startswith("sqlite"):
        # Wait up to 30 s for another writer (Python's default is 5 s): under a burst of requests every commit queues
        # for SQLite's one write lock, and a busy machine can keep a commit waiting longer than 5 s.
        kwargs.setdefault("connect_args", {}).setdefault("timeout", SQLITE_BUSY_SECONDS)
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")  # ignored where SQLite is built without mmap
    cursor.close()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def unit_of_work(engine: Engine) -> Iterator[Session]:
    """One transaction: committed if the block finishes, rolled back (nothing written) if it raises."""
    with session_factory(engine)() as session, session.begin():
        yield session
