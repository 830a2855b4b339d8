"""A FHIR bulk import's audit events join the hash chain: after an import (and after importing again, and a second
import on top), ``safetynet audit verify`` finds nothing wrong."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from safetynet.audit import service as audit
from safetynet.audit.models import AuditEvent
from safetynet.core.context import Context
from safetynet.core.db import make_engine
from safetynet.interop.fhir import bulk
from tests import personas
from tests.conftest import Databases
from tests.interop.fhir.test_bulk import CLOCK, new_db, synthetic


def test_imported_audit_events_are_chained_and_the_chain_verifies(databases: Databases, tmp_path: Path) -> None:
    _, total = synthetic(databases, 4, 11, tmp_path)
    target = new_db(databases)
    engine = make_engine(target)
    try:
        first = bulk.import_paths(engine, [tmp_path], CLOCK, batch_size=200)
        again = bulk.import_paths(engine, [tmp_path], CLOCK, batch_size=200)  # nothing new: nothing added
        with Session(engine) as session:
            ctx = Context(session, personas.ALICE, CLOCK)
            imported = session.scalar(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "fhir_import")
            )
            unchained = session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.seq.is_(None)))
            verification = audit.verify_chain(ctx)
    finally:
        engine.dispose()
    assert first.imported + first.skipped == total  # skipped: what Safetynet produces (tasks), not imported
    assert again.imported == 0
    assert imported  # one event per person the import wrote about, at least
    assert unchained == 0
    assert verification.ok, verification.problems[:5]
    assert verification.events == verification.last_seq == verification.head_seq
