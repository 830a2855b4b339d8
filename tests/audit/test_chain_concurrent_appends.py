"""Units of work appending at the same time take the chain's head in turn: the chain never forks."""

from __future__ import annotations

import threading
from datetime import datetime

from sqlalchemy import func, select, text

from safetynet.audit import service as audit
from safetynet.audit.models import AuditEvent
from safetynet.core.clock import LONDON, FixedClock
from safetynet.core.context import Context
from safetynet.core.db import make_engine, unit_of_work
from safetynet.core.ids import SeededIds
from tests import personas
from tests.audit.helpers import verify

THREADS, UNITS, PER_UNIT = 4, 5, 3


def test_concurrent_units_of_work_make_one_unbroken_chain(fresh_url: str) -> None:
    start = threading.Barrier(THREADS)
    failures: list[BaseException] = []

    def work(worker: int) -> None:
        engine = make_engine(fresh_url)
        clock = FixedClock(datetime(2024, 3, 31, 0, 30, tzinfo=LONDON))
        try:
            start.wait()
            for unit in range(UNITS):
                with unit_of_work(engine) as session:
                    ctx = Context(session, personas.CAROL, clock, SeededIds(f"{worker}-{unit}"))
                    session.scalar(select(func.count()).select_from(AuditEvent))  # read first, as requests do
                    for n in range(PER_UNIT):
                        audit.record(ctx, action="read", entity="chart", detail=f"worker {worker} unit {unit} #{n}")
                        session.flush()
        except BaseException as exc:
            failures.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    result = verify(fresh_url)
    assert result.ok, result.problems
    assert result.events == THREADS * UNITS * PER_UNIT
    engine = make_engine(fresh_url)
    with engine.connect() as connection:
        seqs = connection.execute(text("SELECT seq FROM audit_events ORDER BY seq")).scalars().all()
        # each unit of work's events sit together in the chain: the head is held until it commits
        details = connection.execute(text("SELECT detail FROM audit_events ORDER BY seq")).scalars().all()
    engine.dispose()
    assert seqs == list(range(1, THREADS * UNITS * PER_UNIT + 1))
    units = [d.rsplit(" #", 1)[0] for d in details]
    runs = [units[i : i + PER_UNIT] for i in range(0, len(units), PER_UNIT)]
    assert all(len(set(run)) == 1 for run in runs)
