"""Recording audit events. Every write and every read of a person's record passes through here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from safetynet.audit import chain
from safetynet.audit.chain import Verification
from safetynet.audit.models import AuditEvent
from safetynet.core.clock import iso_utc
from safetynet.core.context import Context


def record(
    ctx: Context,
    *,
    action: str,
    entity: str,
    entity_id: str | None = None,
    patient_id: str | None = None,
    detail: str | None = None,
) -> AuditEvent:
    """Add one audit event in the caller's unit of work: it commits, or vanishes, with what it describes."""
    event = AuditEvent(
        at=ctx.clock.now(),
        actor_name=ctx.actor.name,
        actor_role=str(ctx.actor.role),
        actor_staff_id=ctx.actor.staff_id,
        action=action,
        entity=entity,
        entity_id=entity_id,
        patient_id=patient_id,
        purpose=ctx.actor.purpose,
        detail=detail,
    )
    ctx.session.add(event)
    return event


# Reads are audited at commit, not when they happen. Appending to the hash chain updates its one head row, which
# every writer waits for until it commits: an event flushed as the read happened would hold that lock for the rest
# of the request (and on SQLite, the whole database's write lock), so that concurrent requests queued behind each
# other and, under load, failed with "database is locked". Kept until commit, the reads join the chain in the
# commit's own flush, holding the lock for milliseconds. They commit, or vanish, with the unit of work as before.
_PENDING_READS = "safetynet.audit.pending_reads"


def _read_row(ctx: Context, entity: str, patient_id: str, detail: str | None) -> dict[str, Any]:
    return {
        "at": ctx.clock.now(),
        "actor_name": ctx.actor.name,
        "actor_role": str(ctx.actor.role),
        "actor_staff_id": ctx.actor.staff_id,
        "action": "read",
        "entity": entity,
        "entity_id": None,
        "patient_id": patient_id,
        "purpose": ctx.actor.purpose,
        "detail": detail,
    }


def record_read(ctx: Context, *, entity: str, patient_id: str, detail: str | None = None) -> None:
    """Audit a read of a person's record, at the unit of work's commit."""
    if ctx.audit_reads:
        ctx.session.info.setdefault(_PENDING_READS, []).append(_read_row(ctx, entity, patient_id, detail))


def record_reads(ctx: Context, patient_ids: Sequence[str], *, entity: str, detail: str | None = None) -> None:
    """``record_read`` for many people at once (a caseload, a board): the same events, chained in one insert."""
    if ctx.audit_reads and patient_ids:
        ctx.session.info.setdefault(_PENDING_READS, []).extend(
            _read_row(ctx, entity, patient_id, detail) for patient_id in patient_ids
        )


def flush_reads(session: Session) -> None:
    """Chain and insert the reads recorded so far in this unit of work (the commit does this by itself)."""
    pending = session.info.pop(_PENDING_READS, None)
    if pending:
        session.flush()  # writes made in the unit of work join the chain first
        chain.append_rows(session.connection(), pending)


@event.listens_for(Session, "before_commit")
def _reads_at_commit(session: Session) -> None:
    flush_reads(session)


@event.listens_for(Session, "after_soft_rollback")
def _reads_vanish_on_rollback(session: Session, _previous: Any) -> None:
    session.info.pop(_PENDING_READS, None)


def events_for_patient(ctx: Context, patient_id: str) -> list[AuditEvent]:
    """Every audit event about this person, in chain order: reads this unit of work recorded included."""
    flush_reads(ctx.session)
    stmt = select(AuditEvent).where(AuditEvent.patient_id == patient_id).order_by(AuditEvent.id)
    return list(ctx.session.scalars(stmt))


@dataclass(frozen=True, slots=True)
class AccessLogEntry:
    """One line of a person's own access log: who saw or changed their record, when, in what role, and why."""

    at: datetime
    who: str
    role: str
    staff_id: str | None
    action: str
    what: str
    purpose: str
    detail: str | None
    seq: int | None


def access_log(ctx: Context, patient_id: str) -> list[AccessLogEntry]:
    """Everyone who read or wrote this person's record, oldest first (R27: a person's own access log on request).

    Asking is itself recorded, after the log is read, so the log shows each earlier request for it."""
    entries = [
        AccessLogEntry(
            at=e.at,
            who=e.actor_name,
            role=e.actor_role,
            staff_id=e.actor_staff_id,
            action=e.action,
            what=e.entity if e.entity_id is None else f"{e.entity} {e.entity_id}",
            purpose=e.purpose,
            detail=e.detail,
            seq=e.seq,
        )
        for e in events_for_patient(ctx, patient_id)
    ]
    record(ctx, action="read", entity="access_log", patient_id=patient_id, detail=f"{len(entries)} entries")
    return entries


def access_log_json(entries: list[AccessLogEntry]) -> list[dict[str, object]]:
    return [asdict(entry) | {"at": iso_utc(entry.at)} for entry in entries]


def verify_chain(ctx: Context, *, anchor: tuple[int, str] | None = None) -> Verification:
    """Verify the whole audit chain through this unit of work's connection (reads only)."""
    return chain.verify(ctx.session.connection(), anchor=anchor)
