"""The audit trail as a hash chain: any edited, inserted, deleted or reordered event is found, and where.

Each event holds its place in the chain (``seq``: 1, 2, 3 ...), the hash of the event before it (``prev_hash``; the
first event holds ``GENESIS``) and its own hash (``event_hash``): SHA-256 of ``PREFIX`` followed by the event's
canonical serialisation, a compact UTF-8 JSON array of ``FIELDS`` in that order, its time as
``YYYY-MM-DDTHH:MM:SS.ffffffZ`` in UTC. The hash covers ``seq`` and ``prev_hash``, so an event cannot be edited,
moved, removed or slipped in without breaking the hashes or the links around it.

Appending takes the chain's head (the one row of ``audit_chain_head``) in turn: read it, work out the new links, and
move it on with a conditional ``UPDATE ... WHERE seq = <what was read>``. If another unit of work moved it first, the
update changes nothing and the append reads the head again. The updated row stays locked until the unit of work
commits (PostgreSQL's row lock; SQLite's database write lock), so two units of work can never fork the chain, and
events join it in the order they are committed. Verification compares the head with the last event too, so cutting
events off the end is found as well.

What a hash chain cannot do on its own: someone able to rewrite the whole table and the head can recompute every
hash. ``verify`` therefore prints the head, for the trust to keep somewhere else (``--anchor SEQ:HASH`` checks an
anchor later); see docs/security.md.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, Table, event, insert, select, update
from sqlalchemy.orm import Session, UOWTransaction

from safetynet.audit.models import AuditChainHead, AuditEvent

GENESIS = "0" * 64
PREFIX = b"safetynet-audit-v1\n"
HEAD_ID = 1
FIELDS = (
    "seq",
    "prev_hash",
    "at",
    "actor_name",
    "actor_role",
    "actor_staff_id",
    "action",
    "entity",
    "entity_id",
    "patient_id",
    "purpose",
    "detail",
)
# The columns after seq and prev_hash, in FIELDS order.
CONTENT = FIELDS[2:]
HEAD: Table = AuditChainHead.__table__  # type: ignore[assignment]
EVENTS: Table = AuditEvent.__table__  # type: ignore[assignment]
MAX_PROBLEMS = 1000  # problems listed in full; more are counted


def canonical_at(value: datetime | str) -> str:
    """A moment as the chain states it: UTC, microseconds, ``Z``. Accepts what either database hands back."""
    if isinstance(value, datetime):
        moment = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if len(value) == 27 and value[10] == "T" and value[-1] == "Z":
        return value
    if len(value) == 26 and value[10] == " ":  # SQLite's storage: 2024-01-15 10:00:00.000000 (UTC)
        return f"{value[:10]}T{value[11:]}Z"
    return canonical_at(datetime.fromisoformat(value))


def digest(seq: int, prev_hash: str, content: Sequence[Any]) -> str:
    """One event's hash; ``content`` is its ``CONTENT`` values (the time in any form ``canonical_at`` takes)."""
    at = canonical_at(content[0])
    return hashlib.sha256(PREFIX + orjson.dumps([seq, prev_hash, at, *content[1:]])).hexdigest()


def _content(audit_event: AuditEvent) -> tuple[Any, ...]:
    return tuple(getattr(audit_event, name) for name in CONTENT)


# --- appending ----------------------------------------------------------------------------------------------------


def _advance(connection: Connection, link: Callable[[int, str], tuple[int, str]]) -> None:
    """Move the head on by what ``link(last_seq, last_hash)`` chains (it returns the new last seq and hash)."""
    while True:
        head = connection.execute(select(HEAD.c.seq, HEAD.c.event_hash).where(HEAD.c.id == HEAD_ID)).first()
        if head is None:  # a database whose head row was never made (or was removed): start it at the genesis
            connection.execute(insert(HEAD).values(id=HEAD_ID, seq=0, event_hash=GENESIS))
            continue
        last_seq, last_hash = link(head.seq, head.event_hash)
        moved = connection.execute(
            update(HEAD).where(HEAD.c.id == HEAD_ID, HEAD.c.seq == head.seq).values(seq=last_seq, event_hash=last_hash)
        )
        if moved.rowcount == 1:
            return


