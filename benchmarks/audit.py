"""The audit trail's hash chain (section ``audit``).

    python -m benchmarks.run --section audit            # 10,000,000 events on SQLite, 1,000,000 on PostgreSQL
    python -m benchmarks.run --section audit --quick    # 100,000 and 20,000: a smoke check

1. ``audit verify`` over the whole chain: wall time and events per second, on SQLite and on PostgreSQL. The events
   are written first, chained exactly as the product chains them (``audit.chain.chain_rows``), in batches.
2. Appending: events chained and inserted per second in bulk, and the cost of the chain on a unit of work that
   records 20 events (median of many runs, against the same unit of work without audit events).
"""

from __future__ import annotations

import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text

from benchmarks.report import Report, ms, scratch_postgres
from safetynet import migrations
from safetynet.audit import chain
from safetynet.audit import service as audit
from safetynet.audit.models import AuditEvent
from safetynet.core.clock import FixedClock
from safetynet.core.context import Actor, Context, Role
from safetynet.core.db import make_engine, unit_of_work
from safetynet.core.ids import SeededIds

TITLE = "The audit trail's hash chain"
INTRO = (
    "Events are chained exactly as the product chains them, then `audit.chain.verify` (what `safetynet audit "
    "verify` runs) walks the whole chain, recomputing every hash and checking every link, the order and the head."
)
TARGET_SECONDS = 60
BATCH = 50_000
ACTOR = Actor(name="Benchmark Clinician", role=Role.KEY_WORKER, staff_id=str(uuid.UUID(int=1)), purpose="direct care")


def _fill(url: str, events: int) -> float:
    """Write ``events`` chained audit events; returns the seconds it took."""
    engine = make_engine(url)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    began = time.perf_counter()
    names = (*chain.CONTENT, "seq", "prev_hash", "event_hash")
    with engine.begin() as connection:
        for first in range(0, events, BATCH):
            rows = [
                (
                    start + timedelta(seconds=n),
                    ACTOR.name,
                    "key_worker",
                    ACTOR.staff_id,
                    "read",
                    "chart",
                    None,
                    str(uuid.UUID(int=n % 5000 + 10)),
                    "direct care",
                    "as known now",
                )
                for n in range(first, min(events, first + BATCH))
            ]
            chained = chain.chain_rows(connection, rows)
            connection.execute(insert(AuditEvent.__table__), [dict(zip(names, r, strict=True)) for r in chained])
    engine.dispose()
    return time.perf_counter() - began


def _verify(url: str) -> tuple[float, chain.Verification]:
    engine = make_engine(url)
    with engine.connect() as connection:
        began = time.perf_counter()
        result = chain.verify(connection)
        took = time.perf_counter() - began
    engine.dispose()
    return took, result


def _chain_cost(url: str, runs: int) -> tuple[float, float]:
    """Median seconds of a unit of work recording 20 audit events, chained, against one adding nothing."""
    engine = make_engine(url)
    clock = FixedClock(datetime(2024, 6, 1, 9, tzinfo=UTC))
    with_audit, without = [], []
    for run in range(runs):
        for timings, events in ((with_audit, 20), (without, 0)):
            began = time.perf_counter()
            with unit_of_work(engine) as session:
                ctx = Context(session, ACTOR, clock, SeededIds(f"bench-{run}"))
                session.execute(text("SELECT 1"))
                for n in range(events):
                    audit.record(ctx, action="read", entity="chart", patient_id="p", detail=f"read {n}")
            timings.append(time.perf_counter() - began)
    engine.dispose()
    return statistics.median(with_audit), statistics.median(without)


def _section(report: Report, label: str, url: str, events: int, full: bool) -> None:
    migrations.upgrade(url)
    wrote = _fill(url, events)
    report.add(f"{label}: chain and insert {events:,} events", f"{wrote:.1f} s ({events / wrote:,.0f} events/s)")
    took, result = _verify(url)
    assert result.ok, result.problems[:3]
    assert result.events == events
    target = f"< {TARGET_SECONDS} s for 10,000,000" if full else ""
    report.add(
        f"{label}: `audit verify` over {events:,} events",
        f"{took:.1f} s ({events / took:,.0f} events/s)",
        target,
        (took < TARGET_SECONDS) if full else None,
    )
    chained, plain = _chain_cost(url, 15)
    report.add(
        f"{label}: a unit of work recording 20 audit events (chain head taken once)",
        f"median {ms(chained)} against {ms(plain)} with none",
    )


def measure(quick: bool) -> Report:
    report = Report()
    sqlite_events = 100_000 if quick else 10_000_000
    postgres_events = 20_000 if quick else 1_000_000
    with tempfile.TemporaryDirectory() as tmp:
        _section(report, "SQLite", f"sqlite:///{Path(tmp) / 'audit.db'}", sqlite_events, not quick)
    with scratch_postgres("audit") as url:
        if url is None:
            report.notes.append("PostgreSQL was not reachable: its rows are missing.")
        else:
            _section(report, "PostgreSQL", url, postgres_events, False)
    projected = [r for r in report.rows if "audit verify" in r.benchmark]
    if quick and projected:
        report.notes.append("Quick mode: the 10,000,000-event target applies to the full run only.")
    return report
