"""Test set-up: the same suite runs on SQLite (default) and on PostgreSQL (``--db postgresql``).

Each test gets a session inside a transaction that is rolled back afterwards, on a database built by the real
Alembic migrations (so the append-only triggers are the production ones).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from safetynet import migrations
from safetynet.core.clock import LONDON, FixedClock
from safetynet.core.context import Context
from safetynet.core.db import make_engine
from safetynet.core.ids import SeededIds
from tests import personas

POSTGRES_SERVER = os.environ.get("SAFETYNET_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
SCENARIOS = Path(__file__).parent / "scenarios"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        choices=("sqlite", "postgresql"),
        default=os.environ.get("SAFETYNET_TEST_DB", "sqlite"),
        help="Which database the suite runs against.",
    )


class Databases:
    """Makes empty databases of the kind under test, and drops them afterwards."""

    def __init__(self, kind: str, tmp: Path) -> None:
        self.kind = kind
        self.tmp = tmp
        self.created: list[str] = []

    def new_url(self) -> str:
        name = f"safetynet_test_{uuid.uuid4().hex[:12]}"
        if self.kind == "sqlite":
            return f"sqlite:///{self.tmp / name}.db"
        server = create_engine(POSTGRES_SERVER, isolation_level="AUTOCOMMIT")
        with server.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        server.dispose()
        self.created.append(name)
        return POSTGRES_SERVER.rsplit("/", 1)[0] + f"/{name}"

    def drop_all(self) -> None:
        if not self.created:
            return
        server = create_engine(POSTGRES_SERVER, isolation_level="AUTOCOMMIT")
        with server.connect() as connection:
            for name in self.created:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


@pytest.fixture(scope="session")
def databases(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Databases]:
    made = Databases(request.config.getoption("--db"), tmp_path_factory.mktemp("db"))
    yield made
    made.drop_all()


@pytest.fixture(scope="session")
def migrated_url(databases: Databases) -> str:
    url = databases.new_url()
    migrations.upgrade(url)
    return url


@pytest.fixture(scope="session")
def engine(migrated_url: str) -> Iterator[Engine]:
    made = make_engine(migrated_url)
    yield made
    made.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session whose work is rolled back after the test: tests never see each other's data."""
    connection = engine.connect()
    transaction = connection.begin()
    made = Session(bind=connection, join_transaction_mode="create_savepoint")
    yield made
    made.close()
    transaction.rollback()
    connection.close()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2024, 1, 15, 10, 0, tzinfo=LONDON))


@pytest.fixture
def ctx(session: Session, clock: FixedClock) -> Context:
    return Context(session, personas.ALICE, clock, SeededIds("tests"))


@pytest.fixture
def fresh_url(databases: Databases) -> str:
    """An empty, migrated database that a test may commit to (for commands and units of work)."""
    url = databases.new_url()
    migrations.upgrade(url)
    return url