def chain_events(connection: Connection, events: Sequence[AuditEvent]) -> None:
    """Give new ORM events their places, in order (called as they are flushed)."""

    def link(seq: int, prev: str) -> tuple[int, str]:
        for audit_event in events:
            seq += 1
            audit_event.seq, audit_event.prev_hash = seq, prev
            audit_event.event_hash = prev = digest(seq, prev, _content(audit_event))
        return seq, prev

    _advance(connection, link)


def chain_rows(connection: Connection, rows: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
    """For writers that insert with SQLAlchemy Core: rows of ``CONTENT`` values (the time in any form the driver
    takes), returned with ``seq``, ``prev_hash`` and ``event_hash`` added at the end. Insert them in this order, in
    the same transaction."""
    out: list[tuple[Any, ...]] = []

    def link(seq: int, prev: str) -> tuple[int, str]:
        out.clear()
        for row in rows:
            seq += 1
            this = digest(seq, prev, row)
            out.append((*row, seq, prev, this))
            prev = this
        return seq, prev

    _advance(connection, link)
    return out


def append_rows(connection: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Insert audit events given as dicts of ``CONTENT`` (a bulk import's), chained."""
    if not rows:
        return
    chained = chain_rows(connection, [tuple(row.get(name) for name in CONTENT) for row in rows])
    names = (*CONTENT, "seq", "prev_hash", "event_hash")
    connection.execute(insert(EVENTS), [dict(zip(names, row, strict=True)) for row in chained])


@event.listens_for(Session, "before_flush")
def _chain_new_events(session: Session, _context: UOWTransaction, _instances: Any) -> None:
    fresh = [obj for obj in session.new if isinstance(obj, AuditEvent) and obj.seq is None]
    if fresh:
        from sqlalchemy import inspect

        fresh.sort(key=lambda obj: inspect(obj).insert_order or 0)
        chain_events(session.connection(), fresh)


# --- verifying ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChainProblem:
    """One thing wrong with the chain: what kind (edited, broken_link, missing, reordered, outside_chain,
    repeated, head, anchor), where (seq and the row's id), and in words."""

    kind: str
    seq: int | None
    event_id: int | None
    message: str


@dataclass(slots=True)
class Verification:
    events: int = 0
    last_seq: int = 0
    last_hash: str = GENESIS
    head_seq: int | None = None
    head_hash: str | None = None
    problems: list[ChainProblem] = field(default_factory=list)
    problem_count: int = 0

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    def add(self, kind: str, seq: int | None, event_id: int | None, message: str) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(ChainProblem(kind, seq, event_id, message))


# SQLite builds each event's canonical form itself (json_array is compact, as orjson is), so that verification
# fetches one string per event instead of ten values: several times faster. Where SQLite's JSON could differ from
# orjson's (unusual control characters), the hash will not match and the event is checked again exactly
# (``_exact``) before anything is reported.
_SQLITE_AT = "CASE WHEN length(at) = 26 THEN substr(at, 1, 10) || 'T' || substr(at, 12) || 'Z' ELSE at END"
_POSTGRES_AT = "to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"


def _rows(connection: Connection, batch: int) -> Iterator[Sequence[Any]]:
    """(id, seq, prev_hash, event_hash, canonical) in chain order, straight from the driver: ``canonical`` is the
    serialised event on SQLite, the tuple of ``CONTENT`` (the time already canonical) on PostgreSQL."""
    postgres = connection.dialect.name == "postgresql"
    if postgres:
        content = ", ".join(_POSTGRES_AT if name == "at" else name for name in CONTENT)
    else:
        fields = ", ".join(_SQLITE_AT if name == "at" else name for name in CONTENT)
        content = f"json_array(seq, prev_hash, {fields})"
    sql = f"SELECT id, seq, prev_hash, event_hash, {content} FROM audit_events WHERE seq IS NOT NULL ORDER BY seq"
    raw = connection.connection.dbapi_connection
    assert raw is not None
    cursor = raw.cursor(name="safetynet_audit_verify") if postgres else raw.cursor()  # server-side on PostgreSQL
    try:
        cursor.execute(sql)
        while chunk := cursor.fetchmany(batch):
            if postgres:
                yield from ((*row[:4], row[4:]) for row in chunk)
            else:
                yield from chunk
    finally:
        cursor.close()


def _exact(connection: Connection, event_id: int) -> str:
    """One event's hash recomputed from its stored values, as ``digest`` computes it."""
    row = connection.execute(
        select(EVENTS.c.seq, EVENTS.c.prev_hash, *(EVENTS.c[name] for name in CONTENT)).where(EVENTS.c.id == event_id)
    ).one()
    return digest(row[0], row[1], tuple(row[2:]))


def verify(connection: Connection, *, anchor: tuple[int, str] | None = None, batch: int = 20_000) -> Verification:
    """Walk the whole chain and say what is wrong, and where. Reads only; run it in a transaction of its own."""
    found = Verification()
    expected, prev, last_id = 1, GENESIS, 0
    anchor_seen = False
    sha256, dumps = hashlib.sha256, orjson.dumps
    events, last_seq = 0, 0
    anchor_seq = anchor[0] if anchor is not None else -1
    for event_id, seq, prev_hash, stored, canonical in _rows(connection, batch):
        events += 1
        if canonical.__class__ is str:
            actual = sha256(PREFIX + canonical.encode()).hexdigest()
        else:
            actual = sha256(PREFIX + dumps([seq, prev_hash, *canonical])).hexdigest()
        if seq == expected and prev_hash == prev and actual == stored and event_id > last_id and seq != anchor_seq:
            expected, prev, last_id, last_seq = seq + 1, stored, event_id, seq  # the usual case, kept short
            continue
        if actual != stored:
            actual = _exact(connection, event_id)
        if seq < expected:
            found.add("repeated", seq, event_id, f"seq {seq} appears more than once (event id {event_id})")
        elif seq > expected:
            gap = f"seq {expected}" if seq == expected + 1 else f"seq {expected} to {seq - 1}"
            found.add("missing", expected, None, f"{gap} missing before event id {event_id}: deleted")
        elif prev_hash != prev:
            found.add("broken_link", seq, event_id, f"seq {seq} (id {event_id}) does not follow seq {seq - 1}")
        if actual != stored:
            found.add("edited", seq, event_id, f"seq {seq} (id {event_id}) does not match its hash: edited or moved")
        if event_id <= last_id:
            found.add("reordered", seq, event_id, f"seq {seq} (id {event_id}) was written before the event it follows")
        if seq == anchor_seq:
            anchor_seen = True
            if anchor is not None and stored != anchor[1]:
                found.add("anchor", seq, event_id, f"seq {seq} no longer has the hash anchored for it")
        expected, prev, last_id, last_seq = max(expected, seq + 1), stored, max(last_id, event_id), seq
    found.events, found.last_seq = events, last_seq
    found.last_hash = prev
    outside = connection.execute(select(EVENTS.c.id).where(EVENTS.c.seq.is_(None)).order_by(EVENTS.c.id)).scalars()
    for event_id in outside:
        found.add("outside_chain", None, event_id, f"event id {event_id} has no place in the chain: inserted round it")
    head = connection.execute(select(HEAD.c.seq, HEAD.c.event_hash).where(HEAD.c.id == HEAD_ID)).first()
    if head is None:
        found.add("head", None, None, "the chain head is missing")
    else:
        found.head_seq, found.head_hash = head.seq, head.event_hash
        if head.seq > found.last_seq:
            found.add(
                "head",
                head.seq,
                None,
                f"the chain ends at seq {found.last_seq} but its head is at {head.seq}: events at the end were deleted",
            )
        elif (head.seq, head.event_hash) != (found.last_seq, found.last_hash):
            found.add(
                "head",
                found.last_seq,
                None,
                f"the chain head (seq {head.seq}) does not match the last event "
                f"(seq {found.last_seq}): events were added round the chain, or the head was changed",
            )
    if anchor is not None and not anchor_seen:
        found.add("anchor", anchor[0], None, f"seq {anchor[0]}, anchored earlier, is not in the chain")
    return found
