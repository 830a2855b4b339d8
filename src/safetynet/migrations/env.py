"""Alembic environment: the record's metadata, one transaction per migration run."""

from __future__ import annotations

from alembic import context

from safetynet.core.db import make_engine
from safetynet.migrations import metadata

config = context.config
target_metadata = metadata()


def run_migrations_online() -> None:
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
