"""Writing audit events as units of work do, and tampering with them as an attacker with database access would."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import Connection, text

from safetynet.audit import chain
from safetynet.audit import service as audit
from safetynet.core.clock import FixedClock
from safetynet.core.context import Actor, Context
from safetynet.core.db import make_engine, unit_of_work
from safetynet.core.ids import SeededIds
from tests import personas


def write_events(url: str, clock: FixedClock, count: int, *, actor: Actor = personas.ALICE, per_unit: int = 2) -> None:
    """``count`` audit events, committed a few per unit of work, a minute apart."""
    engine = make_engine(url)
    written = 0
    while written < count:
        with unit_of_work(engine) as session:
            ctx = Context(session, actor, clock, SeededIds(f"audit-{written}"))
            for _ in range(min(per_unit, count - written)):
                audit.record(ctx, action="read", entity="chart", patient_id="p-1", detail=f"event {written}")
                clock.advance(timedelta(minutes=1))
                written += 1
    engine.dispose()


def verify(url: str, anchor: tuple[int, str] | None = None) -> chain.Verification:
    engine = make_engine(url)
    with engine.connect() as connection:
        result = chain.verify(connection, anchor=anchor)
    engine.dispose()
    return result


@contextmanager
def attacker(url: str) -> Iterator[Connection]:
    """A connection with the append-only guard taken off, as someone with the database's owner rights could."""
    engine = make_engine(url)
    with engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            connection.execute(text("DROP TRIGGER audit_events_no_update"))
            connection.execute(text("DROP TRIGGER audit_events_no_delete"))
        else:
            connection.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
        yield connection
    engine.dispose()


def kinds(result: chain.Verification) -> set[tuple[str, int | None]]:
    return {(p.kind, p.seq) for p in result.problems}
