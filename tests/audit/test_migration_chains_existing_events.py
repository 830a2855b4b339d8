"""Events recorded before the chain existed are chained by its migration, in the order they were written."""

from __future__ import annotations

from sqlalchemy import text

from safetynet import migrations
from safetynet.core.db import make_engine
from tests.audit.helpers import verify
from tests.conftest import Databases


def test_upgrading_chains_the_events_already_there_and_going_down_and_up_again_keeps_them(
    databases: Databases,
) -> None:
    url = databases.new_url()
    migrations.upgrade(url, "0004")
    engine = make_engine(url)
    with engine.begin() as connection:
        for n in range(5):
            connection.execute(
                text(
                    "INSERT INTO audit_events (at, actor_name, actor_role, action, entity, purpose, detail) "
                    "VALUES (:at, 'Alice Key-Worker', 'key_worker', 'read', 'chart', 'direct care', :d)"
                ),
                {
                    "at": f"2024-01-15 10:0{n}:00.000000"
                    if engine.dialect.name == "sqlite"
                    else f"2024-01-15T10:0{n}Z",
                    "d": f"before the chain {n}",
                },
            )
    migrations.upgrade(url)
    result = verify(url)
    assert result.ok, result.problems
    assert (result.events, result.head_seq) == (5, 5)
    with engine.connect() as connection:
        order = connection.execute(text("SELECT detail FROM audit_events ORDER BY seq")).scalars().all()
    assert order == [f"before the chain {n}" for n in range(5)]
    migrations.downgrade(url, "0004")
    migrations.upgrade(url)
    assert verify(url).ok
    engine.dispose()
