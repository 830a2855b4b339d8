"""Bulk FHIR: export the record as NDJSON (one file per resource type) and import NDJSON files or Bundles.

Import is idempotent and resumable. Each batch of resources is one transaction holding the facts, the ledger rows
saying what each resource version became (``fhir_import_ledger``), one audit event per person and the safety net's
answer for everyone the batch wrote about. A resource version already in the ledger with the same content is
skipped, so importing the same data twice changes nothing, and an import killed at any moment, run again, carries
on after the last batch that committed. A resource that cannot become part of the record is refused whole, with an
OperationOutcome naming the file, the line and the field; the rest of its batch is written.

Speed: the main process reads NDJSON a block at a time and hands whole chunks of lines to worker processes, which
parse them with orjson, map them straight to rows (the fhir.resources models are not used here: the mapping checks
every field it reads) and encode each row for the database (``_Codec``: a line of COPY text on PostgreSQL, the
driver's parameters on SQLite), so that what comes back is compact and the writer only checks each resource against
the record, adds the columns the record decides (version, recorded_at, amendment_reason) and writes: one COPY (or
``executemany``) per table per batch, the ledger and the audit events included.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from pathlib import Path
from sys import intern
from typing import IO, Any, NamedTuple, TypeVar

import orjson
from sqlalchemy import (
    JSON,
    Dialect,
    Engine,
    Integer,
    String,
    Table,
    any_,
    bindparam,
    create_engine,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from safetynet.audit import chain as audit_chain
from safetynet.core.clock import Clock
from safetynet.core.context import Actor, Context, Role
from safetynet.core.ids import IdSource, RandomIds
from safetynet.interop.fhir import codes, produced
from safetynet.interop.fhir.mapping import BY_RESOURCE, BY_TABLE, PRODUCED_TYPES, mapper_for_resource, mapper_for_row
from safetynet.interop.fhir.mapping.base import (
    FHIR_ID,
    MAX_ID,
    Issue,
    Refused,
    Res,
    Row,
    defaults,
    from_resource,
    parse_datetime,
    to_resource,
)
from safetynet.interop.fhir.mapping.people import (
    organisation_resource,
    organization_fields,
    patient_fields,
    patient_resource,
    practitioner_fields,
    staff_resource,
    team_resource,
)
from safetynet.interop.fhir.models import FhirImportLedger
from safetynet.interop.fhir.store import DETAILS, ORGANISATIONS, PATIENTS, STAFF, STAFF_COLUMNS, TEAM_COLUMNS, TEAMS
from safetynet.interop.text import NUL_MESSAGE, has_nul, whole_number

LEDGER = FhirImportLedger.__table__
T = TypeVar("T")
IMPORTER = Actor(name="FHIR import", role=Role.SYSTEM, purpose="FHIR bulk import")
# Resource types in the order their references need them.
RANK = {"Organization": 0, "Practitioner": 1, "Patient": 2}
DEFAULT_EXPORT = (
    "Organization",
    "Practitioner",
    "Patient",
    *sorted(BY_RESOURCE),
    "DetectedIssue",
    "Consent",
)


def _rank(kind: str) -> int:
    return RANK.get(kind, 3)


# --- export ---------------------------------------------------------------------------------------------------


def export_resources(session: Session, kind: str) -> Iterator[Res]:
    """Every version of every resource of ``kind``, oldest first within each resource."""
    if kind == "Organization":
        for row in session.execute(
            select(ORGANISATIONS).order_by(ORGANISATIONS.c.created_at, ORGANISATIONS.c.id)
        ).mappings():
            yield organisation_resource(dict(row))
        for row in session.execute(select(TEAMS).order_by(TEAMS.c.created_at, TEAMS.c.id)).mappings():
            yield team_resource(dict(row))
    elif kind == "Practitioner":
        for row in session.execute(select(STAFF).order_by(STAFF.c.created_at, STAFF.c.id)).mappings():
            yield staff_resource(dict(row))
    elif kind == "Patient":
        patients = {row["id"]: dict(row) for row in session.execute(select(PATIENTS)).mappings()}
        stmt = select(DETAILS).order_by(DETAILS.c.patient_id, DETAILS.c.version)
        for row in session.execute(stmt).mappings():
            yield patient_resource(patients[row["patient_id"]], dict(row))
    elif kind in BY_RESOURCE:
        for table in dict.fromkeys(m.name for m in BY_RESOURCE[kind]):
            t = BY_TABLE[table][0].table
            stmt = select(t).order_by(t.c.patient_id, t.c.fact_id, t.c.version).execution_options(yield_per=5000)
            for row in session.execute(stmt).mappings():
                mapper = mapper_for_row(table, dict(row))
                if mapper.resource == kind:
                    yield to_resource(mapper, dict(row))
        if kind == "Task":
            yield from produced.search(session, "Task", None, [])
    elif kind in PRODUCED_TYPES:
        yield from produced.search(session, kind, None, [])


@dataclass
class Exported:
    files: dict[str, int] = field(default_factory=dict)  # file name -> resources written


def export(engine: Engine, out: Path, kinds: Iterable[str] = DEFAULT_EXPORT) -> Exported:
    """Write ``{Type}.ndjson`` files into ``out``; one consistent read transaction for all of them."""
    out.mkdir(parents=True, exist_ok=True)
    done = Exported()
    with Session(engine) as session, session.begin():
        for kind in kinds:
            path = out / f"{kind}.ndjson"
            count = 0
            with path.open("wb") as handle:
                for res in export_resources(session, kind):
                    handle.write(orjson.dumps(res))
                    handle.write(b"\n")
                    count += 1
            done.files[path.name] = count
    return done


def export_lines(session: Session, kind: str) -> Iterator[bytes]:
    for res in export_resources(session, kind):
        yield orjson.dumps(res) + b"\n"


# --- import -----------------------------------------------------------------------------------------------------


@dataclass
class Refusal:
    source: str
    line: int
    resource: str
    issues: list[Issue]


@dataclass
class ImportReport:
    read: int = 0
    imported: int = 0
    unchanged: int = 0  # already imported with the same content
    skipped: int = 0  # produced by Safetynet (tasks, findings, consent views, audit): not imported
    refused: list[Refusal] = field(default_factory=list)
    batches: int = 0
    tasks_opened: int = 0

    def as_outcome(self) -> Res:
        issues: list[Res] = [
            {
                "severity": "information",
                "code": "informational",
                "diagnostics": f"read {self.read}, imported {self.imported}, unchanged {self.unchanged}, "
                f"skipped {self.skipped} (produced by Safetynet), refused {len(self.refused)}",
            }
        ]
        for refusal in self.refused:
            for issue in refusal.issues:
                issues.append(
                    {
                        "severity": "error",
                        "code": issue.code,
                        "diagnostics": f"{refusal.source} line {refusal.line} ({refusal.resource}): {issue.message}",
                        "expression": [issue.expression],
                        "location": [f"{refusal.source}:{refusal.line}"],
                    }
                )
        return {"resourceType": "OperationOutcome", "issue": issues}


class _Raw(NamedTuple):
    """One line, not yet parsed (a line of a file that is not NDJSON throughout, or one line of ``_Lines``)."""

    source: str
    line: int
    raw: bytes


class _Lines(NamedTuple):
    """Lines of NDJSON, read in a block and not yet parsed (parsing and mapping happen in worker processes).
    ``first`` is the number of the first line; blank lines are kept (for the numbering) but count for nothing:
    ``counted`` is how many are not blank."""

    source: str
    first: int
    lines: list[bytes]
    counted: int


class _Parsed(NamedTuple):
    """One resource of a JSON document (a Bundle's entry, a pretty-printed resource), parsed but not yet mapped."""

    source: str
    line: int
    digest: str
    res: Res
    nul: bool = False  # holds a NUL character (U+0000), which no text in the record may hold


def _nul(raw: bytes, res: Any) -> bool:
    """Does the resource hold a NUL character? JSON writes one as \\u0000, so only then is it looked for."""
    return b"\\u0000" in raw and has_nul(res)


class _Item(NamedTuple):
    """One resource, parsed and mapped to what it would become, before the record is consulted.

    Compact, because it travels from a worker process to the writer: a fact arrives as the head of its row, already
    encoded for the database (``_Codec``), with what the writer checks beside it; the writer adds the columns only
    the record decides (version, recorded_at, amendment_reason). The ledger row's head is encoded likewise."""

    source: str
    line: int
    digest: str
    kind: str
    ident: str
    version_id: str
    last_updated: datetime | None
    what: str  # fact | patient | directory | produced | refused
    table: str = ""
    tagged: bool = False
    issues: list[Issue] | None = None  # refused: why
    fields: Row | None = None  # patient: the patient_details fields; directory: the row
    extra: Row | None = None  # patient: the patients fields
    patient: str | None = None  # fact: the person
    teams: tuple[tuple[str, str], ...] = ()  # fact: (column, team id) it names
    staff: tuple[tuple[str, str], ...] = ()  # fact: (column, staff id) it names
    amendment: str | None = None  # fact: the amendment reason it states
    row: Any = None  # fact: the head of its row, encoded
    ledger: Any = None  # the head of its ledger row, encoded


Piece = _Lines | _Raw | _Parsed | Refusal
BLOCK = 1 << 20  # NDJSON is read this many bytes at a time
# A blank line (empty, or only the whitespace bytes.strip() removes) in a block of whole lines, after the first
# (the first is looked at on its own: a pattern that starts with a newline is searched for much faster).
_BLANK_LINE = re.compile(rb"\n[ \t\r\x0b\x0c]*\n")


def read_items(path: Path) -> Iterator[Piece]:
    """Resources in a file: NDJSON (one per line; a line may be a Bundle) or one JSON Bundle / resource."""
    with path.open("rb") as handle:
        yield from read_stream(handle, str(path))


def read_stream(handle: IO[bytes], source: str) -> Iterator[Piece]:
    number = 0
    first = b""
    while True:
        first = handle.readline()
        number += 1
        if not first or first.strip():
            break
    if not first:
        return
    try:
        orjson.loads(first)
    except orjson.JSONDecodeError:
        # Not one resource per line: one JSON document (a pretty-printed Bundle), or broken lines.
        data = first + handle.read()
        try:
            whole = orjson.loads(data)
        except orjson.JSONDecodeError:
            for offset, raw in enumerate(data.splitlines()):
                if raw.strip():
                    yield _Raw(source, number + offset, raw)
            return
        yield from _expand(source, number, whole, data)
        return
    # NDJSON: whole lines, a block at a time, split but not parsed (the lines are parsed where they are mapped).
    yield _Lines(source, number, [first.rstrip(b"\n")], 1)
    number += 1
    unfinished: list[bytes] = []  # the start of a line whose end is in a later block
    while True:
        block = handle.read(BLOCK)
        if not block:
            rest = b"".join(unfinished)
            if rest:
                yield _Lines(source, number, [rest], 0 if rest.isspace() else 1)
            return
        cut = block.rfind(b"\n") + 1
        if not cut:
            unfinished.append(block)
            continue
        whole_lines = b"".join([*unfinished, block[:cut]]) if unfinished else block[:cut]
        unfinished = [block[cut:]] if cut < len(block) else []
        lines = whole_lines.split(b"\n")
        lines.pop()  # what follows the last newline is in ``rest``
        count = len(lines)
        if not lines[0] or lines[0].isspace() or _BLANK_LINE.search(whole_lines):
            count = sum(1 for line in lines if line and not line.isspace())
        yield _Lines(source, number, lines, count)
        number += len(lines)


def _expand(source: str, line: int, res: Any, raw: bytes) -> Iterator[_Parsed | Refusal]:
    if not isinstance(res, dict) or not isinstance(res.get("resourceType"), str):
        yield Refusal(source, line, "?", [Issue("resourceType", "each line must be a FHIR resource", "structure")])
        return
    if res["resourceType"] == "Bundle":
        for n, entry in enumerate(res.get("entry") or []):
            inner = entry.get("resource") if isinstance(entry, dict) else None
            if not isinstance(inner, dict):
                yield Refusal(source, line, "Bundle", [Issue(f"Bundle.entry[{n}].resource", "is missing", "required")])
                continue
            body = orjson.dumps(inner, option=orjson.OPT_SORT_KEYS)
            yield _Parsed(f"{source} entry {n}", line, _digest(body), inner, _nul(body, inner))
        return
    yield _Parsed(source, line, _digest(raw), res, _nul(raw, res))


def _digest(raw: bytes) -> str:
    return hashlib.blake2b(raw.strip(), digest_size=16).hexdigest()


def prepare(item: _Raw | _Parsed, codecs: _Codecs) -> list[_Item | Refusal]:
    if isinstance(item, _Parsed):
        return [_map(item, codecs)]
    try:
        res = orjson.loads(item.raw)
    except orjson.JSONDecodeError as exc:
        return [Refusal(item.source, item.line, "?", [Issue("line", f"not JSON: {exc}", "structure")])]
    if isinstance(res, dict) and isinstance(res.get("resourceType"), str) and res["resourceType"] != "Bundle":
        return [_map(_Parsed(item.source, item.line, _digest(item.raw), res, _nul(item.raw, res)), codecs)]  # usually
    return [p if isinstance(p, Refusal) else _map(p, codecs) for p in _expand(item.source, item.line, res, item.raw)]


def prepare_chunk(chunk: list[Piece], encoding: tuple[str, str]) -> list[_Item | Refusal]:
    """Parse and map a chunk of lines, and encode the rows for the database (``encoding``: the driver's name and
    how rows travel, see ``_Codecs``): pure, so it runs in a worker process."""
    codecs = _codecs(*encoding)
    done: list[_Item | Refusal] = []
    for piece in chunk:
        if isinstance(piece, _Lines):
            for offset, raw in enumerate(piece.lines):
                if raw and not raw.isspace():
                    done.extend(prepare(_Raw(piece.source, piece.first + offset, raw), codecs))
        elif isinstance(piece, Refusal):
            done.append(piece)
        else:
            done.extend(prepare(piece, codecs))
    return done


def _map(parsed: _Parsed, codecs: _Codecs) -> _Item:
    """What the resource would become, from the resource alone (the record is consulted later, in batches)."""
    res = parsed.res
    kind = intern(str(res.get("resourceType")))
    ident = res.get("id")
    ident = ident if isinstance(ident, str) else ""
    meta: Res = res["meta"] if isinstance(res.get("meta"), dict) else {}
    version_id = intern(str(meta.get("versionId") or ""))
    head = (parsed.source, parsed.line, parsed.digest, kind, ident, version_id, parse_datetime(meta.get("lastUpdated")))
    try:
        if parsed.nul:
            raise Refused([Issue(kind, NUL_MESSAGE, "value")])
        if not ident or not FHIR_ID.match(ident) or len(ident) > MAX_ID:
            raise Refused(
                [
                    Issue(
                        f"{kind}.id",
                        f"bulk import needs each resource's id (at most {MAX_ID} letters, digits, - and .)",
                        "required",
                    )
                ]
            )
        if kind in PRODUCED_TYPES and not (kind == "Task" and BY_RESOURCE["Task"][0].matches(res)):
            return _Item(*head, "produced")
        tags = {
            t.get("code")
            for t in meta.get("tag") or []
            if isinstance(t, dict) and t.get("system") == codes.RECORD_TABLE
        }
        ledger = codecs.ledger.head((kind, ident, version_id, parsed.digest, f"{parsed.source}:{parsed.line}"[-500:]))
        if kind == "Patient":
            extra, fields = patient_fields(res)
            tagged = "patient_details" in tags
            return _Item(*head, "patient", "patient_details", tagged, None, fields, extra, ledger=ledger)
        if kind in ("Organization", "Practitioner"):
            if kind == "Organization":
                table, fields = organization_fields(res)
            else:
                table, fields = "staff", practitioner_fields(res)
            return _Item(*head, "directory", table, False, None, fields, ledger=ledger)
        mapper = mapper_for_resource(res)
        fields = from_resource(mapper, res)
        codec = codecs.table(mapper.name)
        template = codec.template
        fields["fact_id"] = ident
        shared = codecs.shared
        return _Item(
            *head,
            "fact",
            mapper.name,
            mapper.name in tags,
            None,
            None,
            None,
            shared(fields["patient_id"]),
            tuple([shared((c, fields[c])) for c in TEAM_COLUMNS if fields.get(c)]),
            tuple([shared((c, fields[c])) for c in STAFF_COLUMNS if fields.get(c)]),
            fields.get("amendment_reason", template["amendment_reason"]),
            codec.head([fields.get(name, template[name]) for name in codec.head_names]),
            ledger,
        )
    except Refused as exc:
        return _Item(*head, "refused", issues=exc.issues)


# --- how rows travel to the database ---------------------------------------------------------------------------

# The columns of a fact's row that only the record decides, and those of a ledger row (the writer adds them).
FACT_TAIL = ("version", "recorded_at", "amendment_reason")
LEDGER_TAIL = ("record_table", "record_id", "record_version", "received_at")
# An audit event's row: its content, then its place in the hash chain (``audit.chain.chain_rows``).
AUDIT_TAIL = ("seq", "prev_hash", "event_hash")
AUDIT_NAMES = (*audit_chain.CONTENT, *AUDIT_TAIL)
# Text COPY: these characters are written escaped (as psycopg does), NULL is \N, booleans t / f.
_COPY_SPECIAL = re.compile("[\\\\\b\t\n\v\f\r]")
_COPY_ESCAPES = {"\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\v": "\\v", "\f": "\\f", "\r": "\\r"}


def _copy_escape(text: str) -> str:
    if text.isprintable() and "\\" not in text:  # the usual case: nothing to escape
        return text
    return _COPY_SPECIAL.sub(lambda m: _COPY_ESCAPES[m.group()], text)


def _copy_text(value: Any) -> str:
    """One value in PostgreSQL's text COPY format, as psycopg writes the same Python value (a JSON column's value
    goes through ``_copy_json``). The usual types are recognised by identity, the rest as psycopg would."""
    kind = value.__class__
    if kind is str:
        return _copy_escape(value)
    if value is None:
        return "\\N"
    if kind is bool:
        return "t" if value else "f"
    if kind is int:
        return str(value)
    if kind is datetime or kind is date:
        return value.isoformat()  # type: ignore[no-any-return]
    if isinstance(value, str):
        return _copy_escape(value)
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return _copy_escape(str(value))


def _copy_json(value: Any) -> str:
    return "\\N" if value is None else _copy_escape(orjson.dumps(value).decode())


class _Codec:
    """One table's rows as they travel to the database, in two parts: the head (what the resource alone decides,
    encoded where it is mapped, in a worker process) and the tail (``tail``: what the record decides, encoded by
    the writer). ``copy``: a line of PostgreSQL's text COPY format (bytes); ``params``: the driver's parameters,
    SQLAlchemy's bind processors applied (exactly what ``insert(table)`` would send); ``plain``: the values
    themselves, inserted through SQLAlchemy."""

    def __init__(self, table: Table, tail: tuple[str, ...], mode: str, dialect: Dialect | None) -> None:
        self.table = table
        self.mode = mode
        self.head_names = tuple(c.name for c in table.columns if c.name != "id" and c.name not in tail)
        self.names = (*self.head_names, *tail)
        self.template = defaults(table)
        columns = [table.c[name] for name in self.names]
        size = len(self.head_names)
        json = [n for n, c in enumerate(columns) if isinstance(c.type, JSON)]
        self._json_head = [n for n in json if n < size]
        self._json_tail = [n - size for n in json if n >= size]
        processors: list[tuple[int, Callable[[Any], Any]]] = []
        if mode == "params" and dialect is not None:
            for n, column in enumerate(columns):
                processor = column.type.dialect_impl(dialect).bind_processor(dialect)
                if processor is not None:
                    processors.append((n, processor))
        self._head_processors = [(n, p) for n, p in processors if n < size]
        self._tail_processors = [(n - size, p) for n, p in processors if n >= size]
        listing = ", ".join(f'"{name}"' for name in self.names)
        self.copy_sql = f'COPY "{table.name}" ({listing}) FROM STDIN'
        self.insert_sql = f'INSERT INTO "{table.name}" ({listing}) VALUES ({", ".join("?" * len(self.names))})'

    def head(self, values: Sequence[Any]) -> Any:
        if self.mode == "copy":
            return self._copy(values, self._json_head, "\t")
        return self._processed(values, self._head_processors)

    def row(self, values: Row) -> Any:
        """A whole row from its values by column name (the table's defaults for the rest)."""
        template = self.template
        head = self.head([values.get(name, template[name]) for name in self.head_names])
        return head + self.tail([values.get(name, template[name]) for name in self.names[len(self.head_names) :]])

    def tail(self, values: Sequence[Any]) -> Any:
        if self.mode == "copy":
            return self._copy(values, self._json_tail, "\n")
        return self._processed(values, self._tail_processors)

    @staticmethod
    def _copy(values: Sequence[Any], json: list[int], end: str) -> bytes:
        # Strings that need no escaping (most values) are taken as they are, without a call.
        texts = [v if v.__class__ is str and v.isprintable() and "\\" not in v else _copy_text(v) for v in values]
        for n in json:
            texts[n] = _copy_json(values[n])
        return ("\t".join(texts) + end).encode()

    @staticmethod
    def _processed(values: Sequence[Any], processors: list[tuple[int, Callable[[Any], Any]]]) -> tuple[Any, ...]:
        if not processors:
            return tuple(values)
        done = list(values)
        for position, processor in processors:
            done[position] = processor(done[position])
        return tuple(done)

    def write(self, session: Session, rows: list[Any]) -> None:
        """Insert rows (each its head and tail joined): COPY on PostgreSQL, executemany elsewhere."""
        if self.mode == "copy":
            raw = session.connection().connection.driver_connection
            assert raw is not None
            with raw.cursor() as cursor, cursor.copy(self.copy_sql) as copy:
                copy.write(b"".join(rows))
        elif self.mode == "params":
            session.connection().exec_driver_sql(self.insert_sql, rows)
        else:
            session.execute(insert(self.table), [dict(zip(self.names, row, strict=True)) for row in rows])


class _Codecs:
    """Every table's ``_Codec`` for one database driver, made once per process."""

    def __init__(self, drivername: str, mode: str) -> None:
        self.mode = mode
        self._shared: dict[Any, Any] = {}
        self.dialect = create_engine(f"{drivername}://").dialect if mode == "params" else None
        self._tables: dict[str, _Codec] = {}
        self.ledger = _Codec(FhirImportLedger.__table__, LEDGER_TAIL, mode, self.dialect)  # type: ignore[arg-type]
        self.audit = _Codec(audit_chain.EVENTS, AUDIT_TAIL, mode, self.dialect)

    def shared(self, value: T) -> T:
        """One object for equal values (people, teams, staff named again and again), so that a chunk of items is
        pickled with each once, and unpickled into fewer objects."""
        if len(self._shared) > 100_000:
            self._shared.clear()
        return self._shared.setdefault(value, value)  # type: ignore[no-any-return]

    def table(self, name: str) -> _Codec:
        codec = self._tables.get(name)
        if codec is None:
            codec = self._tables[name] = _Codec(BY_TABLE[name][0].table, FACT_TAIL, self.mode, self.dialect)
        return codec


@cache
def _codecs(drivername: str, mode: str) -> _Codecs:
    return _Codecs(drivername, mode)


def encoding_for(engine: Engine) -> tuple[str, str]:
    """(driver name, mode) for ``_Codecs``: COPY on PostgreSQL through psycopg; the driver's parameters on SQLite
    (when the engine encodes JSON the default way); otherwise plain values through SQLAlchemy."""
    dialect = engine.dialect
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        return engine.url.drivername, "copy"
    if (
        dialect.name == "sqlite"
        and dialect.paramstyle == "qmark"
        and getattr(dialect, "_json_serializer", None) is None
    ):
        return engine.url.drivername, "params"
    return engine.url.drivername, "plain"


def files_in(path: Path) -> list[Path]:
    """A file, or every .ndjson / .json file in a folder: the directory first, then people, then facts."""
    if path.is_file():
        return [path]
    found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in (".ndjson", ".json", ".jsonl"))
    return sorted(found, key=lambda p: (_rank(p.name.split(".")[0]), p.name))


