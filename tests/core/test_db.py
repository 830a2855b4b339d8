"""How the embedded database is opened: every SQLite connection gets the same settings."""

from __future__ import annotations

from pathlib import Path

from safetynet.core.db import SQLITE_CACHE_KIB, SQLITE_MMAP_BYTES, make_engine


def test_sqlite_connections_have_the_log_the_cache_and_the_map(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'record.db'}")
    try:
        with engine.connect() as connection:
            pragma = connection.exec_driver_sql
            assert pragma("PRAGMA journal_mode").scalar() == "wal"
            assert pragma("PRAGMA foreign_keys").scalar() == 1
            assert pragma("PRAGMA cache_size").scalar() == -SQLITE_CACHE_KIB
            mapped = pragma("PRAGMA mmap_size").scalar()  # None where SQLite is built without memory mapping
            assert mapped is None or 0 < mapped <= SQLITE_MMAP_BYTES
    finally:
        engine.dispose()
