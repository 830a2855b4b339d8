"""Alembic migrations, and the functions the CLI and tests use to move a database up and down."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, MetaData

from safetynet.core.db import Base

HERE = Path(__file__).parent


def metadata() -> MetaData:
    """Every table of the product on one metadata: the record's and the layers above it."""
    from safetynet.access import grants as access_grants  # noqa: F401
    from safetynet.access import models as access_models  # noqa: F401
    from safetynet.interop.fhir import models as fhir_models  # noqa: F401
    from safetynet.oversight import models as oversight_models  # noqa: F401
    from safetynet.record import registry  # noqa: F401
    from safetynet.tasks import models  # noqa: F401

    return Base.metadata


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)


def current(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