class Importer:
    """Imports resources in batches; each batch commits with its ledger rows, or not at all. With ``workers``,
    parsing and mapping run in that many worker processes while this one writes."""

    def __init__(
        self,
        engine: Engine,
        clock: Clock,
        *,
        actor: Actor = IMPORTER,
        ids: IdSource | None = None,
        batch_size: int = 5000,
        safety_net: bool = True,
        workers: int = 0,
        after_batch: Callable[[ImportReport], None] | None = None,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.actor = actor
        self.ids = ids or RandomIds()
        self.batch_size = batch_size
        self.safety_net = safety_net
        self.workers = workers
        self.after_batch = after_batch
        self.report = ImportReport()
        self.encoding = encoding_for(engine)
        self.codecs = _codecs(*self.encoding)
        with Session(engine) as session:
            self.patients = set(session.scalars(select(PATIENTS.c.id)))
            self.teams = set(session.scalars(select(TEAMS.c.id)))
            self.staff = set(session.scalars(select(STAFF.c.id)))
            self.organisations = set(session.scalars(select(ORGANISATIONS.c.id)))

    def run(self, items: Iterable[Piece]) -> ImportReport:
        for prepared in self._prepared(items):
            batch = []
            for item in prepared:
                if isinstance(item, Refusal):
                    self.report.read += 1
                    self.report.refused.append(item)
                else:
                    batch.append(item)
            if batch:
                self._batch(batch)
        return self.report

    def _prepared(self, items: Iterable[Piece]) -> Iterator[list[_Item | Refusal]]:
        chunks = _chunks(items, self.batch_size)
        if self.workers <= 0:
            yield from (prepare_chunk(chunk, self.encoding) for chunk in chunks)
            return
        from concurrent.futures import Future, ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=self.workers) as pool:
            pending: list[Future[list[_Item | Refusal]]] = []
            for chunk in chunks:
                pending.append(pool.submit(prepare_chunk, chunk, self.encoding))
                if len(pending) > self.workers + 1:
                    yield pending.pop(0).result()
            for future in pending:
                yield future.result()

    # -- one batch, one transaction ------------------------------------------------------------------------------

    def _batch(self, items: list[_Item]) -> None:
        items = sorted(items, key=lambda i: _rank(i.kind))
        self.report.read += len(items)
        now = self.clock.now()
        with Session(self.engine) as session, session.begin():
            ctx = Context(session, self.actor, self.clock, self.ids, audit_reads=False)
            known = self._ledger(session, items)
            work = _Work(self, session, now)
            work.prefetch_all(items)
            for item in items:
                key = (item.kind, item.ident, item.version_id)
                if (key, item.digest) in known["exact"]:
                    self.report.unchanged += 1
                    continue
                known["exact"].add((key, item.digest))
                if item.what == "refused":
                    self._refuse(item, item.issues or [])
                    continue
                if item.version_id and key in known["versions"]:
                    self._refuse(
                        item,
                        [
                            Issue(
                                f"{item.kind}.meta.versionId",
                                f"version {item.version_id} of "
                                f"{item.kind}/{item.ident} was imported before with different content",
                                "conflict",
                            )
                        ],
                    )
                    continue
                if item.what == "produced":
                    self.report.skipped += 1
                    continue
                try:
                    work.add(item)
                except Refused as exc:
                    self._refuse(item, exc.issues)
            work.flush(ctx)
            if self.safety_net and work.people:
                from safetynet.tasks.runner import reconcile_people

                result = reconcile_people(ctx, sorted(work.people))
                self.report.tasks_opened += len(result.opened)
        self.patients |= work.new_patients
        self.teams |= work.new_teams
        self.staff |= work.new_staff
        self.organisations |= work.new_organisations
        self.report.imported += work.count
        self.report.batches += 1
        if self.after_batch:
            self.after_batch(self.report)

    def _refuse(self, item: _Item, issues: list[Issue]) -> None:
        self.report.refused.append(Refusal(item.source, item.line, f"{item.kind}/{item.ident}", issues))

    def _ledger(self, session: Session, items: list[_Item]) -> dict[str, set[Any]]:
        ids = sorted({i.ident for i in items if i.ident})
        exact: set[Any] = set()
        versions: set[Any] = set()
        for start in range(0, len(ids), 5000):
            stmt = select(
                LEDGER.c.resource_type, LEDGER.c.resource_id, LEDGER.c.version_id, LEDGER.c.content_hash
            ).where(one_of(session, LEDGER.c.resource_id, ids[start : start + 5000]))
            for kind, ident, version_id, digest in session.execute(stmt):
                exact.add(((kind, ident, version_id), digest))
                if version_id:
                    versions.add((kind, ident, version_id))
        return {"exact": exact, "versions": versions}


