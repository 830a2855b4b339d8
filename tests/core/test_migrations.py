"""Migrations are reversible, and the models and the migrations describe the same schema."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from safetynet import migrations
from safetynet.core.db import make_engine
from safetynet.core.facts import append_only_tables
from tests.conftest import Databases


def test_upgrade_then_downgrade_then_upgrade_again(databases: Databases) -> None:
    url = databases.new_url()
    engine = make_engine(url)
    migrations.upgrade(url)
    assert migrations.current(engine) is not None
    assert "risk_events" in inspect(engine).get_table_names()
    migrations.downgrade(url, "base")
    assert migrations.current(engine) is None
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    migrations.upgrade(url)
    assert "risk_events" in inspect(engine).get_table_names()
    engine.dispose()


def test_the_models_match_the_migrations(engine) -> None:  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        diff = compare_metadata(
            MigrationContext.configure(connection, opts={"compare_type": True}), migrations.metadata()
        )
    assert diff == []


def test_every_append_only_table_gets_its_triggers_in_a_migration() -> None:
    declared: set[str] = set()
    for path in sorted(Path(migrations.HERE, "versions").glob("*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        assert spec
        assert spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        declared |= set(getattr(module, "APPEND_ONLY", []))
    assert declared == set(append_only_tables(dict(migrations.metadata().tables)))