def _chunks(pieces: Iterable[Piece], size: int) -> Iterator[list[Piece]]:
    """Pieces in chunks of ``size`` resources (lines, or resources of a JSON document): a chunk is one batch."""
    chunk: list[Piece] = []
    held = 0
    for piece in pieces:
        if isinstance(piece, _Lines):
            while held + piece.counted > size:
                take = size - held
                cut = take if piece.counted == len(piece.lines) else _after(piece.lines, take)
                chunk.append(_Lines(piece.source, piece.first, piece.lines[:cut], take))
                yield chunk
                chunk, held = [], 0
                piece = _Lines(piece.source, piece.first + cut, piece.lines[cut:], piece.counted - take)
            if not piece.counted:
                continue
            chunk.append(piece)
            held += piece.counted
        else:
            chunk.append(piece)
            held += 1
        if held >= size:
            yield chunk
            chunk, held = [], 0
    if chunk:
        yield chunk


def _after(lines: list[bytes], wanted: int) -> int:
    """Where the ``wanted``-th line that is not blank ends."""
    seen = 0
    for n, line in enumerate(lines):
        if line and not line.isspace():
            seen += 1
            if seen == wanted:
                return n + 1
    return len(lines)


class _Work:
    """The rows one batch will insert, checked against the record and against each other."""

    def __init__(self, importer: Importer, session: Session, now: datetime) -> None:
        self.importer = importer
        self.session = session
        self.now = now
        self.codecs = importer.codecs
        self.copy = self.codecs.mode == "copy"
        self.now_text = _copy_text(now)  # the ledger's received_at, encoded once a batch
        self.now_param = None if self.copy else self.codecs.ledger.tail((None, None, None, now))[-1]
        self.rows: dict[str, list[Row]] = defaultdict(list)  # the directory and people, as dicts
        self.encoded: dict[str, list[Any]] = defaultdict(list)  # facts, encoded (``_Codec``)
        self.ledger: list[Any] = []  # encoded
        self.people: set[str] = set()
        self.per_person: dict[str, int] = defaultdict(int)
        self.count = 0
        self.new_patients: set[str] = set()
        self.new_teams: set[str] = set()
        self.new_staff: set[str] = set()
        self.new_organisations: set[str] = set()
        self.updates: list[tuple[Any, str, Row]] = []
        self._latest: dict[str, dict[str, tuple[int, datetime, str]]] = defaultdict(dict)
        self.details_fact_of: dict[str, str] = {}
        self.new_numbers: dict[str, str] = {}
        self.new_number_of: dict[str, str] = {}

    def has_patient(self, ident: str) -> bool:
        return ident in self.importer.patients or ident in self.new_patients

    def has_team(self, ident: str) -> bool:
        return ident in self.importer.teams or ident in self.new_teams

    def has_staff(self, ident: str) -> bool:
        return ident in self.importer.staff or ident in self.new_staff

    def prefetch_all(self, items: list[_Item]) -> None:
        """The newest version of every fact the batch names, and the NHS numbers it registers: a few queries."""
        by_table: dict[str, list[str]] = defaultdict(list)
        people: list[str] = []
        numbers: list[str] = []
        for item in items:
            if item.what == "fact":
                by_table[item.table].append(item.ident)
            elif item.what == "patient":
                if item.ident in self.importer.patients:
                    people.append(item.ident)
                else:
                    numbers.append(str((item.extra or {}).get("nhs_number")))
        for table, ids in by_table.items():
            self._prefetch(BY_TABLE[table][0].table, table, sorted(set(ids)), by_patient=False)
        if people:
            self._prefetch(DETAILS, "patient_details", sorted(set(people)), by_patient=True)
        self.registered: dict[str, str] = {}
        if numbers:
            stmt = select(PATIENTS.c.nhs_number, PATIENTS.c.id).where(
                one_of(self.session, PATIENTS.c.nhs_number, sorted(set(numbers)))
            )
            self.registered = {str(number): str(ident) for number, ident in self.session.execute(stmt)}

    def _prefetch(self, t: Any, table: str, keys: list[str], *, by_patient: bool) -> None:
        known = self._latest[table]
        for start in range(0, len(keys), 5000):
            chunk = keys[start : start + 5000]
            key = t.c.patient_id if by_patient else t.c.fact_id
            newest = (
                select(t.c.fact_id, func.max(t.c.version).label("version"))
                .where(one_of(self.session, key, chunk))
                .group_by(t.c.fact_id)
            ).subquery()
            stmt = select(t.c.fact_id, t.c.version, t.c.recorded_at, t.c.patient_id).join(
                newest, (newest.c.fact_id == t.c.fact_id) & (newest.c.version == t.c.version)
            )
            for fact_id, version, recorded_at, patient_id in self.session.execute(stmt):
                known[fact_id] = (version, recorded_at, patient_id)
                if by_patient:
                    self.details_fact_of[patient_id] = fact_id

    def add(self, item: _Item) -> None:
        if item.what == "patient":
            self._patient(item)
        elif item.what == "directory":
            self._directory(item)
        else:
            self._fact(item)

    def _record(self, item: _Item, table: str, record_id: str, version: int) -> None:
        tail: Any
        if self.copy:  # the usual case, written out: what the codec's tail would make
            tail = f"{table}\t{_copy_escape(record_id)}\t{version}\t{self.now_text}\n".encode()
        else:  # received_at is the same for the whole batch: encoded once
            tail = (*self.codecs.ledger.tail((table, record_id, version, None))[:-1], self.now_param)
        self.ledger.append(item.ledger + tail)
        self.count += 1

    def _recorded_at(self, item: _Item, after: datetime | None) -> datetime:
        stated = item.last_updated
        moment = stated if stated is not None and stated <= self.now else self.now
        if after is not None and moment < after:
            raise Refused(
                [
                    Issue(
                        f"{item.kind}.meta.lastUpdated",
                        "this version would be recorded before the version it follows",
                        "business-rule",
                    )
                ]
            )
        return moment

    def _next_version(self, item: _Item, fact_id: str) -> tuple[int, datetime | None, str | None]:
        latest = self._latest[item.table].get(fact_id)
        current = latest[0] if latest else 0
        wanted = whole_number(item.version_id) if item.tagged else None
        if wanted is not None:
            if wanted <= current:
                raise Refused(
                    [
                        Issue(
                            f"{item.kind}.meta.versionId",
                            f"version {wanted} of {item.kind}/{item.ident} is already in the record with other content",
                            "conflict",
                        )
                    ]
                )
            if wanted != current + 1:
                raise Refused(
                    [
                        Issue(
                            f"{item.kind}.meta.versionId",
                            f"version {current + 1} must come before version {wanted}",
                            "business-rule",
                        )
                    ]
                )
            return wanted, latest[1] if latest else None, latest[2] if latest else None
        return current + 1, latest[1] if latest else None, latest[2] if latest else None

    def _fact(self, item: _Item) -> None:
        issues = []
        patient = item.patient
        if patient and not self.has_patient(patient):
            subject = BY_TABLE[item.table][0].subject
            issues.append(
                Issue(f"{item.kind}.{subject}", f"Patient/{patient} is not known to this record", "not-found")
            )
        for column, team in item.teams:
            if not self.has_team(team):
                issues.append(
                    Issue(f"{item.kind}.{column}", f"Organization/{team} is not a team of this trust", "not-found")
                )
        for column, staff in item.staff:
            if not self.has_staff(staff):
                issues.append(
                    Issue(f"{item.kind}.{column}", f"Practitioner/{staff} is not a member of staff here", "not-found")
                )
        if issues:
            raise Refused(issues)
        version, previous_at, previous_patient = self._next_version(item, item.ident)
        if previous_patient is not None and previous_patient != patient:
            subject = BY_TABLE[item.table][0].subject
            raise Refused([Issue(f"{item.kind}.{subject}", "a fact cannot move to another person", "business-rule")])
        recorded_at = self._recorded_at(item, previous_at)
        amendment = None if version == 1 else item.amendment or f"updated by FHIR import from {item.source}"[:1000]
        if self.copy:  # the usual case, written out: what the codec's tail would make
            reason = "\\N" if amendment is None else _copy_escape(amendment)
            tail = f"{version}\t{recorded_at.isoformat()}\t{reason}\n".encode()
        else:
            tail = self.codecs.table(item.table).tail((version, recorded_at, amendment))
        self.encoded[item.table].append(item.row + tail)
        assert patient is not None  # from_resource requires it
        self._latest[item.table][item.ident] = (version, recorded_at, patient)
        self._record(item, item.table, item.ident, version)
        self.people.add(patient)
        self.per_person[patient] += 1

    def _patient(self, item: _Item) -> None:
        patient_f, details_f, ident = item.extra or {}, item.fields or {}, item.ident
        number = patient_f["nhs_number"]
        exists = self.has_patient(ident)
        if not exists:
            clash = self.registered.get(number) or self.new_numbers.get(number)
            if clash:
                raise Refused(
                    [Issue("Patient.identifier", f"NHS number {number} is already Patient/{clash}", "duplicate")]
                )
        else:
            current = self.new_number_of.get(ident) or self.session.scalar(
                select(PATIENTS.c.nhs_number).where(PATIENTS.c.id == ident)
            )
            if current != number:
                raise Refused([Issue("Patient.identifier", "a person's NHS number cannot change", "business-rule")])
        fact_id = details_f.get("fact_id") or self.details_fact_of.get(ident) or self.importer.ids.new_id()
        version, previous_at, _ = self._next_version(item, fact_id)
        recorded_at = self._recorded_at(item, previous_at)
        if not exists:
            registered = patient_f.get("recorded_at")
            registered = registered if registered is not None and registered <= recorded_at else recorded_at
            self.rows["patients"].append({"id": ident, "nhs_number": number, "recorded_at": registered})
            self.new_patients.add(ident)
            self.new_numbers[number] = ident
            self.new_number_of[ident] = number
        row = _template("patient_details") | {k: v for k, v in details_f.items() if k in DETAILS.c}
        row |= {"fact_id": fact_id, "version": version, "patient_id": ident, "recorded_at": recorded_at}
        row["occurred_at"] = row.get("occurred_at") or recorded_at
        if version == 1:
            row["amendment_reason"] = None
        elif not row.get("amendment_reason"):
            row["amendment_reason"] = f"updated by FHIR import from {item.source}"
        row.pop("id", None)
        self.details_fact_of[ident] = fact_id
        self.rows["patient_details"].append(row)
        self._latest["patient_details"][fact_id] = (version, recorded_at, ident)
        self._record(item, "patient_details", fact_id, version)
        self.people.add(ident)
        self.per_person[ident] += 1

    def _directory(self, item: _Item) -> None:
        table_name, fields, ident = item.table, dict(item.fields or {}), item.ident
        fields["id"] = ident
        if fields.get("created_at") is None or fields["created_at"] > self.now:
            fields["created_at"] = self.now
        organisations = self.importer.organisations | self.new_organisations
        issues = []
        if table_name == "teams":
            organisation = fields.get("organisation_id") or next(iter(sorted(organisations)), None)
            if organisation is None or organisation not in organisations:
                issues.append(
                    Issue(
                        "Organization.partOf",
                        "a team is part of the trust: import the trust's Organization first",
                        "not-found",
                    )
                )
            fields["organisation_id"] = organisation
        if table_name == "staff" and fields.get("team_id") and not self.has_team(fields["team_id"]):
            issues.append(
                Issue(
                    "Practitioner.extension",
                    f"Organization/{fields['team_id']} is not a team of this trust",
                    "not-found",
                )
            )
        if issues:
            raise Refused(issues)
        known = {
            "teams": self.importer.teams,
            "staff": self.importer.staff,
            "organisations": self.importer.organisations,
        }[table_name]
        table = {"teams": TEAMS, "staff": STAFF, "organisations": ORGANISATIONS}[table_name]
        if ident in known:
            existing = self.session.execute(select(table).where(table.c.id == ident)).mappings().first()
            changes = {
                k: v
                for k, v in fields.items()
                if existing is not None and k not in ("id", "created_at") and existing[k] != v
            }
            if changes:
                self.updates.append((table, ident, changes))
        elif not any(r["id"] == ident for r in self.rows[table_name]):
            self.rows[table_name].append(fields)
            {"teams": self.new_teams, "staff": self.new_staff, "organisations": self.new_organisations}[table_name].add(
                ident
            )
        self._record(item, table_name, ident, 1)

    def flush(self, ctx: Context) -> None:
        """Insert everything, in an order that satisfies the foreign keys, with the ledger and the audit."""
        tables = {
            "organisations": ORGANISATIONS,
            "teams": TEAMS,
            "staff": STAFF,
            "patients": PATIENTS,
            "patient_details": DETAILS,
        }
        for name, table in tables.items():
            rows = self.rows.get(name)
            if rows:
                write_rows(self.session, table, rows)
        for name in BY_TABLE:
            encoded = self.encoded.get(name)
            if encoded:
                self.codecs.table(name).write(self.session, encoded)
        for table, ident, changes in self.updates:
            self.session.execute(update(table).where(table.c.id == ident).values(**changes))
        if self.ledger:
            self.codecs.ledger.write(self.session, self.ledger)
        audit = [
            {
                "at": self.now,
                "actor_name": ctx.actor.name,
                "actor_role": str(ctx.actor.role),
                "actor_staff_id": ctx.actor.staff_id,
                "action": "fhir_import",
                "entity": "fhir",
                "entity_id": None,
                "patient_id": person,
                "purpose": ctx.actor.purpose,
                "detail": f"{count} resource version(s) imported",
            }
            for person, count in sorted(self.per_person.items())
        ]
        if not audit:
            return
        # Chained like every other event (the head moves in this transaction), so `audit verify` holds after an
        # import; a plain insert would leave rows outside the chain.
        if self.codecs.mode != "copy":
            audit_chain.append_rows(self.session.connection(), audit)
            return
        chained = audit_chain.chain_rows(
            self.session.connection(), [tuple(row[name] for name in audit_chain.CONTENT) for row in audit]
        )
        codec = self.codecs.audit
        codec.write(self.session, [codec.row(dict(zip(AUDIT_NAMES, row, strict=True))) for row in chained])


def one_of(session: Session, column: Any, values: list[str]) -> Any:
    """``column IN values``: one array parameter on PostgreSQL (thousands of parameters are slow to send)."""
    if session.connection().dialect.name == "postgresql":
        return column == any_(bindparam("values", values, type_=ARRAY(String)))
    return column.in_(values)


def write_rows(session: Session, table: Any, rows: list[Row]) -> None:
    """Insert rows: COPY on PostgreSQL (several times faster than executemany), executemany elsewhere."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        session.execute(insert(table), rows)
        return
    columns = [c for c in table.c if not (c.name == "id" and c.autoincrement is True and isinstance(c.type, Integer))]
    names = [c.name for c in columns]
    json_columns = {c.name for c in columns if isinstance(c.type, JSON)}
    raw = connection.connection.driver_connection
    assert raw is not None
    listing = ", ".join(f'"{n}"' for n in names)
    with raw.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({listing}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row(
                [
                    (orjson.dumps(row.get(n)).decode() if row.get(n) is not None else None)
                    if n in json_columns
                    else row.get(n)
                    for n in names
                ]
            )


_TEMPLATES: dict[str, Row] = {}


def _template(table: str) -> Row:
    if table not in _TEMPLATES:
        _TEMPLATES[table] = defaults(DETAILS if table == "patient_details" else BY_TABLE[table][0].table)
    return dict(_TEMPLATES[table])


def import_paths(
    engine: Engine,
    paths: Iterable[Path],
    clock: Clock,
    *,
    batch_size: int = 5000,
    safety_net: bool = True,
    workers: int = 0,
    actor: Actor = IMPORTER,
    after_batch: Callable[[ImportReport], None] | None = None,
) -> ImportReport:
    importer = Importer(
        engine,
        clock,
        batch_size=batch_size,
        safety_net=safety_net,
        workers=workers,
        actor=actor,
        after_batch=after_batch,
    )

    def items() -> Iterator[Piece]:
        for path in paths:
            for file in files_in(path):
                yield from read_items(file)

    return importer.run(items())
